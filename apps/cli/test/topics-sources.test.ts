import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCliFixture, type CliFixture } from './harness.js';

interface TopicJson {
  id: number;
  name: string;
  schedule: { kind: string; every?: string; cron?: string; timeZone: string };
  keywords: string[];
  excludeKeywords: string[];
  digestSize: number;
  maxPerSource: number;
  paused: boolean;
  nextWindowEnd: string;
  sourceCount?: number;
}

interface SourceJson {
  id: number;
  topic: string;
  name: string;
  weight: number;
  feed: { id: number; type: string; config: Record<string, unknown>; topics: string[] };
  health: { lastStatus: string | null; lastError: string | null; consecutiveFailures: number };
}

describe('radar topic and source commands', () => {
  let cli: CliFixture;
  before(async () => {
    cli = await createCliFixture();
  });
  after(async () => {
    await cli.cleanup();
  });

  it('adds topics with every and cron schedules and lists them as a table and as JSON', async () => {
    const added = await cli.ok(['topic', 'add', 'AI News', '--every', '30m', '--keywords', 'rust, llm', '--exclude', 'crypto', '--size', '7']);
    assert.match(added.stdout, /added topic "AI News" \(#\d+\): every 30m/);
    const cron = await cli.json<TopicJson>(['topic', 'add', 'berlin', '--cron', '0 8,13,20 * * *', '--tz', 'Europe/Berlin']);
    assert.deepEqual(cron.schedule, { kind: 'cron', cron: '0 8,13,20 * * *', timeZone: 'Europe/Berlin' });
    assert.equal(cron.digestSize, 20);
    assert.equal(cron.maxPerSource, 10, 'max-per-source defaults to half the size');
    assert.ok(new Date(cron.nextWindowEnd).getTime() > Date.now(), 'the first window ends in the future');

    const table = await cli.ok(['topic', 'list']);
    const lines = table.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^NAME\s+SCHEDULE\s+SOURCES\s+STATE/);
    assert.match(table.stdout, /AI News\s+every 30m\s+0\s+active/);
    assert.match(table.stdout, /berlin\s+cron "0 8,13,20 \* \* \*" Europe\/Berlin/);

    const topics = await cli.json<TopicJson[]>(['topic', 'list']);
    const ai = topics.find((t) => t.name === 'AI News');
    assert.ok(ai);
    assert.deepEqual(ai.keywords, ['rust', 'llm']);
    assert.deepEqual(ai.excludeKeywords, ['crypto']);
    assert.equal(ai.digestSize, 7);
    assert.equal(ai.maxPerSource, 4, 'ceil(7 / 2)');
    assert.equal(ai.schedule.every, '30m');
  });

  it('adds feed and Hacker News sources, validated by their connector, and lists their health', async () => {
    const feed = await cli.json<SourceJson>(['source', 'add', '--topic', 'AI News', '--type', 'feed', '--url', 'http://127.0.0.1:9/feed.xml', '--weight', '1.5']);
    assert.equal(feed.feed.type, 'feed');
    assert.equal(feed.weight, 1.5);
    assert.deepEqual(feed.feed.config, { url: 'http://127.0.0.1:9/feed.xml' });
    assert.deepEqual(feed.feed.topics, ['AI News']);
    // The same URL in a second topic subscribes to the same feed; twice in one topic is refused.
    const shared = await cli.json<SourceJson>(['source', 'add', '--topic', 'berlin', '--type', 'feed', '--url', 'http://127.0.0.1:9/feed.xml#top']);
    assert.equal(shared.feed.id, feed.feed.id);
    assert.deepEqual(shared.feed.topics, ['AI News', 'berlin']);
    const twice = await cli.run(['source', 'add', '--topic', 'berlin', '--type', 'feed', '--url', 'http://127.0.0.1:9/feed.xml']);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr, /topic "berlin" already follows this feed \(source #\d+\)/);
    await cli.ok(['source', 'rm', String(shared.id)]);
    const hn = await cli.ok(['source', 'add', '--topic', 'berlin', '--type', 'hackernews', '--list', 'best', '--limit', '10', '--name', 'HN best']);
    assert.match(hn.stdout, /added hackernews source #\d+ "HN best" to topic "berlin"/);

    // A failure recorded by a run shows up as health in the listing.
    await cli.database.sql`UPDATE feeds SET last_status = 'error', last_error = 'HTTP 503 from upstream', consecutive_failures = 3 WHERE id = (SELECT feed_id FROM sources WHERE id = ${feed.id})`;
    const list = await cli.ok(['source', 'list']);
    assert.match(list.stdout, /^ID\s+TOPIC\s+FEED\s+NAME\s+WEIGHT\s+TOPICS\s+INTERVAL\s+NEXT POLL\s+LAST STATUS\s+POLLS 24H \(304\)\s+ITEMS 24H\s+WHY \/ ERROR/);
    assert.match(list.stdout, /error ×3\s+0 \(0\)\s+0\s+HTTP 503 from upstream/);
    assert.match(list.stdout, /HN best\s+1\s+1\s+-\s+.*never polled/);

    const onlyAi = await cli.json<SourceJson[]>(['source', 'list', '--topic', 'AI News']);
    assert.equal(onlyAi.length, 1);
    assert.deepEqual(onlyAi[0]?.health, { lastStatus: 'error', lastHttpStatus: null, lastErrorCode: null, lastError: 'HTTP 503 from upstream', consecutiveFailures: 3, warning: null });

    const topics = await cli.json<TopicJson[]>(['topic', 'list']);
    assert.equal(topics.find((t) => t.name === 'berlin')?.sourceCount, 1);

    await cli.ok(['source', 'rm', String(feed.id)]);
    assert.deepEqual(await cli.json<SourceJson[]>(['source', 'list', '--topic', 'AI News']), []);
  });

  it('pauses and resumes a topic, recording the windows that ended meanwhile as skipped (paused)', async () => {
    await cli.ok(['topic', 'add', 'minutely', '--every', '1m']);
    const paused = await cli.ok(['topic', 'pause', 'minutely']);
    assert.match(paused.stdout, /paused topic "minutely"/);
    assert.match((await cli.ok(['topic', 'pause', 'minutely'])).stdout, /already paused/);
    let topics = await cli.json<TopicJson[]>(['topic', 'list']);
    assert.equal(topics.find((t) => t.name === 'minutely')?.paused, true);

    // Pretend the pause began 10 minutes ago: its last scheduled window ended then.
    await cli.database.sql`
      UPDATE topics SET watermark = date_trunc('minute', now()) - interval '10 minutes',
                        next_window_end = date_trunc('minute', now()) - interval '9 minutes',
                        created_at = now() - interval '1 hour'
       WHERE name = 'minutely'`;
    const resumed = await cli.ok(['topic', 'resume', 'minutely']);
    const match = /resumed topic "minutely": (\d+) windows that ended while paused recorded as skipped \(paused\)/.exec(resumed.stdout);
    assert.ok(match, resumed.stdout);
    const reported = Number(match[1]);
    assert.ok(reported >= 10 && reported <= 11, `expected about 10 skipped windows, got ${reported}`);
    const [row] = await cli.database.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM windows w JOIN topics t ON t.id = w.topic_id
       WHERE t.name = 'minutely' AND w.status = 'skipped' AND w.skip_reason = 'paused'`;
    assert.equal(row?.n, reported);

    topics = await cli.json<TopicJson[]>(['topic', 'list']);
    assert.equal(topics.find((t) => t.name === 'minutely')?.paused, false);
    assert.match((await cli.ok(['topic', 'resume', 'minutely'])).stdout, /is not paused/);
  });

  it('removes a topic with its sources', async () => {
    await cli.ok(['topic', 'rm', 'berlin']);
    const topics = await cli.json<TopicJson[]>(['topic', 'list']);
    assert.equal(topics.some((t) => t.name === 'berlin'), false);
    const [row] = await cli.database.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sources WHERE name = 'HN best'`;
    assert.equal(row?.n, 0);
  });
});
