/** The CLI's pure parts, in-process: argument parsing, planning, formatting. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { intInRange, parseId, parseIsoDate, parseList, parseWeight } from '../src/args.js';
import { MAX_BACKFILL_WINDOWS, planBackfill } from '../src/backfill-plan.js';
import { buildSourceConfig } from '../src/commands/source.js';
import { quoteArg } from '../src/commands/topic.js';
import { databaseName, maintenanceUrl } from '../src/ensure-database.js';
import { CliError, describeFailure } from '../src/errors.js';
import { formatSpan, renderTable } from '../src/output.js';
import { describeTickReport, readTickReport } from '../src/tick-report.js';
import { buildTopicInput } from '../src/topic-input.js';
import { explainBreakdown } from '../src/views.js';

const HOUR = 3600_000;

describe('argument parsers', () => {
  it('parses ISO dates as UTC unless an offset is given, and rejects impossible ones', () => {
    assert.equal(parseIsoDate('2024-05-01').toISOString(), '2024-05-01T00:00:00.000Z');
    assert.equal(parseIsoDate('2024-05-01T08:30').toISOString(), '2024-05-01T08:30:00.000Z');
    assert.equal(parseIsoDate('2024-05-01T08:30:15.250+02:00').toISOString(), '2024-05-01T06:30:15.250Z');
    assert.equal(parseIsoDate('2024-02-29T23:59:59Z').toISOString(), '2024-02-29T23:59:59.000Z');
    for (const bad of ['2023-02-29', '2024-13-01', '2024-01-01T25:00', 'yesterday', '1714550400', '']) {
      assert.throws(() => parseIsoDate(bad), InvalidArgumentError, bad);
    }
  });

  it('parses bounded integers, ids, weights and keyword lists', () => {
    const size = intInRange(1, 500);
    assert.equal(size('20'), 20);
    for (const bad of ['0', '501', '2.5', '1e2', 'x', '']) assert.throws(() => size(bad), InvalidArgumentError, bad);
    assert.equal(parseId('digest')('42'), 42);
    assert.throws(() => parseId('digest')('-1'), /expected a digest id/);
    assert.equal(parseWeight('1.5'), 1.5);
    assert.throws(() => parseWeight('0'), InvalidArgumentError);
    assert.deepEqual(parseList(' rust, llm,,rust ,'), ['rust', 'llm']);
  });
});

describe('topic input', () => {
  const now = new Date('2024-03-31T10:00:00Z');

  it('anchors `every` schedules at midnight of the time zone and defaults max-per-source to half the size', () => {
    const input = buildTopicInput(' news ', { every: '6h', tz: 'Europe/Berlin', size: 9 }, now);
    assert.equal(input.name, 'news');
    assert.deepEqual(input.schedule, { kind: 'every', everySeconds: 6 * 3600, anchor: new Date('2024-03-30T23:00:00Z') });
    assert.equal(input.maxPerSource, 5);
    assert.equal(input.timeZone, 'Europe/Berlin');
  });

  it('keeps cron schedules with their zone', () => {
    const input = buildTopicInput('c', { cron: ' 0  8,13,20 * * * ', tz: 'UTC', size: 1, maxPerSource: 3 }, now);
    assert.deepEqual(input.schedule, { kind: 'cron', expression: '0 8,13,20 * * *', timeZone: 'UTC' });
    assert.equal(input.maxPerSource, 3);
  });

  it('rejects contradictory or missing schedules and overlapping keywords', () => {
    assert.throws(() => buildTopicInput('x', { tz: 'UTC', size: 1 }, now), CliError);
    assert.throws(() => buildTopicInput('x', { every: '1h', cron: '0 * * * *', tz: 'UTC', size: 1 }, now), /cannot be used together/);
    assert.throws(() => buildTopicInput('x', { every: '1h', tz: 'UTC', size: 1, keywords: ['AI'], exclude: ['ai'] }, now), /is in both --keywords and --exclude/);
    assert.throws(() => buildTopicInput('x'.repeat(201), { every: '1h', tz: 'UTC', size: 1 }, now), /at most 200/);
  });
});

describe('backfill planning', () => {
  const hourly = { kind: 'every' as const, everySeconds: 3600, anchor: new Date('2024-01-01T00:00:00Z') };

  it('starts with the window containing --from and keeps only windows that end by --to', () => {
    const plan = planBackfill(hourly, new Date('2024-01-01T00:30:00Z'), new Date('2024-01-01T05:30:00Z'), new Date('2024-06-01T00:00:00Z'), 60);
    assert.equal(plan.windows.length, 5);
    assert.equal(plan.windows[0]?.start.toISOString(), '2024-01-01T00:00:00.000Z');
    assert.equal(plan.windows.at(-1)?.end.toISOString(), '2024-01-01T05:00:00.000Z');
    assert.equal(plan.clippedTo, null);
  });

  it('clips --to to now minus the lag, so no window that has not ended is scheduled', () => {
    const now = new Date('2024-01-01T05:00:30Z');
    const plan = planBackfill(hourly, new Date('2024-01-01T00:00:00Z'), new Date('2024-01-02T00:00:00Z'), now, 60);
    assert.equal(plan.clippedTo?.toISOString(), '2024-01-01T04:59:30.000Z');
    assert.equal(plan.windows.length, 4, 'the window ending 05:00 is not due until 05:01');
  });

  it(`refuses ranges of more than ${MAX_BACKFILL_WINDOWS} windows, naming where to stop`, () => {
    const minutely = { kind: 'every' as const, everySeconds: 60, anchor: new Date('2024-01-01T00:00:00Z') };
    const from = new Date('2024-01-01T00:00:00Z');
    assert.throws(() => planBackfill(minutely, from, new Date(from.getTime() + 10_001 * 60_000), new Date('2025-01-01T00:00:00Z'), 60), /more than 10,000 windows.*--to 2024-01-07T22:40:00\.000Z/);
    assert.equal(planBackfill(minutely, from, new Date(from.getTime() + 10_000 * 60_000), new Date('2025-01-01T00:00:00Z'), 60).windows.length, 10_000);
  });

  it('rejects an empty or future range', () => {
    const now = new Date('2024-01-02T00:00:00Z');
    assert.throws(() => planBackfill(hourly, new Date(now.getTime() - HOUR), new Date(now.getTime() - 2 * HOUR), now, 60), /must be before --to/);
    assert.throws(() => planBackfill(hourly, now, new Date(now.getTime() + HOUR), now, 60), /not in the past/);
  });
});

describe('source config from flags', () => {
  it('validates through the connector and labels the source', async () => {
    const feed = await buildSourceConfig({ topic: 't', type: 'FEED', url: 'https://example.com/a feed.xml', weight: 1 });
    assert.deepEqual(feed, { type: 'feed', config: { url: 'https://example.com/a%20feed.xml' }, label: feed.label });
    const hn = await buildSourceConfig({ topic: 't', type: 'hackernews', list: 'new', limit: 5, weight: 1 });
    assert.deepEqual(hn.config, { list: 'new', limit: 5 });
    await assert.rejects(buildSourceConfig({ topic: 't', type: 'hackernews', weight: 1 }), /hackernews sources need --list/);
    await assert.rejects(buildSourceConfig({ topic: 't', type: 'feed', url: 'https://x.test', limit: 3, weight: 1 }), /--limit does not apply to feed sources/);
  });
});

describe('formatting', () => {
  it('explains a stored score breakdown in a few words', () => {
    assert.equal(
      explainBreakdown({ recency: 0.9, engagement: 0.41, matchedKeywords: ['rust'], keywordBoost: 0.5, corroboration: 0.25, sourceWeight: 1.5, keywordPenalty: 1, total: 4 }),
      'recency 0.90, engagement 0.41, keywords: rust, corroborated +0.25, source weight ×1.5',
    );
    assert.equal(explainBreakdown({ recency: 0, engagement: 0, matchedKeywords: [], corroboration: 0, sourceWeight: 1, keywordPenalty: 0.25 }), 'recency 0.00, no keyword match ×0.25');
    assert.equal(explainBreakdown(null), 'no breakdown stored');
  });

  it('renders aligned tables and coarse spans', () => {
    assert.equal(renderTable(['ID', 'NAME'], [[1, 'a'], [22, null]]), 'ID  NAME\n1   a\n22  -\n');
    assert.equal(formatSpan(45_000), '45s');
    assert.equal(formatSpan(3 * HOUR + 10 * 60_000), '3h10m');
    assert.equal(formatSpan(50 * HOUR), '2d2h');
  });

  it('reads a tick report defensively', () => {
    const report = readTickReport({ outcome: 'done', dueTopics: 2, windowsScheduled: 3, skipped: 0, reenqueued: 1, pollsPlanned: 7, pollsReenqueued: 0, durationMs: 12 });
    assert.ok(report);
    assert.equal(describeTickReport(report), 'done: 2 due topics, 3 windows scheduled, 0 skipped, 1 re-enqueued, 7 polls planned (0 re-enqueued) in 12 ms');
    assert.equal(readTickReport('nope'), null);
    assert.equal(readTickReport({})?.dueTopics, null);
  });

  it('quotes names for suggested shell commands', () => {
    assert.equal(quoteArg('news'), 'news');
    assert.equal(quoteArg("Bob's news"), `'Bob'\\''s news'`);
  });
});

describe('errors and URLs', () => {
  it('describes failures in one line without passwords', async () => {
    assert.equal(await describeFailure(new CliError('boom')), 'boom');
    const configError = Object.assign(new Error('X must be set'), { name: 'ConfigError' });
    assert.equal(await describeFailure(configError), 'invalid configuration: X must be set');
    assert.equal(await describeFailure(new Error('failed at postgres://u:pw@h/db\n  more')), 'failed at postgres://u:***@h/db more');
    assert.match(await describeFailure(Object.assign(new Error('relation "topics" does not exist'), { code: '42P01' })), /run `radar migrate` first/);
    assert.equal(await describeFailure(new AggregateError([new Error('connect ECONNREFUSED ::1:5432')], '')), 'connect ECONNREFUSED ::1:5432');
  });

  it('derives the database name and the maintenance database URL', () => {
    assert.equal(databaseName('postgres://u:p@h:5432/my%20db?sslmode=disable'), 'my db');
    assert.equal(maintenanceUrl('postgres://u:p@h:5432/radar?sslmode=disable'), 'postgres://u:p@h:5432/postgres?sslmode=disable');
  });
});
