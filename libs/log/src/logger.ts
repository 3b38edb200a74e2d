import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerFactoryOptions {
  /** Process name, e.g. `worker`; becomes the `service` field of every line. */
  service: string;
  level: string;
  /**
   * Where JSON lines go; stdout by default (tests pass a stream to read them back). Without one,
   * a terminal on stdout gets pretty-printed lines instead ({@link createLogger}).
   */
  destination?: DestinationStream;
}

/**
 * Paths whose values never reach a log line. Connection strings are redacted at the source
 * too ({@link redactSecrets}); these catch secrets passed in structured fields.
 */
const REDACTED_PATHS = [
  'password',
  '*.password',
  'databaseUrl',
  '*.databaseUrl',
  'redisUrl',
  '*.redisUrl',
  'headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
];

/**
 * Human-readable lines for a person at a terminal (`pnpm start`): pino-pretty, written
 * synchronously so the last lines before an exit are not lost or reordered.
 */
function terminalStream(): DestinationStream {
  return prettyStream({
    destination: 1,
    sync: true,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,component',
    messageFormat: '{if component}[{component}] {end}{msg}',
  });
}

/**
 * Creates the logger of a process: JSON lines (for log collectors, pipes, files, Docker), except
 * when it writes to stdout and stdout is a terminal, where lines are pretty-printed. Child
 * loggers add `component`.
 */
export function createLogger(options: LoggerFactoryOptions): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level,
    base: { service: options.service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  if (options.destination) return pino(pinoOptions, options.destination);
  return process.stdout.isTTY ? pino(pinoOptions, terminalStream()) : pino(pinoOptions);
}

/** Replaces `user:password@` in any URL inside a string, e.g. an error message from a driver. */
export function redactSecrets(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s/]*@/gi, '$1:***@');
}
