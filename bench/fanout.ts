/**
 * Scenario 2 — fan-out: 10,000 topics with one due window each, scheduled by one tick (due
 * query, ledger insert + watermark compare-and-set per batch, addBulk of the inserted rows),
 * against the raw limit measured in the same run: one plain addBulk of 10,000 jobs of the same
 * shape plus one multi-row INSERT of 10,000 ledger rows, nothing else.
 */
import { runTick, type TickReport } from '../apps/worker/src/tick.js';
import { RUN_WINDOW_JOB, runWindowJobOptions, windowJobId } from '../libs/queue/src/index.js';
import { deleteKeys } from '../test/support/services.js';
import { bulkCreateTopics, fmtMs, fmtNum, median, medianPairedRatio, openServices, openTick, round, timed, type BenchContext, type BenchServices, type ScenarioResult } from './support.js';

const HOUR_MS = 3_600_000;
const ATTEMPTS = 5;

export async function fanout(ctx: BenchContext): Promise<ScenarioResult> {
  const windows = ctx.quick ? 2_000 : 10_000;
  const rounds = ctx.quick ? 1 : 3;
  const services = await openServices();
  let tick: ReturnType<typeof openTick> | undefined;
  try {
    const { database, redis, queues } = services;
    // Hourly topics created inside [end-1h, end), never scheduled; the tick runs at end+30min:
    // exactly one window per topic is due.
    const end = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
    const at = new Date(end + 30 * 60_000);
    tick = openTick(services, { pipelineAttempts: ATTEMPTS, now: () => at });
    const { deps } = tick;

    const resetAll = async (): Promise<{ firstId: number; lastId: number }> => {
      await database.sql`TRUNCATE topics, windows, digests RESTART IDENTITY CASCADE`;
      await deleteKeys(redis.redis, `${redis.prefix}:*`);
      const range = await bulkCreateTopics(database, {
        count: windows,
        prefix: 'fan',
        everySeconds: 3600,
        anchor: new Date(Math.floor(end / 86_400_000) * 86_400_000),
        createdAt: new Date(end - 30 * 60_000),
        watermark: null,
        nextWindowEnd: new Date(end),
      });
      await database.sql`VACUUM ANALYZE topics`;
      return range;
    };
    const resetLedgerAndQueue = async (): Promise<void> => {
      await database.sql`TRUNCATE windows RESTART IDENTITY CASCADE`;
      await deleteKeys(redis.redis, `${redis.prefix}:*`);
    };

    const ourMs: number[] = [];
    const rawMs: number[] = [];
    const rawAddBulkMs: number[] = [];
    const rawInsertMs: number[] = [];
    const reports: TickReport[] = [];
    for (let round = 0; round < rounds; round++) {
      const range = await resetAll();
      const measureOurs = async (): Promise<void> => {
        const { ms, value } = await timed(() => runTick(deps));
        if (value.windowsScheduled !== windows) throw new Error(`fan-out scheduled ${value.windowsScheduled} windows, expected ${windows}`);
        const waiting = await queues.pipeline.getWaitingCount();
        if (waiting !== windows) throw new Error(`fan-out left ${waiting} jobs waiting, expected ${windows}`);
        ourMs.push(ms);
        reports.push(value);
      };
      const measureRaw = async (): Promise<void> => {
        const r = await rawLimit(services, range.firstId, windows, end);
        rawMs.push(r.addBulkMs + r.insertMs);
        rawAddBulkMs.push(r.addBulkMs);
        rawInsertMs.push(r.insertMs);
      };
      // Alternate the order so neither side always runs on a warmer (or more fragmented) cache.
      if (round % 2 === 0) {
        await measureOurs();
        await resetLedgerAndQueue();
        await measureRaw();
      } else {
        await measureRaw();
        await resetLedgerAndQueue();
        await measureOurs();
      }
      ctx.log(`fanout round ${round + 1}/${rounds}: ours ${fmtMs(ourMs.at(-1)!)}, raw ${fmtMs(rawMs.at(-1)!)}`);
    }

    const ours = median(ourMs);
    const raw = median(rawMs);
    const ratio = medianPairedRatio(ourMs, rawMs);
    return {
      rows: [
        {
          scenario: 'fanout',
          metric: `fan-out of ${fmtNum(windows)} due windows in one tick (median of ${rounds})`,
          ours: fmtMs(ours),
          baseline: `${fmtMs(raw)} raw (addBulk + 1 INSERT)`,
          ratio: `${ratio.toFixed(2)}x the raw time (median of per-round ratios)`,
          target: '<= 2x raw',
          pass: ratio <= 2,
        },
      ],
      figures: {
        windows,
        rounds,
        ourMs: { median: round(ours), all: ourMs.map((v) => round(v)) },
        rawMs: { median: round(raw), all: rawMs.map((v) => round(v)), addBulkMedian: round(median(rawAddBulkMs)), insertMedian: round(median(rawInsertMs)) },
        ratio: round(ratio),
        ratioPerRound: ourMs.map((v, i) => round(v / rawMs[i]!)),
        windowsPerSecond: round((windows / ours) * 1000, 0),
        tickReports: reports,
        target: { maxRatio: 2 },
        met: ratio <= 2,
      },
    };
  } finally {
    tick?.close();
    await services.close();
  }
}

/** The floor: one multi-row INSERT of the ledger rows and one addBulk of every job (same name, data and options). */
async function rawLimit(services: BenchServices, firstTopicId: number, count: number, end: number): Promise<{ addBulkMs: number; insertMs: number }> {
  const { database, queues } = services;
  const topicIds = Array.from({ length: count }, (_, i) => firstTopicId + i);
  const start = new Date(end - HOUR_MS).toISOString();
  const stop = new Date(end).toISOString();
  const insert = await timed(
    () => database.sql`
      INSERT INTO windows (topic_id, window_start, window_end, trigger, status)
      SELECT v.topic_id, ${start}::timestamptz, ${stop}::timestamptz, 'scheduled', 'queued'
        FROM unnest(${topicIds}::int[]) AS v(topic_id)`,
  );
  const options = runWindowJobOptions(ATTEMPTS);
  const jobs = topicIds.map((topicId, i) => ({ name: RUN_WINDOW_JOB, data: { windowId: i + 1, topicId }, opts: { ...options, jobId: windowJobId(i + 1) } }));
  const addBulk = await timed(() => queues.pipeline.addBulk(jobs));
  const waiting = await queues.pipeline.getWaitingCount();
  if (waiting !== count) throw new Error(`raw addBulk left ${waiting} jobs waiting, expected ${count}`);
  return { addBulkMs: addBulk.ms, insertMs: insert.ms };
}
