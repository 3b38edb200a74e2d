/**
 * The health server over real HTTP on 127.0.0.1: liveness, readiness with per-check timeouts,
 * metrics with a collection deadline, and what it answers to anything else.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startHealthServer, type HealthServer, type ReadinessCheck } from '../src/health-server.js';
import { MetricsRegistry, type GaugeSample } from '../src/metrics.js';

const CHECK_TIMEOUT_MS = 200;
const COLLECT_DEADLINE_MS = 200;
/** Generous: the timeouts are what is tested, the margin only absorbs a slow machine. */
const MARGIN_MS = 1_500;

interface Answer {
  status: number;
  contentType: string | undefined;
  body: string;
  ms: number;
}

function call(port: number, path: string, method = 'GET'): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end();
  });
}

function never(): Promise<never> {
  return new Promise<never>(() => undefined);
}

describe('health server', () => {
  let server: HealthServer;
  let bare: HealthServer;
  const state: { postgres: ReadinessCheck; redis: ReadinessCheck } = { postgres: async () => undefined, redis: async () => undefined };
  const metrics = new MetricsRegistry({ collectDeadlineMs: COLLECT_DEADLINE_MS });
  metrics.counter('t_requests_total', 'requests')(3);
  metrics.gauge('t_queue_jobs', 'never answers (Redis down)', (): Promise<GaugeSample[]> => never(), ['queue', 'state']);

  before(async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      checkTimeoutMs: CHECK_TIMEOUT_MS,
      checks: { postgres: () => state.postgres(), redis: () => state.redis() },
    });
    bare = await startHealthServer({ port: 0, host: '127.0.0.1', checks: {} });
  });
  after(async () => {
    await server.close();
    await bare.close();
  });

  it('answers /healthz with 200', async () => {
    const answer = await call(server.port, '/healthz');
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { status: 'ok' });
    assert.equal((await call(server.port, '/healthz', 'HEAD')).status, 200);
  });

  it('answers /readyz with 200 when every check passes', async () => {
    const answer = await call(server.port, '/readyz?verbose=1');
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
  });

  it('answers /readyz with 503 and the reason when a check fails', async () => {
    state.redis = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    try {
      const answer = await call(server.port, '/readyz');
      assert.equal(answer.status, 503);
      assert.deepEqual(JSON.parse(answer.body), { status: 'not ready', checks: { postgres: 'ok', redis: 'connect ECONNREFUSED 127.0.0.1:6379' } });
    } finally {
      state.redis = async () => undefined;
    }
  });

  it('answers /readyz with 503 within the check timeout when a check hangs', { timeout: 10_000 }, async () => {
    state.postgres = never;
    try {
      const answer = await call(server.port, '/readyz');
      assert.equal(answer.status, 503);
      assert.ok(answer.ms < CHECK_TIMEOUT_MS + MARGIN_MS, `answered in ${answer.ms} ms`);
      assert.deepEqual(JSON.parse(answer.body), { status: 'not ready', checks: { postgres: `no answer within ${CHECK_TIMEOUT_MS} ms`, redis: 'ok' } });
    } finally {
      state.postgres = async () => undefined;
    }
  });

  it('answers /metrics within the collection deadline while a gauge hangs, with the other series', { timeout: 10_000 }, async () => {
    const answer = await call(server.port, '/metrics');
    assert.equal(answer.status, 200);
    assert.ok(answer.ms < COLLECT_DEADLINE_MS + MARGIN_MS, `answered in ${answer.ms} ms`);
    assert.match(answer.contentType ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(answer.body, /^t_requests_total 3$/m);
    assert.match(answer.body, /^process_resident_memory_bytes \d+/m);
    assert.match(answer.body, /^nodejs_eventloop_lag_seconds [\d.e-]+$/m);
    assert.doesNotMatch(answer.body, /^t_queue_jobs\{/m);
    assert.match(answer.body, /^radar_metrics_collect_timeouts_total\{metric="t_queue_jobs"\} \d+$/m);
  });

  it('answers 404 to an unknown path, and to /metrics without a registry', async () => {
    const unknown = await call(server.port, '/nope');
    assert.equal(unknown.status, 404);
    assert.deepEqual(JSON.parse(unknown.body), { error: 'not found' });
    assert.equal((await call(bare.port, '/metrics')).status, 404);
    assert.equal((await call(bare.port, '/readyz')).status, 200, 'no checks: ready');
  });

  it('answers 405 to a method other than GET or HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) {
      assert.equal((await call(server.port, '/healthz', method)).status, 405, method);
      assert.equal((await call(server.port, '/metrics', method)).status, 405, method);
    }
  });
});
