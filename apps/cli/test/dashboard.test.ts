/**
 * `radar dashboard` as a real child process on the real local Redis, each dashboard on its own
 * queue prefix, the port picked by the OS (`--port 0`) and read back from the start-up log line.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createQueues, RUN_WINDOW_JOB, upsertTickScheduler, windowJobId, type Queues } from '@aharadar/queue';
import { startApp, stopApp, type AppProcess } from '../../../test/support/processes.js';
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from '../../../test/support/services.js';
import { runRadar } from './harness.js';

const PASSWORD = 'correct horse';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const JOB_ID = windowJobId(4242);
/** runRadar inherits the developer's shell; empty means unset, so these fall back to the defaults. */
const UNSET_DASHBOARD_ENV = { DASHBOARD_PORT: '', DASHBOARD_HOST: '', DASHBOARD_USER: '', DASHBOARD_PASSWORD: '', DASHBOARD_READ_ONLY: '' };

interface QueuesJson {
  queues: { name: string; readOnlyMode: boolean; jobSchedulerCount: number; counts: Record<string, number>; jobs: { id: string; name: string; data: unknown }[] }[];
}

interface Dashboard {
  app: AppProcess;
  url: string;
}

async function startDashboard(env: Record<string, string>, args: string[] = []): Promise<Dashboard> {
  const app = startApp('cli', { REDIS_URL: TEST_REDIS_URL, LOG_LEVEL: 'info', ...env }, ['dashboard', '--port', '0', ...args]);
  const line = await app.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('dashboard listening'), 30_000, 'the start-up line');
  assert.equal(typeof line.url, 'string');
  assert.ok(typeof line.port === 'number' && line.port > 0, 'the port the OS picked is logged');
  assert.equal(line.url, `http://127.0.0.1:${line.port}/`);
  return { app, url: line.url as string };
}

/** fetch() does not let a caller set Host; node:http does. */
function statusWithHost(url: URL, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject).end();
  });
}

async function stopped(dashboard: Dashboard): Promise<void> {
  const code = await stopApp(dashboard.app);
  assert.equal(code, 0, `SIGTERM exits 0; stderr: ${dashboard.app.stderr.join('')}`);
  assert.ok(dashboard.app.lines.some((l) => l.msg === 'stopped'));
}

describe('radar dashboard', () => {
  let redis: TestRedis;
  let queues: Queues;
  before(async () => {
    redis = await createTestRedis();
    queues = createQueues(redis.redis, redis.prefix);
    await upsertTickScheduler(queues.scheduler, 5);
    await queues.pipeline.add(RUN_WINDOW_JOB, { windowId: 4242, topicId: 7 }, { jobId: JOB_ID });
  });
  after(async () => {
    await queues.close();
    await redis.cleanup();
  });

  it('serves Bull Board behind basic auth, /healthz without, and stops on SIGTERM', async () => {
    const dashboard = await startDashboard({ QUEUE_PREFIX: redis.prefix, DASHBOARD_PASSWORD: PASSWORD });
    try {
      const { url } = dashboard;
      const anonymous = await fetch(url);
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      const wrong = await fetch(url, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
      assert.equal(wrong.status, 401);

      const page = await fetch(url, { headers: { authorization: AUTH } });
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const html = await page.text();
      assert.match(html, /<title>radar queues<\/title>/);

      // Static assets are behind the same auth.
      const script = /src="(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
      assert.ok(script, 'the page loads its scripts from static/');
      assert.equal((await fetch(new URL(script, url))).status, 401);
      const asset = await fetch(new URL(script, url), { headers: { authorization: AUTH } });
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('content-type') ?? '', /javascript/);

      // The API: both queues, the tick job scheduler, the job added to the pipeline queue.
      assert.equal((await fetch(new URL('api/queues', url))).status, 401);
      const api = await fetch(new URL('api/queues?activeQueue=pipeline&status=latest', url), { headers: { authorization: AUTH } });
      assert.equal(api.status, 200);
      const body = (await api.json()) as QueuesJson;
      assert.deepEqual(body.queues.map((q) => q.name).sort(), ['pipeline', 'scheduler']);
      const pipeline = body.queues.find((q) => q.name === 'pipeline');
      const scheduler = body.queues.find((q) => q.name === 'scheduler');
      assert.equal(scheduler?.jobSchedulerCount, 1, 'the repeatable tick');
      assert.equal(pipeline?.counts.waiting, 1);
      assert.deepEqual(pipeline?.jobs.map((j) => [j.id, j.name, j.data]), [[JOB_ID, RUN_WINDOW_JOB, { windowId: 4242, topicId: 7 }]]);
      assert.equal(pipeline?.readOnlyMode, false);

      const health = await fetch(new URL('healthz', url));
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: 'ok' });

      // A write from another site's page (CSRF) is refused even with the browser's saved credentials.
      const crossSite = await fetch(new URL(`api/queues/pipeline/${JOB_ID}/clean`, url), {
        method: 'PUT',
        headers: { authorization: AUTH, origin: 'https://evil.example' },
      });
      assert.equal(crossSite.status, 403);
      assert.ok(await queues.pipeline.getJob(JOB_ID), 'still there');
    } finally {
      await stopped(dashboard);
    }
  });

  it('read-only mode refuses every action', async () => {
    // No password on loopback: allowed, without auth.
    const dashboard = await startDashboard({ QUEUE_PREFIX: redis.prefix, DASHBOARD_PASSWORD: '' }, ['--read-only']);
    try {
      const { url } = dashboard;
      assert.equal((await fetch(url)).status, 200, 'no password on loopback: no auth');
      const body = (await (await fetch(new URL('api/queues', url))).json()) as QueuesJson;
      assert.deepEqual(body.queues.map((q) => q.readOnlyMode), [true, true]);
      for (const path of [`api/queues/pipeline/${JOB_ID}/clean`, 'api/queues/pipeline/clean/waiting', 'api/queues/pipeline/empty', 'api/queues/pipeline/pause', 'api/queues/scheduler/job-schedulers/tick/remove']) {
        const response = await fetch(new URL(path, url), { method: 'PUT' });
        assert.equal(response.status, 405, path);
      }
      assert.ok(await queues.pipeline.getJob(JOB_ID), 'the job is still there');
      assert.equal(await queues.pipeline.isPaused(), false);
      assert.equal((await queues.scheduler.getJobSchedulers()).length, 1, 'the tick job scheduler is still there');
      // Without a password it only answers to loopback names (DNS rebinding).
      assert.equal(await statusWithHost(new URL('api/queues', url), 'evil.example'), 403);
      assert.equal(await statusWithHost(new URL('api/queues', url), `localhost:${new URL(url).port}`), 200);
    } finally {
      await stopped(dashboard);
    }
  });

  it('a writable dashboard removes a job (what read-only prevented)', async () => {
    const dashboard = await startDashboard({ QUEUE_PREFIX: redis.prefix, DASHBOARD_PASSWORD: PASSWORD });
    try {
      const response = await fetch(new URL(`api/queues/pipeline/${JOB_ID}/clean`, dashboard.url), { method: 'PUT', headers: { authorization: AUTH } });
      assert.equal(response.status, 204);
      assert.equal(await queues.pipeline.getJob(JOB_ID), undefined);
    } finally {
      await stopped(dashboard);
    }
  });

  const BAD: { args: string[]; env?: Record<string, string>; error: RegExp }[] = [
    { args: ['--port', 'abc'], error: /^radar: error: option '--port <n>' argument 'abc' is invalid\. expected a whole number from 0 to 65535$/ },
    { args: ['--host', 'http://x'], error: /^radar: error: option '--host <host>' argument 'http:\/\/x' is invalid\. expected an IP address or a host name/ },
    { args: ['--host', '0.0.0.0'], error: /^radar: error: invalid configuration: DASHBOARD_PASSWORD must be set when the dashboard listens on a non-loopback address \(host "0\.0\.0\.0"\)$/ },
    { args: [], env: { DASHBOARD_HOST: '0.0.0.0' }, error: /^radar: error: invalid configuration: DASHBOARD_PASSWORD must be set/ },
    { args: [], env: { DASHBOARD_PORT: 'abc' }, error: /^radar: error: invalid configuration: DASHBOARD_PORT must be an integer between 0 and 65535, got "abc"$/ },
    { args: ['--port', '0'], env: { REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }, error: /^radar: error: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: / },
  ];
  for (const { args, env, error } of BAD) {
    it(`refuses ${[...args, ...Object.entries(env ?? {}).map(([k, v]) => `${k}=${v}`)].join(' ')} with one line and exit 1`, async () => {
      const result = await runRadar(['dashboard', ...args], { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: redis.prefix, ...UNSET_DASHBOARD_ENV, ...env });
      assert.equal(result.code, 1, result.stderr);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0] ?? '', error);
      assert.ok(!result.stderr.includes('hunter2'));
    });
  }
});
