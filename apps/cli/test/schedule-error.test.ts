/**
 * A topic whose schedule the tick cannot plan shows it in `radar topic list` (STATE column and
 * --json). The tick side is apps/worker/test/schedule-errors.test.ts; here the error is set as
 * the tick records it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCliFixture, type CliFixture } from './harness.js';

describe('radar topic list with a schedule error', () => {
  let f: CliFixture;
  before(async () => {
    f = await createCliFixture();
  });
  after(async () => f.cleanup());

  it('shows the error in the STATE column and in --json, and nothing once it is cleared', { timeout: 120_000 }, async () => {
    const since = new Date('2026-01-02T03:04:05Z');
    await f.database.sql`
      INSERT INTO topics (name, schedule_kind, cron_expr, time_zone, anchor, digest_size, max_per_source, next_window_end, schedule_error, schedule_error_at)
      VALUES ('mars', 'cron', '0 * * * *', 'Mars/Olympus', now(), 20, 20, now(), 'unknown time zone "Mars/Olympus"', ${since})`;
    const table = await f.ok(['topic', 'list']);
    assert.match(table.stdout, /mars .*active, SCHEDULE ERROR: unknown time zone "Mars\/Olympus"/);
    const [json] = await f.json<{ name: string; scheduleError: string | null; scheduleErrorAt: string | null }[]>(['topic', 'list']);
    assert.equal(json?.scheduleError, 'unknown time zone "Mars/Olympus"');
    assert.equal(json?.scheduleErrorAt, since.toISOString());
    await f.database.sql`UPDATE topics SET schedule_error = NULL, schedule_error_at = NULL, time_zone = 'UTC'`;
    const fixed = await f.ok(['topic', 'list']);
    assert.doesNotMatch(fixed.stdout, /SCHEDULE ERROR/);
  });
});
