import { subscribe, type Database, type Subscription } from '@aharadar/db';
import type { Kysely } from 'kysely';
import { feedIdentity } from './feed-identity.js';

export interface AddSourceInput {
  topicId: number;
  /** For the error message when the topic already follows the feed. */
  topicName?: string;
  type: string;
  /** The connector configuration as given (validated and canonicalised here). */
  config: unknown;
  name: string;
  weight?: number;
}

/**
 * Subscribes a topic to the feed a source configuration names — the feed created on first
 * use, shared afterwards (DESIGN §6.1). The one way sources are added: the CLI, the fault
 * suite, the benchmarks and the tests all go through it, so identity is computed one way.
 */
export async function addSource(db: Kysely<Database>, input: AddSourceInput): Promise<Subscription> {
  const identity = feedIdentity(input.type, input.config);
  return subscribe(
    db,
    { topicId: input.topicId, feed: { type: identity.type, key: identity.key, config: identity.config }, name: input.name, weight: input.weight ?? 1 },
    input.topicName ?? `#${input.topicId}`,
  );
}
