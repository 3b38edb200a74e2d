import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { publisherFloor, PUBLISHER_FLOOR_CAP_MS } from '../src/index.js';
import type { PublisherHints } from '../src/index.js';
import { describeDuration, parseHttpDate } from '../src/publisher-hints.js';
import { at, DAY, HOUR, int, MINUTE, pick, prng } from './support.js';

const NOW = at('2026-03-10T12:00:00Z');
const SECOND = 1_000;

const none: PublisherHints = { retryAfter: null, cacheControl: null, expires: null, date: null, ttlMinutes: null };
const hints = (overrides: Partial<PublisherHints>): PublisherHints => ({ ...none, ...overrides });
const floorOf = (overrides: Partial<PublisherHints>): { wait: number | null; reason: string | null } => {
  const floor = publisherFloor(hints(overrides), NOW);
  return { wait: floor.notBefore === null ? null : floor.notBefore.getTime() - NOW.getTime(), reason: floor.reason };
};
/** IMF-fixdate of `NOW + offsetMs`, as a server would send it. */
const httpDate = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toUTCString();
const nothing = { wait: null, reason: null };

describe('publisherFloor: no hints', () => {
  it('asks nothing when nothing is sent', () => {
    assert.deepEqual(publisherFloor(none, NOW), { notBefore: null, reason: null });
  });

  it('rejects an invalid now (a programming error, not a header)', () => {
    assert.throws(() => publisherFloor(none, new Date(Number.NaN)), /now is not a valid Date/);
  });
});

describe('publisherFloor: Retry-After', () => {
  it('reads delta-seconds', () => {
    assert.deepEqual(floorOf({ retryAfter: '120' }), { wait: 120 * SECOND, reason: 'Retry-After 120 s' });
    assert.deepEqual(floorOf({ retryAfter: ' 120 ' }), { wait: 120 * SECOND, reason: 'Retry-After 120 s' });
  });

  it('zero asks nothing', () => {
    assert.deepEqual(floorOf({ retryAfter: '0' }), nothing);
  });

  it('reads an HTTP-date as absolute without a Date header', () => {
    const floor = floorOf({ retryAfter: httpDate(10 * MINUTE) });
    assert.equal(floor.wait, 10 * MINUTE);
    assert.equal(floor.reason, 'Retry-After date (in 10 min)');
  });

  it('reads an HTTP-date relative to the Date header, whatever the server clock says', () => {
    // Server clock one hour fast: it means "10 minutes after this response".
    assert.equal(floorOf({ date: httpDate(HOUR), retryAfter: httpDate(HOUR + 10 * MINUTE) }).wait, 10 * MINUTE);
    // Server clock three hours slow: taken absolutely this would be in the past (no wait).
    assert.equal(floorOf({ date: httpDate(-3 * HOUR), retryAfter: httpDate(-3 * HOUR + 5 * MINUTE) }).wait, 5 * MINUTE);
  });

  it('an invalid Date header is ignored and the HTTP-date read absolutely', () => {
    assert.equal(floorOf({ date: 'yesterday', retryAfter: httpDate(2 * MINUTE) }).wait, 2 * MINUTE);
  });

  it('ignores garbage', () => {
    for (const retryAfter of ['', 'soon', '-5', '1.5', '120s', '0x10', '1e3', '12 0', 'Tue, 99 Mar 2026 10:00:00 GMT']) {
      assert.deepEqual(floorOf({ retryAfter }), nothing, retryAfter);
    }
  });

  it('a past HTTP-date asks nothing', () => {
    assert.deepEqual(floorOf({ retryAfter: httpDate(-MINUTE) }), nothing);
  });
});

describe('publisherFloor: Cache-Control', () => {
  it('honours max-age in its usual spellings', () => {
    const expected = { wait: 600 * SECOND, reason: 'Cache-Control max-age 600' };
    assert.deepEqual(floorOf({ cacheControl: 'max-age=600' }), expected);
    assert.deepEqual(floorOf({ cacheControl: 'public, Max-Age=600, must-revalidate' }), expected);
    assert.deepEqual(floorOf({ cacheControl: 'max-age="600"' }), expected);
    assert.deepEqual(floorOf({ cacheControl: ' private ,max-age = 600 ' }), expected);
  });

  it('ignores s-maxage (shared caches only)', () => {
    assert.deepEqual(floorOf({ cacheControl: 's-maxage=600' }), nothing);
    assert.equal(floorOf({ cacheControl: 's-maxage=9000, max-age=60' }).wait, 60 * SECOND);
  });

  it('no-cache and no-store ask nothing, even next to max-age', () => {
    assert.deepEqual(floorOf({ cacheControl: 'no-cache' }), nothing);
    assert.deepEqual(floorOf({ cacheControl: 'no-store' }), nothing);
    assert.deepEqual(floorOf({ cacheControl: 'max-age=600, no-cache' }), nothing);
    assert.deepEqual(floorOf({ cacheControl: 'NO-STORE, max-age=600' }), nothing);
  });

  it('a qualified no-cache="field" restricts fields only and keeps max-age', () => {
    assert.equal(floorOf({ cacheControl: 'no-cache="Set-Cookie, X-Foo", max-age=600' }).wait, 600 * SECOND);
  });

  it('the first max-age counts', () => {
    assert.equal(floorOf({ cacheControl: 'max-age=60, max-age=600' }).wait, 60 * SECOND);
  });

  it('ignores garbage and max-age=0', () => {
    for (const cacheControl of ['', ',,,', 'max-age', 'max-age=', 'max-age=abc', 'max-age=-1', 'max-age=1.5', '=600', 'max-age=0', 'max-age="60']) {
      assert.deepEqual(floorOf({ cacheControl }), nothing, cacheControl);
    }
  });
});

describe('publisherFloor: Expires', () => {
  it('a future Expires is a floor (absolute without Date)', () => {
    assert.deepEqual(floorOf({ expires: httpDate(45 * MINUTE) }), { wait: 45 * MINUTE, reason: 'Expires in 45 min' });
  });

  it('is read relative to a skewed Date header', () => {
    assert.equal(floorOf({ date: httpDate(-2 * HOUR), expires: httpDate(-2 * HOUR + 30 * MINUTE) }).wait, 30 * MINUTE);
    assert.equal(floorOf({ date: httpDate(2 * HOUR), expires: httpDate(2 * HOUR + 30 * MINUTE) }).wait, 30 * MINUTE);
  });

  it('invalid or past asks nothing', () => {
    for (const expires of ['0', '-1', 'never', 'Thu, 01 Jan 1970 00:00:00 GMT', httpDate(-MINUTE)]) {
      assert.deepEqual(floorOf({ expires }), nothing, expires);
    }
    // Past relative to the server's own Date, although in our future.
    assert.deepEqual(floorOf({ date: httpDate(2 * HOUR), expires: httpDate(HOUR) }), nothing);
  });

  it('is ignored when Cache-Control decides freshness (RFC 9111 §5.3)', () => {
    assert.equal(floorOf({ cacheControl: 'max-age=60', expires: httpDate(HOUR) }).wait, 60 * SECOND);
    assert.deepEqual(floorOf({ cacheControl: 'no-cache', expires: httpDate(HOUR) }), nothing);
    // s-maxage or an unusable max-age do not override it.
    assert.equal(floorOf({ cacheControl: 's-maxage=60', expires: httpDate(HOUR) }).wait, HOUR);
    assert.equal(floorOf({ cacheControl: 'max-age=soon', expires: httpDate(HOUR) }).wait, HOUR);
  });
});

describe('publisherFloor: RSS ttl', () => {
  it('reads minutes', () => {
    assert.deepEqual(floorOf({ ttlMinutes: 60 }), { wait: HOUR, reason: 'RSS ttl 60 min' });
  });

  it('ignores zero, negative and non-finite values', () => {
    for (const ttlMinutes of [0, -5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.deepEqual(floorOf({ ttlMinutes }), nothing, String(ttlMinutes));
    }
  });
});

describe('publisherFloor: combining and capping', () => {
  it('the latest ask wins and is named', () => {
    const all = { retryAfter: '120', cacheControl: 'max-age=600', ttlMinutes: 60 };
    assert.deepEqual(floorOf(all), { wait: HOUR, reason: 'RSS ttl 60 min' });
    assert.deepEqual(floorOf({ ...all, retryAfter: '7200' }), { wait: 2 * HOUR, reason: 'Retry-After 7200 s' });
    assert.deepEqual(floorOf({ ...all, ttlMinutes: 5 }), { wait: 600 * SECOND, reason: 'Cache-Control max-age 600' });
    assert.deepEqual(floorOf({ retryAfter: '60', expires: httpDate(HOUR) }), { wait: HOUR, reason: 'Expires in 60 min' });
  });

  it('garbage in one hint does not hide the others', () => {
    assert.equal(floorOf({ retryAfter: 'later', cacheControl: 'max-age=x', expires: 'soon', date: '??', ttlMinutes: 30 }).wait, 30 * MINUTE);
  });

  it('caps at 24 h from now and says so', () => {
    assert.equal(PUBLISHER_FLOOR_CAP_MS, DAY);
    assert.deepEqual(floorOf({ cacheControl: 'max-age=31536000' }), { wait: DAY, reason: 'Cache-Control max-age 31536000 (capped at 24 h)' });
    assert.equal(floorOf({ retryAfter: '9'.repeat(40) }).wait, DAY);
    assert.equal(floorOf({ cacheControl: `max-age=${'9'.repeat(40)}` }).wait, DAY);
    assert.equal(floorOf({ expires: httpDate(30 * DAY) }).wait, DAY);
    assert.equal(floorOf({ ttlMinutes: 100_000 }).wait, DAY);
    // Exactly at the cap is not "capped".
    assert.deepEqual(floorOf({ retryAfter: '86400' }), { wait: DAY, reason: 'Retry-After 86400 s' });
  });

  it('never throws on random garbage and stays within (now, now + 24 h]', () => {
    const random = prng(20260310);
    const pieces = ['max-age', '=', '"', ',', ' ', 'no-cache', '60', 'GMT', 'Tue', '10 Mar 2026', '12:00:00', '-', '9999', '\\', 'é', '\u0000'];
    const junk = (): string => Array.from({ length: int(random, 0, 8) }, () => pick(random, pieces)).join('');
    for (let i = 0; i < 2_000; i++) {
      const h: PublisherHints = {
        retryAfter: random() < 0.2 ? null : junk(),
        cacheControl: random() < 0.2 ? null : junk(),
        expires: random() < 0.2 ? null : junk(),
        date: random() < 0.2 ? null : junk(),
        ttlMinutes: random() < 0.5 ? null : (random() - 0.3) * 1e6,
      };
      const floor = publisherFloor(h, NOW);
      if (floor.notBefore === null) {
        assert.equal(floor.reason, null);
        continue;
      }
      const wait = floor.notBefore.getTime() - NOW.getTime();
      assert.ok(wait > 0 && wait <= DAY, JSON.stringify(h));
      assert.equal(typeof floor.reason, 'string');
    }
  });
});

describe('parseHttpDate', () => {
  const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
  const now = at('2026-01-01T00:00:00Z').getTime();

  it('reads the three formats of RFC 9110 §5.6.7', () => {
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', now), expected);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', now), expected);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994', now), expected);
  });

  it('tolerates case, a missing weekday, UTC and numeric zones, a leap second', () => {
    assert.equal(parseHttpDate('sun, 06 nov 1994 08:49:37 gmt', now), expected);
    assert.equal(parseHttpDate('06 Nov 1994 08:49:37 UTC', now), expected);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 09:49:37 +0100', now), expected);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 03:49:37 -0500', now), expected);
    assert.equal(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT', now), Date.UTC(2016, 11, 31, 23, 59, 59));
  });

  it('reads a two-digit year as at most 50 years ahead', () => {
    assert.equal(parseHttpDate('Friday, 06-Nov-70 08:49:37 GMT', now), Date.UTC(2070, 10, 6, 8, 49, 37));
    assert.equal(parseHttpDate('Friday, 06-Nov-77 08:49:37 GMT', now), Date.UTC(1977, 10, 6, 8, 49, 37));
  });

  it('rejects what Date.parse would happily accept', () => {
    for (const text of ['1', '2026', '2026-03-10', '2026-03-10T12:00:00Z', 'Tue Mar 10 2026', 'tomorrow', '0', '', 'Tue, 31 Feb 2026 10:00:00 GMT', 'Tue, 10 Mar 2026 24:00:00 GMT', 'Tue, 10 Mar 2026 10:60:00 GMT', 'Tue, 10 Foo 2026 10:00:00 GMT', 'Tue, 10 Mar 0050 10:00:00 GMT', 'Tue, 10 Mar 2026 10:00:00 PST']) {
      assert.equal(parseHttpDate(text, now), null, text);
    }
  });
});

describe('describeDuration', () => {
  it('keeps numbers readable', () => {
    assert.deepEqual(
      [800, 1_000, 45_000, 60_000, 90_000, 119_000, 120_000, 450_000, 5_400_000, 7_200_000, DAY, 2 * DAY, 3.25 * DAY].map(describeDuration),
      ['800 ms', '1 s', '45 s', '1 min', '90 s', '119 s', '2 min', '7.5 min', '90 min', '2 h', '24 h', '2 d', '3.3 d'],
    );
  });
});
