import type { Logger } from '@aharadar/log';
import { readTickScheduler, tickIntervalMs, upsertTickScheduler, type SchedulerQueue } from '@aharadar/queue';

/**
 * How often the watchdog checks that the tick job scheduler still exists. It only checks and
 * re-registers; the ticks themselves come from BullMQ (DESIGN §3). 15 s keeps "ticks resume
 * within a minute after Redis lost its data" with room to spare.
 */
export const WATCHDOG_INTERVAL_MS = 15_000;

export interface TickKeeper {
  /** Registers now; resolves once Redis accepted it (retries while Redis is unreachable). */
  ensure(reason: string): Promise<void>;
  registered(): boolean;
  stop(): void;
}

/**
 * Keeps the `tick` job scheduler registered with the configured cadence: on start, whenever
 * the Redis connection becomes ready again, and when the watchdog finds it missing or with a
 * different interval (Redis restarted without its data, FLUSHALL, an operator removed it).
 */
export function startTickKeeper(options: { queue: SchedulerQueue; tickMinutes: number; log: Logger; watchdogMs?: number }): TickKeeper {
  const { queue, tickMinutes, log } = options;
  const expectedEvery = tickIntervalMs(tickMinutes);
  let ok = false;
  let inFlight: Promise<void> | null = null;

  const ensure = (reason: string): Promise<void> => {
    inFlight ??= (async () => {
      try {
        const state = await readTickScheduler(queue);
        if (state.registered && state.everyMs === expectedEvery) {
          ok = true;
          return;
        }
        await upsertTickScheduler(queue, tickMinutes);
        ok = true;
        log.info({ reason, everyMs: expectedEvery, tickMinutes, previous: state }, 'tick job scheduler registered');
      } catch (error) {
        ok = false;
        log.warn({ reason, err: error instanceof Error ? error.message : String(error) }, 'could not register the tick job scheduler; will retry');
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };

  const timer = setInterval(() => void ensure('watchdog'), options.watchdogMs ?? WATCHDOG_INTERVAL_MS);
  return {
    ensure,
    registered: () => ok,
    stop: () => clearInterval(timer),
  };
}
