import { sql, type Kysely } from 'kysely';

/**
 * The initial schema. Written as SQL because the invariants live in constraints Kysely's
 * builder can't all express (partial unique indexes, CHECKs across columns).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE topics (
      id               serial PRIMARY KEY,
      name             text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
      schedule_kind    text NOT NULL CHECK (schedule_kind IN ('every', 'cron')),
      every_seconds    integer CHECK (every_seconds >= 60),
      cron_expr        text,
      time_zone        text NOT NULL DEFAULT 'UTC',
      anchor           timestamptz NOT NULL,
      keywords         text[] NOT NULL DEFAULT '{}',
      exclude_keywords text[] NOT NULL DEFAULT '{}',
      digest_size      integer NOT NULL DEFAULT 20 CHECK (digest_size BETWEEN 1 AND 500),
      max_per_source   integer NOT NULL DEFAULT 10 CHECK (max_per_source >= 1),
      paused           boolean NOT NULL DEFAULT false,
      paused_at        timestamptz,
      watermark        timestamptz,
      next_window_end  timestamptz NOT NULL,
      created_at       timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT topics_schedule_shape CHECK (
        (schedule_kind = 'every' AND every_seconds IS NOT NULL AND cron_expr IS NULL) OR
        (schedule_kind = 'cron' AND cron_expr IS NOT NULL AND every_seconds IS NULL))
    );
    -- The due query: WHERE NOT paused AND next_window_end <= now() - lag. One index range scan,
    -- so an idle tick costs the same with 10 topics or 100,000.
    CREATE INDEX topics_due_idx ON topics (next_window_end) WHERE NOT paused;

    CREATE TABLE sources (
      id                   serial PRIMARY KEY,
      topic_id             integer NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
      type                 text NOT NULL,
      name                 text NOT NULL,
      config               jsonb NOT NULL,
      weight               real NOT NULL DEFAULT 1 CHECK (weight > 0 AND weight <= 100),
      enabled              boolean NOT NULL DEFAULT true,
      etag                 text,
      last_modified        text,
      last_fetched_at      timestamptz,
      last_status          text CHECK (last_status IN ('ok', 'not_modified', 'error')),
      last_error           text,
      last_http_status     integer,
      consecutive_failures integer NOT NULL DEFAULT 0,
      created_at           timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX sources_topic_idx ON sources (topic_id);

    CREATE TABLE items (
      id            serial PRIMARY KEY,
      url           text,
      canonical_url text,
      url_hash      text,
      title         text NOT NULL,
      summary       text,
      author        text,
      published_at  timestamptz,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      points        integer,
      comments      integer
    );
    CREATE UNIQUE INDEX items_url_hash_key ON items (url_hash) WHERE url_hash IS NOT NULL;
    CREATE INDEX items_first_seen_idx ON items (first_seen_at);

    CREATE TABLE item_sources (
      item_id       integer NOT NULL REFERENCES items (id) ON DELETE CASCADE,
      source_id     integer NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
      external_id   text NOT NULL,
      first_seen_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (item_id, source_id),
      CONSTRAINT item_sources_source_external_key UNIQUE (source_id, external_id)
    );

    CREATE TABLE windows (
      id           serial PRIMARY KEY,
      topic_id     integer NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
      window_start timestamptz NOT NULL,
      window_end   timestamptz NOT NULL,
      trigger      text NOT NULL CHECK (trigger IN ('scheduled', 'backfill', 'manual')),
      status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'skipped')),
      skip_reason  text,
      attempts     integer NOT NULL DEFAULT 0,
      error        text,
      digest_id    integer,
      created_at   timestamptz NOT NULL DEFAULT now(),
      started_at   timestamptz,
      finished_at  timestamptz,
      CONSTRAINT windows_span CHECK (window_end > window_start),
      CONSTRAINT windows_skip_reason CHECK ((status = 'skipped') = (skip_reason IS NOT NULL))
    );
    -- Invariant 1: a (topic, window) is scheduled at most once, whoever inserts it.
    -- Manual runs are previews and stay outside the constraint.
    CREATE UNIQUE INDEX windows_topic_span_key ON windows (topic_id, window_start, window_end)
      WHERE trigger <> 'manual';
    CREATE INDEX windows_unfinished_idx ON windows (topic_id, window_end) WHERE status IN ('queued', 'running');
    CREATE INDEX windows_topic_end_idx ON windows (topic_id, window_end DESC);

    CREATE TABLE digests (
      id              serial PRIMARY KEY,
      window_id       integer NOT NULL REFERENCES windows (id) ON DELETE CASCADE,
      topic_id        integer NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
      window_start    timestamptz NOT NULL,
      window_end      timestamptz NOT NULL,
      trigger         text NOT NULL,
      status          text NOT NULL CHECK (status IN ('complete', 'empty', 'failed')),
      error           text,
      item_count      integer NOT NULL DEFAULT 0,
      candidate_count integer NOT NULL DEFAULT 0,
      sources_total   integer NOT NULL DEFAULT 0,
      sources_failed  integer NOT NULL DEFAULT 0,
      duration_ms     integer NOT NULL DEFAULT 0,
      created_at      timestamptz NOT NULL DEFAULT now(),
      -- Invariant 2: exactly one digest per ledger row.
      CONSTRAINT digests_window_key UNIQUE (window_id),
      CONSTRAINT digests_failed_has_error CHECK ((status = 'failed') = (error IS NOT NULL))
    );
    CREATE INDEX digests_topic_idx ON digests (topic_id, window_end DESC);
    ALTER TABLE windows ADD CONSTRAINT windows_digest_fk FOREIGN KEY (digest_id) REFERENCES digests (id) ON DELETE SET NULL;

    CREATE TABLE digest_items (
      digest_id integer NOT NULL REFERENCES digests (id) ON DELETE CASCADE,
      item_id   integer NOT NULL REFERENCES items (id) ON DELETE CASCADE,
      rank      integer NOT NULL CHECK (rank >= 1),
      score     double precision NOT NULL,
      breakdown jsonb NOT NULL,
      PRIMARY KEY (digest_id, item_id),
      CONSTRAINT digest_items_rank_key UNIQUE (digest_id, rank)
    );

    CREATE TABLE topic_item_claims (
      topic_id  integer NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
      item_id   integer NOT NULL REFERENCES items (id) ON DELETE CASCADE,
      window_id integer NOT NULL REFERENCES windows (id) ON DELETE CASCADE,
      PRIMARY KEY (topic_id, item_id)
    );

    CREATE TABLE fetch_results (
      id          serial PRIMARY KEY,
      source_id   integer NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
      window_id   integer REFERENCES windows (id) ON DELETE SET NULL,
      status      text NOT NULL CHECK (status IN ('ok', 'not_modified', 'error')),
      http_status integer,
      error_code  text,
      error       text,
      duration_ms integer NOT NULL,
      bytes       integer NOT NULL DEFAULT 0,
      items_found integer NOT NULL DEFAULT 0,
      items_new   integer NOT NULL DEFAULT 0,
      fetched_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX fetch_results_source_idx ON fetch_results (source_id, fetched_at DESC);
    CREATE INDEX fetch_results_window_idx ON fetch_results (window_id);

    CREATE TABLE system_state (
      key        text PRIMARY KEY,
      value      jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS system_state, fetch_results, topic_item_claims, digest_items, digests,
      windows, item_sources, items, sources, topics CASCADE
  `.execute(db);
}
