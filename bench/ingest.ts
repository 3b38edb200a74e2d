/**
 * Scenario 3 — pipeline ingest: 200 RSS feeds x 50 items served by a local HTTP server (in its
 * own process: the publishers' CPU is not ours), fetched through the safe fetcher, parsed,
 * normalised, deduped (10 of every feed's items also appear in the next feed) and persisted by
 * the product's ingestSources, against the raw limit measured in the same run: parsing the
 * same 200 documents from memory plus ONE bulk INSERT.
 */
import { DEFAULTS } from '@aharadar/config';
import { enabledSources } from '@aharadar/db';
import { createSafeFetcher, parseFeed, type NormalizedItem } from '../libs/connectors/src/index.js';
import { ingestSources, type IngestDeps } from '../libs/pipeline/src/index.js';
import { ingestFeedBody, RSS_CONTENT_TYPE, startFeedProcess } from './feeds.js';
import { bulkCreateTopics, fmtNum, median, medianPairedRatio, openServices, profiled, round, silentLogger, timed, type BenchContext, type ScenarioResult } from './support.js';

export async function ingest(ctx: BenchContext): Promise<ScenarioResult> {
  const feeds = ctx.quick ? 40 : 200;
  const perFeed = 50;
  const rounds = ctx.quick ? 1 : 5;
  const totalItems = feeds * perFeed;
  const services = await openServices({ maxConnections: DEFAULTS.FETCH_SOURCE_CONCURRENCY + 4 });
  const server = await startFeedProcess();
  const fetcher = createSafeFetcher({ timeoutMs: 15_000, maxBytes: DEFAULTS.FETCH_MAX_BYTES, maxRedirects: 5, allowPrivate: true });
  try {
    const { database } = services;
    const now = Date.now();
    // The same documents the feed server process serves, for the raw (parse-only) side.
    const feedUrl = (f: number): string => `${server.base}/ingest/${f}.xml?n=${perFeed}&now=${now}`;
    const bodies = Array.from({ length: feeds }, (_, f) => ingestFeedBody(f, perFeed, now));
    const range = await bulkCreateTopics(database, {
      count: 1,
      prefix: 'ingest',
      everySeconds: 3600,
      anchor: new Date(Math.floor(now / 86_400_000) * 86_400_000),
      createdAt: new Date(now),
      watermark: null,
      nextWindowEnd: new Date(now + 3_600_000),
    });
    await database.sql`
      INSERT INTO sources (topic_id, type, name, config)
      SELECT ${range.firstId}, 'feed', 'feed ' || f, jsonb_build_object('url', ${`${server.base}/ingest/`} || f || ${`.xml?n=${perFeed}&now=${now}`})
        FROM generate_series(0, ${feeds - 1}::int) AS f`;
    const sources = await enabledSources(database.db, range.firstId);
    const deps: IngestDeps = {
      db: database.db,
      fetcher,
      log: silentLogger(),
      sourceConcurrency: DEFAULTS.FETCH_SOURCE_CONCURRENCY,
      hackerNewsApiUrl: 'http://127.0.0.1:1/v0',
      now: () => new Date(),
    };

    // A deployment that has been running a while: items from earlier windows (linked to another
    // source), with current planner statistics. Each round starts from exactly this state.
    const history = 20_000;
    const [old] = await database.sql<{ id: number }[]>`
      INSERT INTO sources (topic_id, type, name, config) VALUES (${range.firstId}, 'feed', 'older feed', '{"url": "http://127.0.0.1:1/old.xml"}') RETURNING id`;
    await database.sql`
      WITH i AS (
        INSERT INTO items (url, canonical_url, url_hash, title, summary, published_at, first_seen_at)
        SELECT 'https://old.example/' || n, 'https://old.example/' || n, md5('old' || n) || md5('x' || n), 'Older story ' || n, 'An older summary.',
               now() - n * interval '1 minute', now() - n * interval '1 minute'
          FROM generate_series(1, ${history}::int) AS n
        RETURNING id)
      INSERT INTO item_sources (item_id, source_id, external_id) SELECT id, ${old!.id}, 'old-' || id FROM i`;
    const [{ last } = { last: 0 }] = await database.sql<{ last: number }[]>`SELECT max(id)::int AS last FROM items`;
    await database.sql`VACUUM ANALYZE items`;
    await database.sql`VACUUM ANALYZE item_sources`;
    const reset = async (): Promise<void> => {
      await database.sql`DELETE FROM item_sources WHERE source_id <> ${old!.id}`;
      await database.sql`DELETE FROM items WHERE id > ${last}`;
      await database.sql`DELETE FROM fetch_results`;
      await database.sql`UPDATE sources SET etag = NULL, last_modified = NULL, last_status = NULL, consecutive_failures = 0`;
      await database.sql`VACUUM items`;
      await database.sql`VACUUM item_sources`;
    };

    let profiledOnce = false;
    const measureOurs = async (): Promise<number> => {
      const run = (): ReturnType<typeof ingestSources> => ingestSources(deps, sources, null);
      const { ms, value } = await timed(() => (profiledOnce ? run() : profiled(ctx, 'ingest-ours', run)));
      profiledOnce = true;
      if (value.failed !== 0 || value.itemsFound !== totalItems) throw new Error(`ingest: ${value.failed} sources failed, ${value.itemsFound} items found (expected ${totalItems})`);
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
          INSERT INTO items (url, title, summary, author, published_at)
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
    for (let r = 0; r < rounds; r++) {
      await reset();
      // Alternate the order so neither side always runs first.
      if (r % 2 === 0) {
        ourMs.push(await measureOurs());
        uniqueItems = Number((await database.sql<{ n: string }[]>`SELECT count(*) AS n FROM items WHERE id > ${last}`)[0]?.n ?? 0);
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
    const share = medianPairedRatio(raw.map((r) => r.ms), ourMs);
    return {
      rows: [
        {
          scenario: 'ingest',
          metric: `ingest ${feeds} feeds x ${perFeed} items over HTTP (median of ${rounds})`,
          ours: `${fmtNum(oursRate)} items/s`,
          baseline: `${fmtNum(rawRate)} items/s raw (parse + 1 INSERT)`,
          ratio: `${(share * 100).toFixed(0)}% of raw (median of per-round ratios)`,
          target: '>= 50% of raw',
          pass: share >= 0.5,
        },
      ],
      figures: {
        feeds,
        itemsAlreadyStored: history,
        itemsPerFeed: perFeed,
        itemsTotal: totalItems,
        uniqueItems,
        sourceConcurrency: DEFAULTS.FETCH_SOURCE_CONCURRENCY,
        rounds,
        ourMs: ourMs.map((v) => round(v)),
        ourItemsPerSecond: round(oursRate, 0),
        rawMs: raw.map((r) => round(r.ms)),
        rawParseMs: raw.map((r) => round(r.parseMs)),
        rawInsertMs: raw.map((r) => round(r.insertMs)),
        rawItemsPerSecond: round(rawRate, 0),
        shareOfRaw: round(share, 3),
        shareOfRawPerRound: ourMs.map((v, i) => round(raw[i]!.ms / v, 3)),
        target: { minShare: 0.5 },
        met: share >= 0.5,
      },
    };
  } finally {
    await fetcher.close();
    await server.close();
    await services.close();
  }
}
