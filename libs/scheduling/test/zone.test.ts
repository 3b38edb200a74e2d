import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { assertTimeZone, defaultAnchor, ScheduleError } from '../src/index.js';
import { offsetAt, resolveWall, startOfLocalDay } from '../src/zone.js';
import { at, DAY, HOUR, iso, MINUTE } from './support.js';

describe('assertTimeZone', () => {
  it('accepts IANA zones the runtime knows', () => {
    for (const zone of ['Europe/Berlin', 'America/New_York', 'UTC', 'Etc/GMT+5', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
      assert.doesNotThrow(() => assertTimeZone(zone), zone);
    }
  });

  it('rejects unknown zones with the documented message', () => {
    assert.throws(() => assertTimeZone('Mars/Base'), { name: 'ScheduleError', message: 'unknown time zone "Mars/Base"' });
  });

  it('rejects empty strings and fixed offsets', () => {
    for (const bad of ['', ' ', '+01:00', '-05:00', 'Europe/Berlinn']) assert.throws(() => assertTimeZone(bad), ScheduleError, bad);
  });
});

describe('offsets and wall times', () => {
  it('knows the Berlin offsets either side of the 2026 changes', () => {
    assert.equal(offsetAt('Europe/Berlin', at('2026-03-29T00:59:59Z').getTime()), HOUR);
    assert.equal(offsetAt('Europe/Berlin', at('2026-03-29T01:00:00Z').getTime()), 2 * HOUR);
    assert.equal(offsetAt('Europe/Berlin', at('2026-10-25T00:59:59Z').getTime()), 2 * HOUR);
    assert.equal(offsetAt('Europe/Berlin', at('2026-10-25T01:00:00Z').getTime()), HOUR);
    assert.equal(offsetAt('Asia/Kolkata', at('2026-06-01T00:00:00Z').getTime()), 5.5 * HOUR);
  });

  it('resolves a skipped wall time to the moment of the jump, or to nothing for periodic use', () => {
    const wall = Date.UTC(2026, 2, 29, 2, 30); // 02:30 on the Berlin spring-forward day
    assert.deepEqual(resolveWall('Europe/Berlin', wall, 'once').instants, [at('2026-03-29T01:00:00Z').getTime()]);
    assert.deepEqual(resolveWall('Europe/Berlin', wall, 'each').instants, []);
  });

  it('resolves a repeated wall time to its first pass, or to both for periodic use', () => {
    const wall = Date.UTC(2026, 9, 25, 2, 30); // 02:30 on the Berlin fall-back day
    const first = at('2026-10-25T00:30:00Z').getTime();
    const second = at('2026-10-25T01:30:00Z').getTime();
    assert.deepEqual(resolveWall('Europe/Berlin', wall, 'once'), { instants: [first], overlap: HOUR });
    assert.deepEqual(resolveWall('Europe/Berlin', wall, 'each'), { instants: [first, second], overlap: HOUR });
  });

  it('does not depend on the cache being warm (same answers in reverse order)', () => {
    const instants = Array.from({ length: 200 }, (_, i) => at('2026-10-20T00:00:00Z').getTime() + i * 47 * MINUTE);
    const forward = instants.map((t) => offsetAt('America/Sao_Paulo', t));
    const backward = [...instants].reverse().map((t) => offsetAt('America/Sao_Paulo', t)).reverse();
    assert.deepEqual(forward, backward);
  });
});

describe('defaultAnchor', () => {
  it('is local midnight of the creation day', () => {
    assert.equal(iso(defaultAnchor(at('2026-05-10T15:45:00Z'), 'Europe/Berlin')), '2026-05-09T22:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-01-10T15:45:00Z'), 'Europe/Berlin')), '2026-01-09T23:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-05-10T15:45:00Z'), 'UTC')), '2026-05-10T00:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-05-10T15:45:00Z'), 'Asia/Kolkata')), '2026-05-09T18:30:00.000Z');
  });

  it('uses the local calendar day, not the UTC one', () => {
    // 23:30 UTC on May 10 is already May 11 in Berlin, and still May 10 in New York.
    assert.equal(iso(defaultAnchor(at('2026-05-10T23:30:00Z'), 'Europe/Berlin')), '2026-05-10T22:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-05-11T02:30:00Z'), 'America/New_York')), '2026-05-10T04:00:00.000Z');
  });

  it('is DST-correct on change days (midnight is before the change, in the old offset)', () => {
    assert.equal(iso(defaultAnchor(at('2026-03-29T12:00:00Z'), 'Europe/Berlin')), '2026-03-28T23:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-10-25T12:00:00Z'), 'Europe/Berlin')), '2026-10-24T22:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-03-08T12:00:00Z'), 'America/New_York')), '2026-03-08T05:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-11-01T12:00:00Z'), 'America/New_York')), '2026-11-01T04:00:00.000Z');
  });

  it('maps an instant exactly at local midnight to itself', () => {
    assert.equal(iso(defaultAnchor(at('2026-05-09T22:00:00Z'), 'Europe/Berlin')), '2026-05-09T22:00:00.000Z');
    assert.equal(iso(defaultAnchor(at('2026-05-09T21:59:59.999Z'), 'Europe/Berlin')), '2026-05-08T22:00:00.000Z');
  });

  it('uses the first instant of the day when a DST change skips midnight (America/Santiago)', () => {
    // Chile springs forward at 24:00 on 2026-09-05: the day 2026-09-06 begins at 01:00 -03.
    const anchor = defaultAnchor(at('2026-09-06T15:00:00Z'), 'America/Santiago');
    assert.equal(iso(anchor), '2026-09-06T04:00:00.000Z');
    assert.equal(offsetAt('America/Santiago', anchor.getTime()), -3 * HOUR);
    assert.equal(startOfLocalDay('America/Santiago', anchor.getTime()), anchor.getTime());
  });

  it('throws ScheduleError for bad input', () => {
    assert.throws(() => defaultAnchor(at('2026-05-10T15:45:00Z'), 'Mars/Base'), { message: 'unknown time zone "Mars/Base"' });
    assert.throws(() => defaultAnchor(new Date(Number.NaN), 'UTC'), ScheduleError);
  });

  it('never moves forward and lands on a local midnight for random instants and zones', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago', 'Asia/Kathmandu', 'Pacific/Chatham'];
    const start = at('2026-01-01T00:00:00Z').getTime();
    for (let i = 0; i < 400; i++) {
      const zone = zones[i % zones.length] ?? 'UTC';
      const instant = start + ((i * 7_919_333_777) % (365 * DAY));
      const anchor = defaultAnchor(new Date(instant), zone).getTime();
      assert.ok(anchor <= instant && instant - anchor < 25 * HOUR, `${zone} ${iso(new Date(instant))}`);
      const wall = anchor + offsetAt(zone, anchor);
      assert.equal(((wall % DAY) + DAY) % DAY < HOUR + 1, true, `${zone} ${iso(new Date(anchor))} is not at the start of a day`);
    }
  });
});
