import { redactUrl } from '@aharadar/config';

/**
 * An error meant for the operator: its message is the one line `radar` prints (after
 * `radar: error: `). Everything a command rejects — bad input, a missing topic, an unreachable
 * service — becomes one of these, so no stack trace ever reaches the terminal for those cases.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** Process exit code; 1 for every operator error so scripts can test `$?` simply. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Postgres' SQLSTATE for "relation does not exist": the schema was never migrated. */
const UNDEFINED_TABLE = '42P01';

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A one-line description of a low-level error. Node's happy-eyeballs connect failures are
 * AggregateErrors with an empty message, so fall back to their first inner error or code.
 */
export function oneLine(error: unknown): string {
  let text = error instanceof Error ? error.message : String(error);
  if (text.trim() === '' && error instanceof AggregateError) {
    const first: unknown = error.errors[0];
    text = first instanceof Error ? first.message : '';
  }
  if (text.trim() === '') text = errorCode(error) ?? (error instanceof Error ? error.name : 'unknown error');
  return text.replace(/\s+/g, ' ').trim();
}

/** `cannot reach Postgres at postgres://user:***@host/db: connect ECONNREFUSED ...` */
export function unreachable(service: 'Postgres' | 'Redis', url: string, error: unknown): CliError {
  return new CliError(`cannot reach ${service} at ${redactUrl(url)}: ${oneLine(error)}`);
}

/**
 * Errors of our libraries whose message is already written for the operator. Matched by
 * class name rather than `instanceof` so this module does not load those libraries: most
 * commands never need the connectors or the database driver, and `radar` starts faster
 * without them.
 */
const OPERATOR_ERRORS = new Set(['CliError', 'ScheduleError', 'SourceError', 'TopicExistsError', 'InvalidArgumentError']);

/**
 * Turns anything a command threw into the single line the operator sees: our libraries'
 * messages as they are, configuration errors named as such, a missing schema with the fix,
 * anything else by its message. Passwords in URLs are always masked.
 */
export async function describeFailure(error: unknown): Promise<string> {
  const { redactSecrets } = await import('@aharadar/log');
  // Some library errors keep the default name 'Error'; their class name still says what they are.
  const name = error instanceof Error ? (error.name === 'Error' ? error.constructor.name : error.name) : '';
  let text: string;
  if (error instanceof Error && OPERATOR_ERRORS.has(name)) text = oneLine(error);
  else if (name === 'ConfigError') text = `invalid configuration: ${oneLine(error)}`;
  else if (errorCode(error) === UNDEFINED_TABLE) text = `the database has no radar tables yet (${oneLine(error)}): run \`radar migrate\` first`;
  else text = oneLine(error);
  return redactSecrets(text);
}
