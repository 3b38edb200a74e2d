/**
 * One scenario's stack: a fresh database on the private Postgres, a fresh queue prefix on the
 * private Redis, the real scheduler/worker processes started against them, and a local feed
 * server. Plus the checks every scenario shares: the exactly-once verification of the ledger
 * and digests (DESIGN §5), and /readyz probing.
 */
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { insertTopic } from '@aharadar/db';
import { addSource } from '@aharadar/pipeline';
import { defaultAnchor, windowContaining, windowsBetween, type Schedule } from '@aharadar/scheduling';
import { startFeedServer, type FeedServer } from '../../support/feed-server.js';
import { startApp, stopApp, type AppProcess, type LogLine } from '../../support/processes.js';
import type { PrivateDatabase, PrivatePostgres, PrivateRedis } from './infra.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Infra {
  pg: PrivatePostgres;
  redis: PrivateRedis;
}

export interface Proc extends AppProcess {
  app: 'worker' | 'scheduler';
  label: string;
  /** HTTP port of /healthz, /readyz (/metrics on workers); 0 until it logged that it started. */
  healthPort: number;
  startedAt: number;
}

export interface Stack {
  db: PrivateDatabase;
  prefix: string;
  feeds: FeedServer;
  procs: Proc[];
  env(extra?: Record<string, string>): Record<string, string>;
  /** Starts a process and waits for its "started" line (so its health port is known). */
  start(app: 'worker' | 'scheduler', label: string, extra?: Record<string, string>): Promise<Proc>;
  /** Starts a process without waiting; `ready` waits for its "started" line. */
  spawn(app: 'worker' | 'scheduler', label: string, extra?: Record<string, string>): Proc;
  ready(p: Proc): Promise<Proc>;
  /** Every log line of every process ever started, tagged with the process label. */
  allLines(): { label: string; line: LogLine }[];
  addEveryTopic(name: string, createdAt: Date, feedUrl: string, everySeconds?: number): Promise<number>;
  close(): Promise<void>;
}

export async function createStack(infra: Infra, name: string, baseEnv: Record<string, string>, dbConnections = 10): Promise<Stack> {
  const db = await infra.pg.createDatabase(`faults_${name}`, dbConnections);
  const prefix = `faults-${name}-${randomBytes(3).toString('hex')}`;
  const feeds = await startFeedServer();
  const procs: Proc[] = [];
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: db.url,
    REDIS_URL: infra.redis.url,
    QUEUE_PREFIX: prefix,
    HEALTH_PORT: '0',
    SCHEDULER_HEALTH_PORT: '0',
    LOG_LEVEL: 'info',
    FETCH_ALLOW_PRIVATE: 'true',
    ...baseEnv,
    ...extra,
  });
  const spawn = (app: 'worker' | 'scheduler', label: string, extra: Record<string, string> = {}): Proc => {
    const startedAt = Date.now();
    const p = startApp(app, env(extra)) as Proc;
    p.app = app;
    p.label = label;
    p.startedAt = startedAt;
    p.healthPort = 0;
    procs.push(p);
    return p;
  };
  const ready = async (p: Proc): Promise<Proc> => {
    const line = await p.waitForLog((l) => l.msg === `${p.app} started` || l.level === 'fatal', 60_000, `${p.label} to start`);
    if (line.level === 'fatal') throw new Error(`${p.label} could not start: ${String(line.msg)}`);
    p.healthPort = Number(line.healthPort);
    return p;
  };
  return {
    db,
    prefix,
    feeds,
    procs,
    env,
    spawn,
    ready,
    start: (app, label, extra = {}) => ready(spawn(app, label, extra)),
    allLines() {
      return procs.flatMap((p) => p.lines.map((line) => ({ label: p.label, line })));
    },
    async addEveryTopic(topicName, createdAt, feedUrl, everySeconds = 60) {
      const topic = await insertTopic(db.db, {
        name: topicName,
        schedule: { kind: 'every', everySeconds, anchor: defaultAnchor(createdAt, 'UTC') },
        timeZone: 'UTC',
        keywords: [],
        excludeKeywords: [],
        digestSize: 50,
        maxPerSource: 50,
        createdAt,
      });
      await addSource(db.db, { topicId: topic.id, type: 'feed', name: `${topicName} feed`, config: { url: feedUrl } });
      return topic.id;
    },
    async close() {
      await Promise.all(procs.map((p) => stopApp(p, 20_000)));
      const keep = process.env.FAULTS_KEEP_LOGS;
      if (keep) {
        const { mkdirSync, writeFileSync } = await import('node:fs');
        mkdirSync(keep, { recursive: true });
        for (const p of procs) {
          writeFileSync(`${keep}/${name}-${p.label}.log`, p.lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
          writeFileSync(`${keep}/${name}-${p.label}.stderr`, p.stderr.join(''));
        }
      }
      await feeds.close();
      await db.close();
    },
  };
}

/** Processes that wrote anything to stderr (they must log JSON lines on stdout only). */
export function stderrWriters(stack: Stack): string[] {
  return stack.procs
    .filter((p) => p.stderr.join('').trim() !== '')
    .map((p) => {
      const lines = p.stderr.join('').trim().split('\n');
      const telling = lines.find((l) => /Error|error/.test(l)) ?? lines[0] ?? '';
      return `${p.label}: ${telling.trim().slice(0, 300)}`;
    });
}

/** True while the process has not exited. */
export function alive(p: AppProcess): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

/** GET /readyz: the HTTP status (0 when the server does not answer) and the body. */
export function readyz(port: number, timeoutMs = 4_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** Peak resident set size of a process (VmHWM), in MB; null if it is gone. */
export async function peakRssMb(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The exactly-once verification (DESIGN §5, invariants 1-3, and §6.3 "nothing repeats").

export interface TopicSpec {
  id: number;
  schedule: Schedule;
  createdAt: Date;
}

export interface LedgerReport {
  /** Windows that should be scheduled by `at` (end + lag <= at), from the scheduling math. */
  expected: number;
  /** Non-manual ledger rows (any status). */
  scheduled: number;
  /** Expected windows with no ledger row. */
  missing: number;
  /** Ledger rows that are not expected (early, misaligned or foreign windows). */
  unexpected: number;
  skipped: number;
  unfinished: number;
  digests: number;
  /** Ledger rows that finished without a digest, or a digest whose row is not finished. */
  digestMismatch: number;
  /** Extra rows for one (topic, window), extra digests for one window, overlapping windows, an item in two digests of a topic. */
  duplicates: number;
  /** Items linked to a topic's source before its last built window, due in it, and claimed by no window. */
  lostItems: number;
  failedDigests: number;
  /** missing + unfinished + digestMismatch + lostItems: nothing that should exist may be absent. */
  lost: number;
  /** Rows retried after a kill / outage (attempts > 1). */
  retried: number;
  maxAttempts: number;
  /** Pairs of consecutive windows of a topic that finished out of window order (invariant 3). */
  outOfOrder: number;
}

interface Row {
  topic_id: number;
  window_start: Date;
  window_end: Date;
  status: string;
}

const key = (topicId: number, start: Date, end: Date) => `${topicId}/${start.getTime()}/${end.getTime()}`;

/** Expected windows of one topic by `at`: from the window containing its creation time, each with end + lag <= at. */
export function expectedWindows(spec: TopicSpec, at: Date, lagSeconds: number): { start: Date; end: Date }[] {
  const first = windowContaining(spec.schedule, spec.createdAt);
  return windowsBetween(spec.schedule, first.start, new Date(at.getTime() - lagSeconds * 1000), 100_000);
}

export async function verifyLedger(db: PrivateDatabase, topics: readonly TopicSpec[], at: Date, lagSeconds: number): Promise<LedgerReport> {
  const sql = db.sql;
  const rows = await sql<Row[]>`SELECT topic_id, window_start, window_end, status FROM windows WHERE trigger <> 'manual'`;
  const ledger = new Map<string, Row>();
  let dupRows = 0;
  for (const r of rows) {
    const k = key(r.topic_id, r.window_start, r.window_end);
    if (ledger.has(k)) dupRows++;
    ledger.set(k, r);
  }
  const expected = new Set<string>();
  for (const t of topics) for (const w of expectedWindows(t, at, lagSeconds)) expected.add(key(t.id, w.start, w.end));
  let missing = 0;
  for (const k of expected) if (!ledger.has(k)) missing++;
  let unexpected = 0;
  for (const k of ledger.keys()) if (!expected.has(k)) unexpected++;

  const [agg] = await sql<{ skipped: number; unfinished: number; retried: number; max_attempts: number }[]>`
    SELECT count(*) FILTER (WHERE status = 'skipped')::int AS skipped,
           count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS unfinished,
           count(*) FILTER (WHERE attempts > 1)::int AS retried,
           coalesce(max(attempts), 0)::int AS max_attempts
      FROM windows WHERE trigger <> 'manual'`;
  const [dig] = await sql<{ digests: number; failed: number; extra: number }[]>`
    SELECT count(*)::int AS digests,
           count(*) FILTER (WHERE status = 'failed')::int AS failed,
           (count(*) - count(DISTINCT window_id))::int AS extra
      FROM digests WHERE trigger <> 'manual'`;
  const [mismatch] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM windows w
     WHERE w.trigger <> 'manual'
       AND ((w.status IN ('succeeded', 'failed')) <> EXISTS (SELECT 1 FROM digests d WHERE d.window_id = w.id)
            OR (w.status IN ('succeeded', 'failed') AND w.digest_id IS NULL))`;
  const [overlaps] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM windows a JOIN windows b
        ON a.topic_id = b.topic_id AND a.id < b.id AND a.trigger <> 'manual' AND b.trigger <> 'manual'
       AND a.window_start < b.window_end AND b.window_start < a.window_end`;
  const [itemTwice] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (
      SELECT d.topic_id, di.item_id FROM digest_items di JOIN digests d ON d.id = di.digest_id
       WHERE d.trigger <> 'manual' GROUP BY 1, 2 HAVING count(*) > 1) x`;
  // An item is lost when its topic built the window its effective time falls in (or a later
  // one) after the item was linked to the topic's source, and yet no window of the topic claimed it.
  const [lostItems] = await sql<{ n: number }[]>`
    WITH built AS (SELECT topic_id, max(window_end) AS upto FROM windows WHERE trigger <> 'manual' AND status = 'succeeded' GROUP BY topic_id),
         topic_items AS (
           SELECT DISTINCT s.topic_id, i.id,
                  CASE WHEN i.published_at IS NOT NULL AND i.published_at <= i.first_seen_at THEN i.published_at ELSE i.first_seen_at END AS effective_at,
                  l.first_seen_at AS linked_at
             FROM items i JOIN feed_items l ON l.item_id = i.id JOIN sources s ON s.feed_id = l.feed_id)
    SELECT count(*)::int AS n FROM topic_items t JOIN built b ON b.topic_id = t.topic_id
     WHERE t.effective_at < b.upto
       AND t.linked_at < (SELECT max(finished_at) FROM windows w WHERE w.topic_id = t.topic_id AND w.status = 'succeeded')
       AND NOT EXISTS (SELECT 1 FROM topic_item_claims c WHERE c.topic_id = t.topic_id AND c.item_id = t.id)`;
  const [order] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (
      SELECT finished_at < lag(finished_at) OVER (PARTITION BY topic_id ORDER BY window_start) AS inverted
        FROM windows WHERE trigger <> 'manual' AND status IN ('succeeded', 'failed')) x
     WHERE inverted`;

  const unfinished = agg?.unfinished ?? 0;
  const digestMismatch = mismatch?.n ?? 0;
  const lostItemCount = lostItems?.n ?? 0;
  return {
    expected: expected.size,
    scheduled: rows.length,
    missing,
    unexpected,
    skipped: agg?.skipped ?? 0,
    unfinished,
    digests: dig?.digests ?? 0,
    digestMismatch,
    duplicates: dupRows + (dig?.extra ?? 0) + (overlaps?.n ?? 0) + (itemTwice?.n ?? 0),
    lostItems: lostItemCount,
    failedDigests: dig?.failed ?? 0,
    lost: missing + unfinished + digestMismatch + lostItemCount,
    retried: agg?.retried ?? 0,
    maxAttempts: agg?.max_attempts ?? 0,
    outOfOrder: order?.n ?? 0,
  };
}

/** A report is clean when what is scheduled is exactly what is expected and each has one digest. */
export function ledgerProblems(r: LedgerReport): string[] {
  const problems: string[] = [];
  if (r.scheduled !== r.expected) problems.push(`windows scheduled ${r.scheduled} != expected ${r.expected} (missing ${r.missing}, unexpected ${r.unexpected})`);
  if (r.digests !== r.scheduled - r.skipped) problems.push(`digests ${r.digests} != windows ${r.scheduled - r.skipped}`);
  if (r.duplicates !== 0) problems.push(`duplicates ${r.duplicates}`);
  if (r.lost !== 0) problems.push(`lost ${r.lost} (missing ${r.missing}, unfinished ${r.unfinished}, digest mismatch ${r.digestMismatch}, items ${r.lostItems})`);
  if (r.outOfOrder !== 0) problems.push(`${r.outOfOrder} windows finished before an earlier window of their topic`);
  if (r.skipped !== 0) problems.push(`skipped ${r.skipped} (catch-up bound is raised: none expected)`);
  return problems;
}

/**
 * Waits until the system is quiet and the ledger is exactly what the scheduling math expects
 * at that moment (a tick may be a few seconds behind a window becoming due, so this polls),
 * then returns the report. Gives up at `timeoutMs` and returns the last report.
 */
export async function settleAndVerify(
  db: PrivateDatabase,
  topics: readonly TopicSpec[],
  lagSeconds: number,
  timeoutMs: number,
): Promise<{ report: LedgerReport; at: Date; settled: boolean }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const at = new Date();
    let report: LedgerReport | undefined;
    try {
      report = await verifyLedger(db, topics, at, lagSeconds);
    } catch {
      // Postgres restarting: try again.
    }
    if (report && ledgerProblems(report).length === 0) return { report, at, settled: true };
    if (Date.now() > deadline) {
      const last = report ?? (await verifyLedger(db, topics, at, lagSeconds));
      return { report: last, at, settled: false };
    }
    await sleep(1_000);
  }
}

/** Polls until `probe` returns a truthy value; throws with `what` on timeout. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs: number, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | null | false;
    try {
      value = await probe();
    } catch {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function seconds(ms: number, digits = 1): string {
  return `${(ms / 1000).toFixed(digits)}s`;
}
