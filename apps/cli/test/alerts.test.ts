import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { alertStateKey } from '@aharadar/alerts';
import { RUN_WINDOW_JOB, upsertTickScheduler, type Queues } from '@aharadar/queue';
import { createCliQueueFixture, type CliQueueFixture } from './harness.js';

interface AlertsJson {
  alerts: { name: string; severity: string; state: string; message: string; since: string | null }[];
  monitor: { undeliveredNotifications: number; webhook: boolean };
}

describe('radar alerts', () => {
  let cli: CliQueueFixture;
  let queues: Queues;
  before(async () => {
    cli = await createCliQueueFixture();
    queues = cli.queues;
  });
  after(() => cli.cleanup());

  it('reports a missing tick scheduler as pending, then nothing once the stack is healthy', async () => {
    const missing = await cli.json<AlertsJson>(['alerts']);
    assert.deepEqual(missing.alerts.map((a) => [a.name, a.state]), [['ticks_stopped', 'pending']]);
    await upsertTickScheduler(queues.scheduler, 5);
    const healthy = await cli.ok(['alerts']);
    assert.match(healthy.stdout, /^no alerts: queues, ticks and runs look healthy$/m);
  });

  it('evaluates the ALERT_* thresholds and shows what the monitor announced, without changing its state', async () => {
    await upsertTickScheduler(queues.scheduler, 5);
    await queues.pipeline.addBulk([1, 2, 3].map((id) => ({ name: RUN_WINDOW_JOB, data: { windowId: id, topicId: 1 }, opts: { jobId: `window-${id}` } })));
    const stored = JSON.stringify({ alerts: { queue_depth: { since: Date.parse('2026-01-01T00:00:00Z'), firing: true, severity: 'warning', message: 'm' } }, outbox: [] });
    await cli.redis.redis.set(alertStateKey(cli.redis.prefix), stored);

    const below = await cli.json<AlertsJson>(['alerts'], { ALERT_QUEUE_DEPTH: '4' });
    // Jobs wait and no worker runs here: no_workers holds, but must last a minute before it fires.
    assert.deepEqual(below.alerts.map((a) => [a.name, a.state]), [['no_workers', 'pending']]);
    const at = await cli.json<AlertsJson>(['alerts'], { ALERT_QUEUE_DEPTH: '3' });
    assert.deepEqual(at.alerts.map((a) => [a.name, a.state, a.since]), [
      ['queue_depth', 'firing', '2026-01-01T00:00:00.000Z'],
      ['no_workers', 'pending', null],
    ]);
    assert.match(at.alerts[0]?.message ?? '', /pipeline backlog is 3 jobs/);
    const table = await cli.ok(['alerts'], { ALERT_QUEUE_DEPTH: '3' });
    assert.match(table.stdout, /queue_depth\s+warning\s+firing/);
    assert.equal(await cli.redis.redis.get(alertStateKey(cli.redis.prefix)), stored, 'radar alerts is read-only');
  });

  it('rejects a bad threshold with one line naming the variable', async () => {
    const result = await cli.run(['alerts'], { ALERT_QUEUE_DEPTH: '-3' });
    assert.equal(result.code, 1);
    assert.match(result.stderr.trim(), /^radar: error: invalid configuration: ALERT_QUEUE_DEPTH must be an integer between 0 and 100000000, got "-3"$/);
  });
});
