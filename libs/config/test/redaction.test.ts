import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { ConfigError, readConnectionConfig, readDashboardConfig, readWorkerConfig, redactSecrets, redactUrl } from '../src/index.js';

/** Passwords an operator may well choose; each breaks a URL that is built by pasting it in. */
const PASSWORDS = ['p@ss/w#rd', 'a/b', '12/ab@c', 'x#y', 'q?r', 'per%cent', 'co:lon', 'sp ace', 'ü@ñ', '@', '//', '#@/?:%'];

describe('DATABASE_PASSWORD', () => {
  for (const password of PASSWORDS) {
    it(`reaches the driver unchanged, host and database intact: ${JSON.stringify(password)}`, async () => {
      const { databaseUrl } = readConnectionConfig({ DATABASE_URL: 'postgres://radar@postgres:5432/aharadar', DATABASE_PASSWORD: password });
      const sql = postgres(databaseUrl);
      try {
        assert.equal(sql.options.pass, password);
        assert.deepEqual(sql.options.host, ['postgres']);
        assert.equal(sql.options.database, 'aharadar');
        assert.equal(sql.options.user, 'radar');
      } finally {
        await sql.end();
      }
      assert.equal(redactUrl(databaseUrl), 'postgres://radar:***@postgres:5432/aharadar');
    });
  }

  it('replaces a password already in DATABASE_URL; unset or empty keeps the URL as it is', () => {
    const url = 'postgres://radar:old@db:5432/x';
    assert.equal(readConnectionConfig({ DATABASE_URL: url, DATABASE_PASSWORD: 'new' }).databaseUrl, 'postgres://radar:new@db:5432/x');
    assert.equal(readConnectionConfig({ DATABASE_URL: url, DATABASE_PASSWORD: '' }).databaseUrl, url);
    assert.equal(readConnectionConfig({ DATABASE_URL: url }).databaseUrl, url);
  });

  it('is read by every process (worker, dashboard)', () => {
    assert.match(readWorkerConfig({ DATABASE_PASSWORD: 'a@b' }).databaseUrl, /:a%40b@/);
    assert.match(readDashboardConfig({ DATABASE_PASSWORD: 'a@b' }).databaseUrl, /:a%40b@/);
  });
});

describe('a password pasted into DATABASE_URL / REDIS_URL unencoded', () => {
  for (const name of ['DATABASE_URL', 'REDIS_URL'] as const) {
    const scheme = name === 'DATABASE_URL' ? 'postgres' : 'redis';
    for (const password of ['Zq7@sX/wY#rdK', '1234/abXY@cQ', 'aQ?bW@cE']) {
      it(`${name} with ${JSON.stringify(password)}: refused naming the variable, without any of the password`, () => {
        const value = `${scheme}://radar:${password}@${scheme}host:5432/db`;
        assert.throws(
          () => readConnectionConfig({ [name]: value }),
          (error: unknown) => {
            assert.ok(error instanceof ConfigError);
            assert.equal(error.variable, name);
            assert.match(error.message, /percent-encode/);
            assert.ok(error.message.endsWith(`got "${scheme}://radar:***@${scheme}host:5432/db"`), error.message);
            for (const piece of password.split(/[@/#?]/).filter((p) => p.length > 0)) {
              assert.ok(!error.message.includes(piece), `${error.message} shows ${piece}`);
            }
            return true;
          },
        );
      });
    }
  }
});

describe('redactUrl / redactSecrets', () => {
  const cases: [string, string][] = [
    ['postgres://u:pw@h:5432/d', 'postgres://u:***@h:5432/d'],
    ['postgres://radar:p@ss/w#rd@postgres:5432/aharadar', 'postgres://radar:***@postgres:5432/aharadar'],
    ['postgres://radar:12/ab@postgres/aharadar', 'postgres://radar:***@postgres/aharadar'],
    ['redis://:secret@redis:6379', 'redis://:***@redis:6379'],
    ['rediss://default:a#b@r.example:6380/0', 'rediss://default:***@r.example:6380/0'],
    // unparseable URLs
    ['postgres://radar:p@ss@[bad/db', 'postgres://radar:***@[bad/db'],
    ['mysql://admin:s3cret@db/x', 'mysql://admin:***@db/x'],
    // nothing to hide
    ['postgres://radar@postgres:5432/aharadar', 'postgres://radar@postgres:5432/aharadar'],
    ['https://medium.com/@someone/feed', 'https://medium.com/@someone/feed'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['not a url', 'not a url'],
  ];
  for (const [input, expected] of cases) {
    it(`redactUrl(${JSON.stringify(input)})`, () => assert.equal(redactUrl(input), expected));
  }

  it('redactSecrets hides every URL password in a text and leaves the rest', () => {
    const text =
      'getaddrinfo ENOTFOUND ss (postgres://radar:p@ss/w#rd@postgres:5432/aharadar); retrying redis://:t0p/s#cret@redis:6379 ' +
      'after "https://u:v@hooks.example/x", feed http://feed:8000/a.xml ok';
    const redacted = redactSecrets(text);
    assert.equal(
      redacted,
      'getaddrinfo ENOTFOUND ss (postgres://radar:***@postgres:5432/aharadar); retrying redis://:***@redis:6379 ' +
        'after "https://u:***@hooks.example/x", feed http://feed:8000/a.xml ok',
    );
    for (const secret of ['p@ss', 'w#rd', 't0p', 's#cret', ':v@']) assert.ok(!redacted.includes(secret), secret);
  });
});
