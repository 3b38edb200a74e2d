import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DEFAULTS, readCliConfig, readSchedulerConfig, readWorkerConfig, redactUrl } from '../src/index.js';

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

  it('never echoes a password in an error', () => {
    assert.throws(
      () => readCliConfig({ DATABASE_URL: 'mysql://admin:s3cret@db/x' }),
      (error: unknown) => error instanceof Error && !error.message.includes('s3cret') && error.message.includes('***'),
    );
    assert.equal(redactUrl('postgres://u:pw@h:5432/d'), 'postgres://u:***@h:5432/d');
  });
});
