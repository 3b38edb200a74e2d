import { sql, type Kysely } from 'kysely';

/**
 * Feeds are polled on their own cadence and shared by every topic that follows them
 * (DESIGN §6.1). Before this migration a `sources` row was both "a topic follows a URL" and
 * "the URL's fetch state"; now:
 *
 * - `feeds`: one row per polled thing, identified by `key` (type + canonical configuration,
 *   e.g. `feed:https://example.com/rss`). It holds everything about polling: HTTP validators,
 *   health, the adaptive cadence (`next_poll_at`, `poll_interval_ms`, `not_before`) and the
 *   planned-poll state the tick compares-and-sets (`poll_seq`, `poll_queued_at`).
 * - `sources` stays, as the SUBSCRIPTION of a topic to a feed (name and weight per topic), so
 *   every existing source id keeps naming what `radar source list/rm` showed before.
 * - `feed_items` replaces `item_sources`: one row per entry of a feed, unique by
 *   (feed, external id) — one entry is one item even when its URL changes (issue 13.5).
 * - `fetch_results` is per feed.
 *
 * Existing data moves over: sources with the same key become one feed (its freshest fetch
 * state wins), duplicate subscriptions of one topic to one feed collapse into the oldest,
 * links move to their feed (an entry seen under two item ids keeps its earliest), history
 * follows its source's feed. No topic, item, window or digest is touched.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE feeds (
      id                   serial PRIMARY KEY,
      type                 text NOT NULL,
      key                  text NOT NULL,
      config               jsonb NOT NULL,
      enabled              boolean NOT NULL DEFAULT true,
      disabled_reason      text,
      etag                 text,
      last_modified        text,
      last_polled_at       timestamptz,
      last_status          text CHECK (last_status IN ('ok', 'not_modified', 'error')),
      last_error           text,
      last_error_code      text,
      last_http_status     integer,
      consecutive_failures integer NOT NULL DEFAULT 0,
      warning              text,
      poll_interval_ms     integer,
      next_poll_at         timestamptz NOT NULL DEFAULT now(),
      not_before           timestamptz,
      schedule_reason      text,
      poll_seq             integer NOT NULL DEFAULT 0,
      poll_queued_at       timestamptz,
      poll_due_at          timestamptz,
      created_at           timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT feeds_key_key UNIQUE (key),
      CONSTRAINT feeds_disabled_reason CHECK (enabled OR disabled_reason IS NOT NULL),
      CONSTRAINT feeds_queued_shape CHECK ((poll_queued_at IS NULL) = (poll_due_at IS NULL))
    );
    -- The tick's poll planning: feeds due before the next tick that have no planned poll yet.
    -- One index range scan, so planning costs the same with 10 feeds or 100,000 due later.
    CREATE INDEX feeds_due_idx ON feeds (next_poll_at) WHERE enabled AND poll_queued_at IS NULL;
    -- Reconcile: planned polls whose job Redis may have lost.
    CREATE INDEX feeds_queued_idx ON feeds (poll_queued_at) WHERE poll_queued_at IS NOT NULL;

    -- Every distinct source becomes a feed. The key expression is the one the application
    -- computes (libs/pipeline feed-identity): the URL for feeds, list and limit for HN.
    CREATE FUNCTION pg_temp.source_key(type text, config jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE type
        WHEN 'feed' THEN 'feed:' || regexp_replace(config->>'url', '#.*$', '')
        WHEN 'hackernews' THEN 'hackernews:' || (config->>'list') || ':' || coalesce(config->>'limit', '30')
        ELSE type || ':' || config::text
      END
    $$;
    INSERT INTO feeds (type, key, config, enabled, disabled_reason, etag, last_modified, last_polled_at, last_status,
                       last_error, last_http_status, consecutive_failures, created_at)
    SELECT DISTINCT ON (pg_temp.source_key(type, config))
           type, pg_temp.source_key(type, config), config, true, NULL, etag, last_modified, last_fetched_at, last_status,
           last_error, last_http_status, consecutive_failures, created_at
      FROM sources
     ORDER BY pg_temp.source_key(type, config), last_fetched_at DESC NULLS LAST, id;

    ALTER TABLE sources ADD COLUMN feed_id integer REFERENCES feeds (id) ON DELETE CASCADE;
    UPDATE sources s SET feed_id = f.id FROM feeds f WHERE f.key = pg_temp.source_key(s.type, s.config);

    CREATE TABLE feed_items (
      feed_id       integer NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
      external_id   text NOT NULL,
      item_id       integer NOT NULL REFERENCES items (id) ON DELETE CASCADE,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (feed_id, external_id)
    );
    INSERT INTO feed_items (feed_id, external_id, item_id, first_seen_at)
    SELECT DISTINCT ON (s.feed_id, l.external_id) s.feed_id, l.external_id, l.item_id, l.first_seen_at
      FROM item_sources l JOIN sources s ON s.id = l.source_id
     ORDER BY s.feed_id, l.external_id, l.first_seen_at, l.item_id;
    -- Candidate selection walks a topic's feeds' entries seen since the lookback.
    CREATE INDEX feed_items_feed_seen_idx ON feed_items (feed_id, first_seen_at);
    CREATE INDEX feed_items_item_idx ON feed_items (item_id);
    DROP TABLE item_sources;

    ALTER TABLE fetch_results ADD COLUMN feed_id integer REFERENCES feeds (id) ON DELETE CASCADE;
    UPDATE fetch_results r SET feed_id = s.feed_id FROM sources s WHERE s.id = r.source_id;
    ALTER TABLE fetch_results ALTER COLUMN feed_id SET NOT NULL;
    ALTER TABLE fetch_results DROP COLUMN source_id;
    ALTER TABLE fetch_results ADD COLUMN poll_kind text NOT NULL DEFAULT 'scheduled'
      CHECK (poll_kind IN ('scheduled', 'freshness', 'manual'));
    ALTER TABLE fetch_results ADD COLUMN lag_ms integer;
    CREATE INDEX fetch_results_feed_idx ON fetch_results (feed_id, fetched_at DESC);
    CREATE INDEX fetch_results_fetched_idx ON fetch_results (fetched_at);

    -- One subscription per (topic, feed): keep the oldest of duplicates, with the highest weight.
    UPDATE sources s SET weight = d.weight
      FROM (SELECT min(id) AS id, max(weight) AS weight FROM sources GROUP BY topic_id, feed_id HAVING count(*) > 1) d
     WHERE s.id = d.id;
    DELETE FROM sources s USING sources keep
     WHERE keep.topic_id = s.topic_id AND keep.feed_id = s.feed_id AND keep.id < s.id;
    ALTER TABLE sources ALTER COLUMN feed_id SET NOT NULL;
    ALTER TABLE sources ADD CONSTRAINT sources_topic_feed_key UNIQUE (topic_id, feed_id);
    CREATE INDEX sources_feed_idx ON sources (feed_id);
    ALTER TABLE sources DROP COLUMN type, DROP COLUMN config, DROP COLUMN enabled, DROP COLUMN etag,
      DROP COLUMN last_modified, DROP COLUMN last_fetched_at, DROP COLUMN last_status, DROP COLUMN last_error,
      DROP COLUMN last_http_status, DROP COLUMN consecutive_failures;

    -- Retention keeps every item a digest shows; this makes "is it in a digest?" an index probe.
    CREATE INDEX digest_items_item_idx ON digest_items (item_id);

    -- Issue 13.2: a topic whose schedule cannot be planned (a zone this ICU lacks) records why,
    -- instead of failing every tick for every topic.
    ALTER TABLE topics ADD COLUMN schedule_error text;
    ALTER TABLE topics ADD COLUMN schedule_error_at timestamptz;
  `.execute(db);
}

export async function down(): Promise<void> {
  // Splitting shared feeds back into per-topic sources would invent fetch state; restore a
  // backup taken before upgrading instead (README "Upgrading").
  throw new Error('0003_polled_feeds cannot be reverted; restore the pre-upgrade backup');
}
