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
