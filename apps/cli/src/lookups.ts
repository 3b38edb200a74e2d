import type { Database, Topic } from '@aharadar/db';
import type { Kysely } from 'kysely';
import { CliError } from './errors.js';

/** A topic by name, or the one-line error every command gives for a missing topic. */
export async function requireTopic(db: Kysely<Database>, name: string): Promise<Topic> {
  const { findTopicByName } = await import('@aharadar/db');
  const topic = await findTopicByName(db, name.trim());
  if (!topic) throw new CliError(`no topic named "${name.trim()}" (see \`radar topic list\`)`);
  return topic;
}
