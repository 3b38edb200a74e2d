import type { Kysely, Transaction } from 'kysely';
import type { Database, Source } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

export interface NewSourceInput {
  topicId: number;
  type: string;
  name: string;
  config: unknown;
  weight: number;
}

export async function insertSource(db: Executor, input: NewSourceInput): Promise<Source> {
  return db
    .insertInto('sources')
    .values({ topic_id: input.topicId, type: input.type, name: input.name, config: input.config as object, weight: input.weight })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface SourceListing extends Source {
  topic_name: string;
}

export async function listSources(db: Executor, options: { topicId?: number } = {}): Promise<SourceListing[]> {
  let query = db
    .selectFrom('sources')
    .innerJoin('topics', 'topics.id', 'sources.topic_id')
    .selectAll('sources')
    .select('topics.name as topic_name')
    .orderBy('topics.name')
    .orderBy('sources.id');
  if (options.topicId !== undefined) query = query.where('sources.topic_id', '=', options.topicId);
  return query.execute();
}

export async function findSource(db: Executor, id: number): Promise<Source | undefined> {
  return db.selectFrom('sources').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteSource(db: Executor, id: number): Promise<boolean> {
  const result = await db.deleteFrom('sources').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function enabledSources(db: Executor, topicId: number): Promise<Source[]> {
  return db.selectFrom('sources').selectAll().where('topic_id', '=', topicId).where('enabled', '=', true).orderBy('id').execute();
}

/** Sources whose last fetch failed, worst first: for `radar status`. */
export async function failingSources(db: Executor, limit = 20): Promise<SourceListing[]> {
  return db
    .selectFrom('sources')
    .innerJoin('topics', 'topics.id', 'sources.topic_id')
    .selectAll('sources')
    .select('topics.name as topic_name')
    .where('sources.last_status', '=', 'error')
    .orderBy('sources.consecutive_failures', 'desc')
    .limit(limit)
    .execute();
}
