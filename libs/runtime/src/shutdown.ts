import type { Logger } from '@aharadar/log';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits with its outcome. A second
 * signal while stopping exits at once (an operator pressing Ctrl-C twice means it).
 */
export function onShutdownSignal(log: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    stop(signal).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}

/**
 * Prints a start-up failure as one clear line (JSON for log collectors, plain text on a
 * terminal is the same message) and exits non-zero.
 */
export function exitOnStartupError(log: Logger, error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  log.fatal({ err: error }, `cannot start: ${message}`);
  process.exit(1);
}

/** After a forced stop, how long releasing connections may take before the process exits anyway. */
export const FORCED_RELEASE_MS = 1_000;

export interface GracefulStopOptions {
  /** Stop taking work and let the work in progress finish, e.g. closing BullMQ workers. */
  graceful: () => Promise<void>;
  /** Close everything else: the health server, queues, HTTP agents, connections. */
  release: () => Promise<void>;
  /** How long `graceful` may take. */
  timeoutMs: number;
  /** Past the timeout, how long `release` may take; {@link FORCED_RELEASE_MS} by default. */
  forcedReleaseMs?: number;
  log: Logger;
}

/**
 * Whether `promise` settled within `ms` (and how). The timer is cleared, not unref'd: while a
 * stop waits, the wait itself is what keeps the process alive.
 */
async function settleWithin(promise: Promise<void>, ms: number): Promise<{ kind: 'done' } | { kind: 'failed'; error: unknown } | { kind: 'timeout' }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise.then(
        () => ({ kind: 'done' as const }),
        (error: unknown) => ({ kind: 'failed' as const, error }),
      ),
      new Promise<{ kind: 'timeout' }>((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Stops a process that holds jobs. Within `timeoutMs`, `graceful` closes the consumers (active
 * jobs finish), then `release` closes everything else, as long as it takes. If `graceful` fails,
 * `release` still runs and the failure is thrown afterwards.
 *
 * Past `timeoutMs` the jobs in progress are handed back by exiting: their locks lapse and another
 * worker takes them over (runs are idempotent). `release` then gets `forcedReleaseMs` and the
 * function returns regardless, for the caller to exit. Two traps, both found by the fault suite
 * (a 2 s grace period took 28 s, and the run was finished here instead of being handed over):
 * BullMQ's close(true) after a close() only returns the pending graceful close, and closing the
 * HTTP agent or the database pool waits for the abandoned jobs' fetches and queries. Hence
 * "release what can be released within a budget, then exit", and no second, forced close.
 *
 * Resolves to whether the graceful part timed out.
 */
export async function gracefulStop(options: GracefulStopOptions): Promise<{ timedOut: boolean }> {
  const { log } = options;
  const graceful = Promise.resolve().then(options.graceful);
  const stopped = await settleWithin(graceful, options.timeoutMs);
  if (stopped.kind === 'done') {
    await options.release();
    return { timedOut: false };
  }
  if (stopped.kind === 'failed') {
    await options.release();
    throw stopped.error;
  }
  const forcedReleaseMs = options.forcedReleaseMs ?? FORCED_RELEASE_MS;
  log.warn({ timeoutMs: options.timeoutMs, forcedReleaseMs }, 'active work did not finish in time; handing it back');
  const released = await settleWithin(Promise.resolve().then(options.release), forcedReleaseMs);
  if (released.kind === 'failed') {
    log.warn({ err: released.error instanceof Error ? released.error.message : String(released.error) }, 'error while releasing after a forced stop (ignored)');
  } else if (released.kind === 'timeout') {
    log.warn({ forcedReleaseMs }, 'releasing did not finish in time; exiting anyway');
  }
  return { timedOut: true };
}
