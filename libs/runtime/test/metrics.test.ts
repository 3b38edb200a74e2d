/**
 * The metrics registry: prom-client series, default process metrics, and the per-gauge
 * collection deadline (a collector that never answers must not hold the scrape).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsRegistry, METRICS_COLLECT_DEADLINE_MS, type GaugeSample } from '../src/metrics.js';

/** Generous: the deadline is what is tested, the margin only absorbs a slow machine. */
const MARGIN_MS = 1_500;

function never(): Promise<GaugeSample[]> {
  return new Promise<GaugeSample[]>(() => undefined);
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('MetricsRegistry', () => {
  it('has the default process metrics without a prefix', async () => {
    const text = await new MetricsRegistry().render();
    assert.match(text, /^# TYPE process_resident_memory_bytes gauge$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    assert.match(text, /^# TYPE nodejs_gc_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE radar_metrics_collect_timeouts_total counter$/m);
  });

  it('can leave the default metrics out', async () => {
    const text = await new MetricsRegistry({ defaultMetrics: false }).render();
    assert.doesNotMatch(text, /process_resident_memory_bytes/);
    assert.match(text, /# TYPE radar_metrics_collect_timeouts_total counter/);
  });

  it('counts with and without labels', async () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    const plain = metrics.counter('t_plain_total', 'plain');
    const labelled = metrics.counter('t_labelled_total', 'labelled', ['status']);
    assert.match(await metrics.render(), /^t_plain_total 0$/m, 'an unlabelled counter starts at 0');
    plain();
    plain(2);
    labelled(1, { status: 'ok' });
    labelled(3, { status: 'ok' });
    labelled(1, { status: 'a "quoted"\nvalue' });
    const text = await metrics.render();
    assert.match(text, /^t_plain_total 3$/m);
    assert.match(text, /^t_labelled_total\{status="ok"\} 4$/m);
    assert.match(text, /^t_labelled_total\{status="a \\"quoted\\"\\nvalue"\} 1$/m);
  });

  it('observes histograms into cumulative buckets', async () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    const observe = metrics.histogram('t_duration_seconds', 'durations', [0.1, 1, 10]);
    observe(0.05);
    observe(0.5);
    observe(5);
    observe(50);
    const text = await metrics.render();
    assert.match(text, /^# TYPE t_duration_seconds histogram$/m);
    assert.match(text, /^t_duration_seconds_bucket\{le="0.1"\} 1$/m);
    assert.match(text, /^t_duration_seconds_bucket\{le="1"\} 2$/m);
    assert.match(text, /^t_duration_seconds_bucket\{le="10"\} 3$/m);
    assert.match(text, /^t_duration_seconds_bucket\{le="\+Inf"\} 4$/m);
    assert.match(text, /^t_duration_seconds_sum 55.55$/m);
    assert.match(text, /^t_duration_seconds_count 4$/m);
  });

  it('reads gauges at scrape time', async () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    let depth = 1;
    metrics.gauge('t_depth', 'depth', async () => [{ labels: { queue: 'q' }, value: depth }], ['queue']);
    metrics.gauge('t_plain', 'plain', () => [{ value: 7 }]);
    assert.match(await metrics.render(), /^t_depth\{queue="q"\} 1$/m);
    depth = 5;
    const text = await metrics.render();
    assert.match(text, /^t_depth\{queue="q"\} 5$/m);
    assert.match(text, /^t_plain 7$/m);
  });

  it('answers within the deadline when a gauge never does, leaves that gauge out and counts it', { timeout: 10_000 }, async () => {
    const deadlineMs = 200;
    const metrics = new MetricsRegistry({ collectDeadlineMs: deadlineMs });
    const ok = metrics.counter('t_ok_total', 'ok');
    ok(2);
    let calls = 0;
    metrics.gauge(
      't_hung',
      'never answers',
      () => {
        calls += 1;
        return never();
      },
      ['queue'],
    );
    metrics.gauge('t_hung_plain', 'never answers, no labels', never);
    metrics.gauge('t_fine', 'answers', () => [{ value: 1 }]);

    const started = performance.now();
    const text = await metrics.render();
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= deadlineMs - 20, `waited for the deadline (${elapsed} ms)`);
    assert.ok(elapsed < deadlineMs + MARGIN_MS, `answered in ${elapsed} ms`);
    assert.match(text, /^t_ok_total 2$/m);
    assert.match(text, /^t_fine 1$/m);
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.doesNotMatch(text, /^t_hung[{ ]/m, 'no sample of the hung gauge');
    assert.doesNotMatch(text, /^t_hung_plain /m, 'an unlabelled gauge that did not answer is not reported as 0');
    assert.match(text, /^radar_metrics_collect_timeouts_total\{metric="t_hung"\} 1$/m);
    assert.match(text, /^radar_metrics_collect_timeouts_total\{metric="t_hung_plain"\} 1$/m);

    const again = await metrics.render();
    assert.equal(calls, 1, 'the hung collection is waited for again, not started a second time');
    assert.match(again, /^radar_metrics_collect_timeouts_total\{metric="t_hung"\} 2$/m);
  });

  it('reports a late answer in the scrape it arrives during, then collects afresh', { timeout: 10_000 }, async () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false, collectDeadlineMs: 100 });
    const first = deferred<GaugeSample[]>();
    let calls = 0;
    metrics.gauge('t_slow', 'slow', () => {
      calls += 1;
      return calls === 1 ? first.promise : [{ value: 2 }];
    });
    assert.doesNotMatch(await metrics.render(), /^t_slow /m);
    const second = metrics.render();
    first.resolve([{ value: 1 }]);
    assert.match(await second, /^t_slow 1$/m);
    assert.equal(calls, 1);
    assert.match(await metrics.render(), /^t_slow 2$/m);
    assert.equal(calls, 2);
  });

  it('leaves out a gauge whose collector fails or reports undeclared labels, without counting a timeout', async () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    metrics.gauge('t_throws', 'throws', () => {
      throw new Error('boom');
    });
    metrics.gauge('t_rejects', 'rejects', () => Promise.reject(new Error('boom')));
    metrics.gauge('t_bad_labels', 'bad labels', () => [{ labels: { nope: 'x' }, value: 1 }]);
    metrics.gauge('t_fine', 'answers', () => [{ value: 1 }]);
    const text = await metrics.render();
    assert.match(text, /^t_fine 1$/m);
    assert.doesNotMatch(text, /^t_(throws|rejects|bad_labels)[{ ]/m);
    assert.doesNotMatch(text, /^radar_metrics_collect_timeouts_total\{/m);
  });

  it('has a two-second default deadline and a Prometheus content type', () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    assert.equal(METRICS_COLLECT_DEADLINE_MS, 2_000);
    assert.equal(metrics.collectDeadlineMs, METRICS_COLLECT_DEADLINE_MS);
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  });
});
