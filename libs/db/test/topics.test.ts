/**
 * A rejected `radar topic add` (the name is taken) must write nothing — not even an id drawn
 * from the topics sequence: the fault suite (scenario 6) compares `pg_dump` before and after
 * bad operator input. Real Postgres.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { defaultAnchor } from '@aharadar/scheduling';
import { insertTopic, TopicExistsError, type NewTopicInput } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/services.js';

function topic(name: string): NewTopicInput {
  const createdAt = new Date();
  return {
    name,
    schedule: { kind: 'every', everySeconds: 3600, anchor: defaultAnchor(createdAt, 'UTC') },
    timeZone: 'UTC',
    keywords: [],
    excludeKeywords: [],
    digestSize: 20,
    maxPerSource: 10,
    createdAt,
  };
}

describe('insertTopic', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase({ maxConnections: 2 });
  });
  after(async () => database.drop());

  it('rejects a taken name without drawing from the id sequence', async () => {
    const first = await insertTopic(database.db, topic('taken'));
    const sequence = async () => (await database.sql<{ last_value: string }[]>`SELECT last_value FROM topics_id_seq`)[0]?.last_value;
    const before = await sequence();
    await assert.rejects(insertTopic(database.db, topic('taken')), TopicExistsError);
    await assert.rejects(insertTopic(database.db, topic('taken')), TopicExistsError);
    assert.equal(await sequence(), before, 'a rejected insert advanced the sequence');
    const second = await insertTopic(database.db, topic('other'));
    assert.equal(second.id, first.id + 1);
  });
});
