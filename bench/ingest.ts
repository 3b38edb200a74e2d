/**
 * Scenario 3 — ingest (poll → parse → store): 200 RSS feeds x 50 items served by a local HTTP
 * server (in its own process: the publishers' CPU is not ours), each polled once with the
 * product's `pollFeed` (libs/pipeline) — safe fetcher, parse, normalise, dedupe (10 of every
 * feed's items also appear in the next feed), then the poll's one transaction: entries and
 * items, history row, feed health and next poll — at the poll concurrency of one worker
 * (POLL_CONCURRENCY, no host gate: the feeds stand for many publishers). Each poll reads its
 * feed row first, as the worker's poll job does.
 *
 * The raw limit, measured in the same run: parsing the same 200 documents from memory
 * (parseFeed) plus ONE plain bulk INSERT of the parsed rows into a scratch table shaped like
 * `items` (same columns and indexes), nothing else.
 */
import { DEFAULTS, readWorkerConfig } from '@aharadar/config';
import { findFeed } from '@aharadar/db';
import { createSafeFetcher, parseFeed, type NormalizedItem } from '../libs/connectors/src/index.js';
import { mapWithConcurrency, pollFeed, type PollDeps } from '../libs/pipeline/src/index.js';
import { ingestFeedBody, RSS_CONTENT_TYPE, startFeedProcess } from './feeds.js';
import { fmtNum, median, medianPairedRatio, openServices, profiled, round, silentLogger, timed, type BenchContext, type ScenarioResult } from './support.js';

/** The issue's goal: two runs of the window-time ingest on main measured 45% and 46%. */
const MIN_SHARE = 0.6;

export async function ingest(ctx: BenchContext): Promise<ScenarioResult> {
  const feeds = ctx.quick ? 40 : 200;
  const perFeed = 50;
  const rounds = ctx.quick ? 1 : 5;
  const totalItems = feeds * perFeed;
  const concurrency = DEFAULTS.POLL_CONCURRENCY;
  // The worker's pool: polls beyond 8 queue for a connection (apps/worker/src/main.ts).
  const services = await openServices({ maxConnections: Math.min(concurrency, 8) + 4 });
  const server = await startFeedProcess();
  const fetcher = createSafeFetcher({ timeoutMs: 15_000, maxBytes: DEFAULTS.FETCH_MAX_BYTES, maxRedirects: 5, allowPrivate: true });
  try {
    const { database } = services;
    const now = Date.now();
    // The same documents the feed server process serves, for the raw (parse-only) side.
    const feedUrl = (f: number): string => `${server.base}/ingest/${f}.xml?n=${perFeed}&now=${now}`;
    const bodies = Array.from({ length: feeds }, (_, f) => ingestFeedBody(f, perFeed, now));
    const later = new Date(now + 86_400_000);
    const feedRows = await database.sql<{ id: number }[]>`
      INSERT INTO feeds (type, key, config, next_poll_at)
      SELECT 'feed', 'feed:' || u.url, jsonb_build_object('url', u.url), ${later}
        FROM (SELECT f, ${`${server.base}/ingest/`} || f || ${`.xml?n=${perFeed}&now=${now}`} AS url FROM generate_series(0, ${feeds - 1}::int) AS f) u
       ORDER BY u.f
      RETURNING id`;
    const feedIds = feedRows.map((r) => r.id);
    const deps: PollDeps = {
      db: database.db,
      fetcher,
      log: silentLogger(),
      hackerNewsApiUrl: 'http://127.0.0.1:1/v0',
      polling: readWorkerConfig({}).polling,
      now: () => new Date(),
    };

    // A deployment that has been running a while: items an older feed brought, with current
    // planner statistics. Each round starts from exactly this state.
    const history = 20_000;
    const [old] = await database.sql<{ id: number }[]>`
      INSERT INTO feeds (type, key, config, next_poll_at) VALUES ('feed', 'feed:http://127.0.0.1:1/old.xml', '{"url": "http://127.0.0.1:1/old.xml"}', ${later}) RETURNING id`;
    await database.sql`
      WITH i AS (
        INSERT INTO items (url, canonical_url, url_hash, title, summary, published_at, first_seen_at)
        SELECT 'https://old.example/' || n, 'https://old.example/' || n, md5('old' || n) || md5('x' || n), 'Older story ' || n, 'An older summary.',
               now() - n * interval '1 minute', now() - n * interval '1 minute'
          FROM generate_series(1, ${history}::int) AS n
        RETURNING id, first_seen_at)
      INSERT INTO feed_items (feed_id, external_id, item_id, first_seen_at) SELECT ${old!.id}, 'old-' || id, id, first_seen_at FROM i`;
    const [{ last } = { last: 0 }] = await database.sql<{ last: number }[]>`SELECT max(id)::int AS last FROM items`;
    // The raw side's target: same columns, defaults and indexes as items, no rows.
    await database.sql`CREATE TABLE bench_scratch_items (LIKE items INCLUDING ALL)`;
    await database.sql`VACUUM ANALYZE items`;
    await database.sql`VACUUM ANALYZE feed_items`;
    const reset = async (): Promise<void> => {
      await database.sql`DELETE FROM feed_items WHERE feed_id <> ${old!.id}`;
      await database.sql`DELETE FROM items WHERE id > ${last}`;
      await database.sql`DELETE FROM fetch_results`;
      await database.sql`TRUNCATE bench_scratch_items`;
      await database.sql`
        UPDATE feeds SET etag = NULL, last_modified = NULL, last_status = NULL, last_polled_at = NULL, consecutive_failures = 0,
                         poll_interval_ms = NULL, next_poll_at = ${later}, not_before = NULL, schedule_reason = NULL`;
      await database.sql`VACUUM items`;
      await database.sql`VACUUM feed_items`;
      await database.sql`VACUUM feeds`;
    };

    let profiledOnce = false;
    const measureOurs = async (): Promise<number> => {
      const run = () =>
        mapWithConcurrency(feedIds, concurrency, async (id) => {
          const feed = await findFeed(deps.db, id);
          if (!feed) throw new Error(`feed ${id} vanished`);
          return pollFeed(deps, feed, { kind: 'scheduled', claimSeq: null, windowId: null, lagMs: null });
        });
      const { ms, value } = await timed(() => (profiledOnce ? run() : profiled(ctx, 'ingest-ours', run)));
      profiledOnce = true;
      const failed = value.filter((r) => r.status !== 'ok');
      const found = value.reduce((n, r) => n + r.itemsFound, 0);
      if (failed.length !== 0 || found !== totalItems) throw new Error(`ingest: ${failed.length} polls failed (${failed[0]?.error ?? ''}), ${found} items found (expected ${totalItems})`);
      return ms;
    };
    const measureRaw = async (): Promise<{ ms: number; parseMs: number; insertMs: number; rows: number }> => {
      const parse = await timed(async () => {
        const items: NormalizedItem[] = [];
        bodies.forEach((body, f) => items.push(...parseFeed(body, RSS_CONTENT_TYPE, feedUrl(f)).items));
        return items;
      });
      if (parse.value.length !== totalItems) throw new Error(`raw parse found ${parse.value.length} items`);
      const unique = [...new Map(parse.value.map((i) => [i.url, i])).values()];
      const col = <T>(pick: (i: NormalizedItem) => T): T[] => unique.map(pick);
      const insert = await timed(
        () => database.sql`
          INSERT INTO bench_scratch_items (url, title, summary, author, published_at)
          SELECT * FROM unnest(${col((i) => i.url)}::text[], ${col((i) => i.title)}::text[], ${col((i) => i.summary)}::text[],
                               ${col((i) => i.author)}::text[], ${col((i) => i.publishedAt?.toISOString() ?? null)}::timestamptz[])`,
      );
      return { ms: parse.ms + insert.ms, parseMs: parse.ms, insertMs: insert.ms, rows: unique.length };
    };

    // Warm-up of both paths (JIT, connections, the server's sockets), not counted.
    await reset();
    await measureOurs();
    await reset();
    await measureRaw();

    const ourMs: number[] = [];
    const raw: { ms: number; parseMs: number; insertMs: number; rows: number }[] = [];
    let uniqueItems = 0;
    let links = 0;
    for (let r = 0; r < rounds; r++) {
      await reset();
      // Alternate the order so neither side always runs first.
      if (r % 2 === 0) {
        ourMs.push(await measureOurs());
        uniqueItems = Number((await database.sql<{ n: string }[]>`SELECT count(*) AS n FROM items WHERE id > ${last}`)[0]?.n ?? 0);
        links = Number((await database.sql<{ n: string }[]>`SELECT count(*) AS n FROM feed_items WHERE feed_id <> ${old!.id}`)[0]?.n ?? 0);
        await reset();
        raw.push(await measureRaw());
      } else {
        raw.push(await measureRaw());
        await reset();
        ourMs.push(await measureOurs());
      }
      ctx.log(`ingest round ${r + 1}/${rounds}: ours ${fmtNum(totalItems / (ourMs.at(-1)! / 1000))} items/s, raw ${fmtNum(totalItems / (raw.at(-1)!.ms / 1000))} items/s`);
    }

    const oursRate = totalItems / (median(ourMs) / 1000);
    const rawRate = totalItems / (median(raw.map((r) => r.ms)) / 1000);
    // Throughput share = raw time / our time, per round, then the median.
    const share = medianPairedRatio(
      raw.map((r) => r.ms),
      ourMs,
    );
    return {
      rows: [
        {
          scenario: 'ingest',
          metric: `poll -> parse -> store, ${feeds} feeds x ${perFeed} items over HTTP, ${concurrency} at once (median of ${rounds})`,
          ours: `${fmtNum(oursRate)} items/s`,
          baseline: `${fmtNum(rawRate)} items/s raw (parse + 1 INSERT)`,
          ratio: `${(share * 100).toFixed(0)}% of raw (median of per-round ratios)`,
          target: `>= ${MIN_SHARE * 100}% of raw`,
          pass: share >= MIN_SHARE,
        },
      ],
      figures: {
        feeds,
        itemsAlreadyStored: history,
        itemsPerFeed: perFeed,
        itemsTotal: totalItems,
        uniqueItems,
        feedItemLinks: links,
        pollConcurrency: concurrency,
        hostGate: 'none',
        rounds,
        ourMs: ourMs.map((v) => round(v)),
        ourItemsPerSecond: round(oursRate, 0),
        ourPollsPerSecond: round(feeds / (median(ourMs) / 1000), 1),
        rawMs: raw.map((r) => round(r.ms)),
        rawParseMs: raw.map((r) => round(r.parseMs)),
        rawInsertMs: raw.map((r) => round(r.insertMs)),
        rawItemsPerSecond: round(rawRate, 0),
        shareOfRaw: round(share, 3),
        shareOfRawPerRound: ourMs.map((v, i) => round(raw[i]!.ms / v, 3)),
        target: { minShare: MIN_SHARE },
        met: share >= MIN_SHARE,
      },
    };
  } finally {
    await fetcher.close();
    await server.close();
    await services.close();
  }
}
