import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ConfigError, DASHBOARD_DEFAULTS, DEFAULTS, isLoopbackHost, isValidHost, readDashboardConfig } from '../src/index.js';

function rejects(env: Record<string, string>, variable: string, expected: RegExp, overrides = {}): void {
  assert.throws(
    () => readDashboardConfig(env, overrides),
    (error: unknown) => error instanceof ConfigError && error.variable === variable && expected.test(error.message),
  );
}

describe('dashboard config', () => {
  it('uses the documented defaults: loopback, port 3000, no auth without a password, writable', () => {
    const config = readDashboardConfig({});
    assert.equal(config.port, DASHBOARD_DEFAULTS.DASHBOARD_PORT);
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.credentials, undefined);
    assert.equal(config.readOnly, false);
    assert.equal(config.queuePrefix, DEFAULTS.QUEUE_PREFIX, 'the connection settings come along');
    assert.equal(config.redisUrl, DEFAULTS.REDIS_URL);
  });

  it('reads every variable; the user defaults to admin once a password is set', () => {
    const config = readDashboardConfig({
      DASHBOARD_PORT: '0',
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_PASSWORD: 's3cret',
      DASHBOARD_READ_ONLY: 'true',
      QUEUE_PREFIX: 'stack-b',
    });
    assert.equal(config.port, 0);
    assert.equal(config.host, '0.0.0.0');
    assert.deepEqual(config.credentials, { user: 'admin', password: 's3cret' });
    assert.equal(config.readOnly, true);
    assert.equal(config.queuePrefix, 'stack-b');
    assert.deepEqual(readDashboardConfig({ DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'pw' }).credentials, { user: 'ops', password: 'pw' });
  });

  it('treats an empty DASHBOARD_PASSWORD as unset', () => {
    assert.equal(readDashboardConfig({ DASHBOARD_PASSWORD: '' }).credentials, undefined);
    rejects({ DASHBOARD_HOST: '0.0.0.0', DASHBOARD_PASSWORD: '' }, 'DASHBOARD_PASSWORD', /must be set/);
  });

  it('requires DASHBOARD_PASSWORD on a non-loopback host, read-only or not', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'dashboard.example.com']) {
      rejects({ DASHBOARD_HOST: host }, 'DASHBOARD_PASSWORD', new RegExp(`DASHBOARD_PASSWORD must be set when the dashboard listens on a non-loopback address \\(host "${host.replace(/\./g, '\\.')}"\\)`));
      rejects({ DASHBOARD_HOST: host, DASHBOARD_READ_ONLY: 'true' }, 'DASHBOARD_PASSWORD', /must be set/);
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) {
      assert.equal(readDashboardConfig({ DASHBOARD_HOST: host }).credentials, undefined, host);
    }
  });

  it('lets the flags override the environment, and checks the password against the overridden host', () => {
    const config = readDashboardConfig({ DASHBOARD_PORT: '4000', DASHBOARD_READ_ONLY: 'false' }, { port: 0, readOnly: true });
    assert.equal(config.port, 0);
    assert.equal(config.readOnly, true);
    rejects({}, 'DASHBOARD_PASSWORD', /host "0\.0\.0\.0"/, { host: '0.0.0.0' });
    assert.equal(readDashboardConfig({ DASHBOARD_HOST: '0.0.0.0' }, { host: '127.0.0.1' }).host, '127.0.0.1');
  });

  const bad: [string, string, RegExp][] = [
    ['DASHBOARD_PORT', 'abc', /DASHBOARD_PORT must be an integer between 0 and 65535, got "abc"/],
    ['DASHBOARD_PORT', '70000', /DASHBOARD_PORT must be an integer between 0 and 65535/],
    ['DASHBOARD_PORT', '80.5', /DASHBOARD_PORT must be an integer/],
    ['DASHBOARD_HOST', 'http://0.0.0.0', /DASHBOARD_HOST must be an IP address or a host name, got "http:\/\/0\.0\.0\.0"/],
    ['DASHBOARD_HOST', 'a b', /DASHBOARD_HOST must be an IP address or a host name/],
    ['DASHBOARD_USER', 'ad:min', /DASHBOARD_USER must not contain ":"/],
    ['DASHBOARD_READ_ONLY', 'maybe', /DASHBOARD_READ_ONLY must be true or false, got "maybe"/],
    ['QUEUE_PREFIX', 'a:b', /QUEUE_PREFIX must be 1-64 letters/],
  ];
  for (const [name, value, expected] of bad) {
    it(`rejects ${name}=${value} naming the variable`, () => rejects({ [name]: value }, name, expected));
  }

  it('never echoes the password in an error', () => {
    assert.throws(
      () => readDashboardConfig({ DASHBOARD_PASSWORD: 'hunter2', DASHBOARD_PORT: 'x' }),
      (error: unknown) => error instanceof ConfigError && !error.message.includes('hunter2'),
    );
  });

  it('.env.example lists every dashboard variable with its default', async () => {
    const example = await readFile(new URL('../../../.env.example', import.meta.url), 'utf8');
    for (const [name, value] of Object.entries(DASHBOARD_DEFAULTS)) assert.match(example, new RegExp(`^${name}=${String(value)}$`, 'm'));
    assert.match(example, /^DASHBOARD_PASSWORD=$/m);
  });

  it('knows loopback hosts and valid host names', () => {
    assert.equal(isLoopbackHost('LOCALHOST'), true);
    assert.equal(isLoopbackHost('::ffff:127.0.0.1'), true);
    assert.equal(isLoopbackHost('0.0.0.0'), false);
    assert.equal(isLoopbackHost('128.0.0.1'), false);
    assert.equal(isLoopbackHost('localhost.example.com'), false);
    assert.equal(isValidHost('::'), true);
    assert.equal(isValidHost('radar-dashboard.internal'), true);
    assert.equal(isValidHost('999.1.1.1'), false, 'not an IPv4 address, and digits only is no host name');
    assert.equal(isValidHost('host:3000'), false);
    assert.equal(isValidHost(''), false);
  });
});
