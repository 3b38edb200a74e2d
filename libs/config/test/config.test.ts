import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, readAlertConfig, readCliConfig, readSchedulerConfig, readWorkerConfig, redactUrl } from '../src/index.js';

describe('config', () => {
  it('uses the documented defaults for an empty environment', () => {
    const worker = readWorkerConfig({});
    assert.equal(worker.scheduling.tickMinutes, 5);
    assert.equal(worker.scheduling.lagSeconds, 60);
    assert.equal(worker.scheduling.maxCatchupWindows, 6);
    assert.equal(worker.concurrency, DEFAULTS.WORKER_CONCURRENCY);
    assert.equal(worker.healthPort, 8080);
    assert.equal(worker.fetch.allowPrivate, false);
    assert.equal(readSchedulerConfig({}).healthPort, 8081);
  });

  it('accepts fractional tick minutes and treats empty values as unset', () => {
    const config = readSchedulerConfig({ SCHEDULER_TICK_MINUTES: '0.05', LOG_LEVEL: '' });
    assert.equal(config.scheduling.tickMinutes, 0.05);
    assert.equal(config.logLevel, 'info');
  });

  const bad: [string, string, RegExp][] = [
    ['SCHEDULER_TICK_MINUTES', 'five', /SCHEDULER_TICK_MINUTES must be a number .*got "five"/],
    ['SCHEDULER_TICK_MINUTES', '0', /SCHEDULER_TICK_MINUTES must be a number between 0.01/],
    ['SCHEDULER_LAG_SECONDS', '1.5', /SCHEDULER_LAG_SECONDS must be an integer/],
    ['SCHEDULER_MAX_CATCHUP_WINDOWS', '0', /SCHEDULER_MAX_CATCHUP_WINDOWS must be an integer/],
    ['WORKER_CONCURRENCY', '-1', /WORKER_CONCURRENCY must be an integer/],
    ['PIPELINE_ATTEMPTS', 'many', /PIPELINE_ATTEMPTS/],
    ['FETCH_ALLOW_PRIVATE', 'maybe', /FETCH_ALLOW_PRIVATE must be true or false/],
    ['HEALTH_PORT', '70000', /HEALTH_PORT must be an integer between 0 and 65535/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL must be one of fatal, error/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must use postgres:\/\/ or postgresql:\/\//],
    ['REDIS_URL', 'not a url', /REDIS_URL must be a URL/],
    ['QUEUE_PREFIX', 'a:b', /QUEUE_PREFIX must be 1-64 letters/],
    ['HN_API_URL', 'ftp://x', /HN_API_URL must use http/],
  ];
  for (const [name, value, expected] of bad) {
    it(`rejects ${name}=${value} naming the variable`, () => {
      assert.throws(
        () => readWorkerConfig({ [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.variable === name && expected.test(error.message),
      );
    });
  }

  it('leaves the alert settings to `radar alerts`: a bad one does not stop other commands', () => {
    assert.doesNotThrow(() => readCliConfig({ ALERT_QUEUE_DEPTH: 'lots' }));
  });

  it('reads the alert settings in seconds/minutes as milliseconds; the webhook is optional', () => {
    const defaults = readSchedulerConfig({}).alerts;
    assert.deepEqual(defaults, { checkSeconds: 30, queueDepth: 1000, oldestWaitingMs: 900_000, stuckJobMs: 1_800_000, pollLagMs: 300_000, webhookUrl: null });
    const set = readAlertConfig({ ALERT_CHECK_SECONDS: '0', ALERT_OLDEST_WAITING_SECONDS: '1.5', ALERT_STUCK_JOB_MINUTES: '0', ALERT_WEBHOOK_URL: 'https://hooks.example/x?token=1' });
    assert.deepEqual(set, { checkSeconds: 0, queueDepth: 1000, oldestWaitingMs: 1500, stuckJobMs: 0, pollLagMs: 300_000, webhookUrl: 'https://hooks.example/x?token=1' });
  });

  const badAlerts: [string, string, RegExp][] = [
    ['ALERT_CHECK_SECONDS', '0.5', /ALERT_CHECK_SECONDS must be an integer between 0 and 86400/],
    ['ALERT_QUEUE_DEPTH', 'lots', /ALERT_QUEUE_DEPTH must be an integer/],
    ['ALERT_OLDEST_WAITING_SECONDS', '-1', /ALERT_OLDEST_WAITING_SECONDS must be a number between 0/],
    ['ALERT_STUCK_JOB_MINUTES', '30m', /ALERT_STUCK_JOB_MINUTES must be a number/],
    ['ALERT_WEBHOOK_URL', 'hooks.example/alert', /ALERT_WEBHOOK_URL must be a URL \(http or https\)/],
    ['ALERT_WEBHOOK_URL', 'ftp://hooks.example', /ALERT_WEBHOOK_URL must use http:\/\/ or https:\/\//],
  ];
  for (const [name, value, expected] of badAlerts) {
    it(`rejects ${name}=${value} in the scheduler and \`radar alerts\``, () => {
      for (const read of [readSchedulerConfig, readAlertConfig]) {
        assert.throws(
          () => read({ [name]: value }),
          (error: unknown) => error instanceof ConfigError && error.variable === name && expected.test(error.message),
        );
      }
    });
  }

  it('.env.example and the README list every variable (.env.example with its default)', async () => {
    const example = await readFile(new URL('../../../.env.example', import.meta.url), 'utf8');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const [name, value] of Object.entries(DEFAULTS)) {
      assert.ok(example.includes(`\n${name}=${String(value)}\n`), `.env.example lacks ${name}=${String(value)}`);
      assert.ok(readme.includes(`| \`${name}\` |`), `the README's configuration table lacks ${name}`);
    }
  });

  it('never echoes a password in an error', () => {
    assert.throws(
      () => readCliConfig({ DATABASE_URL: 'mysql://admin:s3cret@db/x' }),
      (error: unknown) => error instanceof Error && !error.message.includes('s3cret') && error.message.includes('***'),
    );
    assert.equal(redactUrl('postgres://u:pw@h:5432/d'), 'postgres://u:***@h:5432/d');
  });
});

describe('polling config', () => {
  it('defaults to 5 min .. 1 h, 2 requests per host, 30 days of retention', () => {
    const worker = readWorkerConfig({});
    assert.deepEqual(worker.polling, { minIntervalMs: 300_000, maxIntervalMs: 3_600_000, concurrency: 16, retentionDays: 30 });
    assert.equal(worker.fetch.perHostConcurrency, 2);
    assert.match(worker.fetch.userAgent, /^aharadar\/.*\+https:\/\//);
  });

  it('accepts a 1 s minimum for tests and rejects a maximum below the minimum, naming both', () => {
    assert.equal(readWorkerConfig({ POLL_MIN_INTERVAL_SECONDS: '1', POLL_MAX_INTERVAL_SECONDS: '2' }).polling.minIntervalMs, 1000);
    assert.throws(
      () => readWorkerConfig({ POLL_MIN_INTERVAL_SECONDS: '600', POLL_MAX_INTERVAL_SECONDS: '300' }),
      (error: unknown) => error instanceof ConfigError && error.variable === 'POLL_MAX_INTERVAL_SECONDS' && /at least POLL_MIN_INTERVAL_SECONDS \(600\)/.test(error.message),
    );
  });

  const bad: [string, string, RegExp][] = [
    ['POLL_MIN_INTERVAL_SECONDS', '0', /POLL_MIN_INTERVAL_SECONDS must be a number between 1 and 86400/],
    ['POLL_CONCURRENCY', '0', /POLL_CONCURRENCY must be an integer/],
    ['RETENTION_DAYS', '0.5', /RETENTION_DAYS must be an integer/],
    ['FETCH_PER_HOST_CONCURRENCY', '0', /FETCH_PER_HOST_CONCURRENCY must be an integer between 1 and 64/],
    ['FETCH_USER_AGENT', 'bad\u0007agent', /FETCH_USER_AGENT must be 1-300 printable characters/],
  ];
  for (const [name, value, expected] of bad) {
    it(`rejects ${name}=${JSON.stringify(value)} naming the variable`, () => {
      assert.throws(
        () => readWorkerConfig({ [name]: value }),
        (error: unknown) => error instanceof ConfigError && error.variable === name && expected.test(error.message),
      );
    });
  }
});
