/** Why fetching or reading a source failed. Stable strings: they are stored with per-source health. */
export type FetchErrorCode =
  | 'timeout'
  | 'too_large'
  | 'private_address'
  | 'redirect_limit'
  | 'http_status'
  | 'dns'
  | 'connection'
  | 'bad_url'
  | 'decode'
  | 'parse'
  | 'config';

/** The one error type connectors and the safe fetcher throw. `message` is one clear line. */
export class SourceError extends Error {
  readonly code: FetchErrorCode;
  readonly httpStatus: number | null;
  readonly url: string;

  constructor(code: FetchErrorCode, message: string, options: { url?: string; httpStatus?: number | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SourceError';
    this.code = code;
    this.httpStatus = options.httpStatus ?? null;
    this.url = options.url ?? '';
  }
}

export function isSourceError(err: unknown): err is SourceError {
  return err instanceof SourceError;
}

/** A short, single-line description of any thrown value. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim() || 'unknown error';
}
