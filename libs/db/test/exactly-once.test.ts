/**
 * The database guards of invariants 2 and 3 (DESIGN §5), each on its own — without the
 * per-topic lock and the run's early status check that hide them in the worker tests:
 * concurrent persists of one window, claims across windows, the unique digest per window, and
 * startWindowRun on rows in every state. Real Postgres; concurrency is lined up behind a lock
 * the test holds, never by sleeping.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ClaimConflictError, persistDigest, startWindowRun, type DigestInput, type WindowRow } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/services.js';
import { addTopic, addWindow, entry, follow, holdLocks, HOUR, MINUTE, see, waitForLockWaiters } from './support.js';

const BASE = new Date('2024-03-04T10:00:00Z');

function digestInput(window: WindowRow, itemIds: number[]): DigestInput {
  return {
    window,
    status: itemIds.length > 0 ? 'complete' : 'empty',
    items: itemIds.map((itemId, i) => ({ itemId, rank: i + 1, score: 1, breakdown: { test: true } })),
    candidateIds: itemIds,
    sourcesTotal: 1,
    sourcesFailed: 0,
    durationMs: 5,
    finishedAt: new Date(),
  };
}

async function count(database: TestDatabase, query: 'digests' | 'digest_items' | 'topic_item_claims'): Promise<number> {
  const rows = await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${database.sql(query)}`;
  return rows[0]?.n ?? 0;
}

describe('exactly one digest per window (invariant 2), in the database', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase({ maxConnections: 8 });
  });
  after(async () => database.drop());
  beforeEach(async () => {
    await database.sql`TRUNCATE topics, feeds, items, windows, digests RESTART IDENTITY CASCADE`;
  });

  async function topicWithItems(n: number) {
    const topic = await addTopic(database, 'exact', new Date(BASE.getTime() - 48 * HOUR));
    const feed = await follow(database, topic, 'https://exact.example/rss', new Date(BASE.getTime() - 48 * HOUR));
    const ids: number[] = [];
    for (let i = 0; i < n; i++) ids.push(await see(database, feed, entry(`e${i}`, new Date(BASE.getTime() + i * MINUTE)), new Date(BASE.getTime() + 30 * MINUTE)));
    return { topic, ids };
  }

  it('writes one digest and one set of claims when two persists of one window run at the same time', async () => {
    const { topic, ids } = await topicWithItems(3);
    const window = await addWindow(database, topic.id, BASE, new Date(BASE.getTime() + HOUR), 'running');
    // Hold the ledger row so both persists start and wait on it; then let them race.
    const lock = await holdLocks(database, (tx) => tx`SELECT id FROM windows WHERE id = ${window.id} FOR UPDATE`);
    const both = Promise.allSettled([persistDigest(database.db, digestInput(window, ids)), persistDigest(database.db, digestInput(window, ids))]);
    await waitForLockWaiters(database, 2);
    await lock.release();
    const outcomes = await both;
    const values = outcomes.map((o) => (o.status === 'fulfilled' ? o.value : { rejected: String(o.reason) }));
    assert.equal(values.filter((v) => 'persisted' in v && v.persisted).length, 1, `one persist writes: ${JSON.stringify(values)}`);
    assert.equal(values.filter((v) => 'reason' in v && v.reason === 'already_finished').length, 1, `the other finds the window finished: ${JSON.stringify(values)}`);
    assert.equal(await count(database, 'digests'), 1);
    assert.equal(await count(database, 'digest_items'), 3);
    const claims = await database.sql<{ item_id: number; window_id: number }[]>`SELECT item_id, window_id FROM topic_item_claims ORDER BY item_id`;
    assert.deepEqual(claims.map((c) => [c.item_id, c.window_id]), ids.map((id) => [id, window.id]));
    const [row] = await database.sql<{ status: string; digest_id: number }[]>`SELECT status, digest_id FROM windows WHERE id = ${window.id}`;
    assert.equal(row?.status, 'succeeded');
  });

  it('refuses a second digest row for a window (digests_window_key)', async () => {
    const { topic } = await topicWithItems(0);
    const window = await addWindow(database, topic.id, BASE, new Date(BASE.getTime() + HOUR), 'running');
    const written = await persistDigest(database.db, digestInput(window, []));
    assert.equal(written.persisted, true);
    await assert.rejects(
      database.sql`INSERT INTO digests (window_id, topic_id, window_start, window_end, trigger, status, item_count, candidate_count, sources_total, sources_failed, duration_ms)
                   VALUES (${window.id}, ${topic.id}, ${window.window_start}, ${window.window_end}, 'scheduled', 'empty', 0, 0, 0, 0, 0)`,
      (error: { code?: string; constraint_name?: string }) => error.code === '23505' && error.constraint_name === 'digests_window_key',
    );
  });

  it('writes nothing for a finished window (a late duplicate)', async () => {
    const { topic, ids } = await topicWithItems(2);
    const window = await addWindow(database, topic.id, BASE, new Date(BASE.getTime() + HOUR), 'running');
    assert.equal((await persistDigest(database.db, digestInput(window, ids))).persisted, true);
    assert.deepEqual(await persistDigest(database.db, digestInput(window, ids)), { persisted: false, reason: 'already_finished' });
    assert.equal(await count(database, 'digests'), 1);
    assert.equal(await count(database, 'digest_items'), 2);
  });

  it('fails a persist whose candidate another window of the topic claimed, and writes nothing of it', async () => {
    const { topic, ids } = await topicWithItems(3);
    // A later window built while the earlier one (a backfill, say) was building too: the topic lock lapsed.
    const earlier = await addWindow(database, topic.id, BASE, new Date(BASE.getTime() + HOUR), 'running', 'backfill');
    const later = await addWindow(database, topic.id, new Date(BASE.getTime() + HOUR), new Date(BASE.getTime() + 2 * HOUR), 'running');
    assert.equal((await persistDigest(database.db, digestInput(later, [ids[1]!]))).persisted, true);
    await assert.rejects(persistDigest(database.db, digestInput(earlier, ids)), (error: unknown) => {
      assert.ok(error instanceof ClaimConflictError, String(error));
      assert.equal(error.windowId, earlier.id);
      assert.deepEqual(error.conflicts, [{ itemId: ids[1], windowId: later.id }]);
      return true;
    });
    const [row] = await database.sql<{ status: string; digest_id: number | null }[]>`SELECT status, digest_id FROM windows WHERE id = ${earlier.id}`;
    assert.deepEqual([row?.status, row?.digest_id], ['running', null], 'the earlier window is still unfinished (its retry selects again)');
    assert.equal(await count(database, 'digests'), 1);
    assert.equal(await count(database, 'digest_items'), 1);
    const claims = await database.sql<{ item_id: number; window_id: number }[]>`SELECT item_id, window_id FROM topic_item_claims`;
    assert.deepEqual(claims.map((c) => [c.item_id, c.window_id]), [[ids[1], later.id]]);
  });

  it('puts an item into one digest when two windows of a topic persist it at the same time', async () => {
    const { topic, ids } = await topicWithItems(1);
    const first = await addWindow(database, topic.id, BASE, new Date(BASE.getTime() + HOUR), 'running', 'backfill');
    const second = await addWindow(database, topic.id, new Date(BASE.getTime() + HOUR), new Date(BASE.getTime() + 2 * HOUR), 'running');
    // Both statements wait for the claims table, then insert the same claim at once.
    const lock = await holdLocks(database, (tx) => tx`LOCK TABLE topic_item_claims IN SHARE MODE`);
    const both = Promise.allSettled([persistDigest(database.db, digestInput(first, ids)), persistDigest(database.db, digestInput(second, ids))]);
    await waitForLockWaiters(database, 2);
    await lock.release();
    const outcomes = await both;
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled' && o.value.persisted).length, 1, JSON.stringify(outcomes));
    const rejected = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    assert.equal(rejected.length, 1);
    assert.ok(rejected[0] instanceof ClaimConflictError, String(rejected[0]));
    assert.equal(await count(database, 'digests'), 1);
    const shown = await database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM digest_items WHERE item_id = ${ids[0]!}`;
    assert.equal(shown[0]?.n, 1, 'the item is in exactly one digest');
  });
});

describe('startWindowRun', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase({ maxConnections: 4 });
  });
  after(async () => database.drop());
  beforeEach(async () => {
    await database.sql`TRUNCATE topics, windows, digests RESTART IDENTITY CASCADE`;
  });

  it('starts a row already running again (a retry after a killed worker) and counts the attempt', async () => {
    const topic = await addTopic(database, 'retry', new Date(BASE.getTime() - HOUR));
    const window = await addWindow(database, topic.id, BASE, new Date(BASE.getTime() + HOUR), 'queued');
    const first = await startWindowRun(database.db, window, new Date(BASE.getTime() + 2 * HOUR));
    assert.equal(first.outcome, 'started');
    const second = await startWindowRun(database.db, window, new Date(BASE.getTime() + 3 * HOUR));
    assert.equal(second.outcome, 'started');
    assert.equal(second.outcome === 'started' ? second.window.attempts : 0, 2);
    assert.equal(second.outcome === 'started' ? second.window.status : '', 'running');
  });

  it('does not start a finished row, and leaves it as it is', async () => {
    const topic = await addTopic(database, 'done', new Date(BASE.getTime() - HOUR));
    for (const status of ['succeeded', 'failed', 'skipped'] as const) {
      const window = await addWindow(database, topic.id, new Date(BASE.getTime() + HOUR * ['succeeded', 'failed', 'skipped'].indexOf(status)), new Date(BASE.getTime() + HOUR * (1 + ['succeeded', 'failed', 'skipped'].indexOf(status))), status);
      const outcome = await startWindowRun(database.db, window, new Date());
      assert.equal(outcome.outcome, 'finished', status);
      const [row] = await database.sql<{ status: string; attempts: number; started_at: Date | null }[]>`SELECT status, attempts, started_at FROM windows WHERE id = ${window.id}`;
      assert.deepEqual([row?.status, row?.attempts, row?.started_at], [status, 0, null], `${status} row untouched`);
    }
  });

  it('waits for an unfinished earlier window of the same topic, never for another topic (topics run in parallel)', async () => {
    const a = await addTopic(database, 'a', new Date(BASE.getTime() - HOUR));
    const b = await addTopic(database, 'b', new Date(BASE.getTime() - HOUR));
    await addWindow(database, a.id, BASE, new Date(BASE.getTime() + HOUR), 'running');
    const aLater = await addWindow(database, a.id, new Date(BASE.getTime() + HOUR), new Date(BASE.getTime() + 2 * HOUR), 'queued');
    const bLater = await addWindow(database, b.id, new Date(BASE.getTime() + HOUR), new Date(BASE.getTime() + 2 * HOUR), 'queued');
    assert.equal((await startWindowRun(database.db, aLater, new Date())).outcome, 'predecessor_unfinished');
    const [aRow] = await database.sql<{ status: string; attempts: number }[]>`SELECT status, attempts FROM windows WHERE id = ${aLater.id}`;
    assert.deepEqual([aRow?.status, aRow?.attempts], ['queued', 0]);
    assert.equal((await startWindowRun(database.db, bLater, new Date())).outcome, 'started', "topic a's unfinished window must not hold up topic b");
  });
});
