import envVar from 'env-var';
import { ConfigError } from './errors.js';

/** The environment a config is read from: `process.env` in production, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A thin wrapper over env-var that turns its errors into {@link ConfigError}s naming the
 * variable, and adds the range checks our settings need (env-var has only sign checks).
 */
export class ConfigReader {
  private readonly values: Record<string, string>;

  constructor(source: Env) {
    // Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
    const cleaned: Record<string, string> = {};
    for (const [key, value] of Object.entries(source)) {
      if (value !== undefined && value !== '') cleaned[key] = value;
    }
    this.values = cleaned;
  }

  private get env() {
    return envVar.from(this.values);
  }

  string(name: string, fallback: string): string {
    return this.wrap(name, () => this.env.get(name).default(fallback).asString());
  }

  url(name: string, fallback: string, protocols: readonly string[]): string {
    const value = this.string(name, fallback);
    if (hasUnencodedUserinfo(value)) {
      throw new ConfigError(
        name,
        `${name} has "@" after its host: percent-encode the password (@ = %40, / = %2F, # = %23, ? = %3F, % = %25)` +
          `${name === 'DATABASE_URL' ? ' or pass it in DATABASE_PASSWORD' : ''}, got "${redactUrl(value)}"`,
      );
    }
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new ConfigError(name, `${name} must be a URL (${protocols.join(' or ')}), got "${redactUrl(value)}"`);
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new ConfigError(
        name,
        `${name} must use ${protocols.map((p) => `${p}://`).join(' or ')}, got "${redactUrl(value)}"`,
      );
    }
    return value;
  }

  /** A URL that may be left unset (null), e.g. an optional webhook. */
  optionalUrl(name: string, protocols: readonly string[]): string | null {
    return this.values[name] === undefined ? null : this.url(name, '', protocols);
  }

  number(name: string, fallback: number, range: { min: number; max?: number; integer?: boolean }): number {
    const raw = this.env.get(name).asString();
    if (raw === undefined) return fallback;
    const value = Number(raw.trim());
    const kind = range.integer ? 'an integer' : 'a number';
    const bounds = range.max === undefined ? `>= ${range.min}` : `between ${range.min} and ${range.max}`;
    if (
      raw.trim() === '' ||
      !Number.isFinite(value) ||
      (range.integer && !Number.isInteger(value)) ||
      value < range.min ||
      (range.max !== undefined && value > range.max)
    ) {
      throw new ConfigError(name, `${name} must be ${kind} ${bounds}, got "${raw}"`);
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.env.get(name).asString();
    if (raw === undefined) return fallback;
    const normalised = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(normalised)) return true;
    if (['0', 'false', 'no', 'off'].includes(normalised)) return false;
    throw new ConfigError(name, `${name} must be true or false, got "${raw}"`);
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const value = this.string(name, fallback);
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    }
    return value as T;
  }

  private wrap<T>(name: string, read: () => T): T {
    try {
      return read();
    } catch (error) {
      throw new ConfigError(name, `${name}: ${(error as Error).message}`);
    }
  }
}

/** `scheme://user:` — the start of a URL's userinfo with a password (the user part may be empty). */
const USERINFO_WITH_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^\s:@/?#]*):/i;

/**
 * Hides the password of a URL so it can be logged or printed in an error. Works on any string,
 * parseable or not: everything from the `:` after the user name to the URL's LAST `@` is
 * replaced, so a password written into a URL without percent-encoding (`radar:p@ss/w#rd@host`)
 * is hidden whole instead of leaking its tail. (A URL with an explicit port and an `@` further
 * on, `http://host:8000/@user`, is over-redacted: for a secret, that is the safe mistake.)
 */
export function redactUrl(value: string): string {
  const start = USERINFO_WITH_PASSWORD.exec(value);
  if (!start) return value;
  const at = value.lastIndexOf('@');
  if (at < start[0].length) return value;
  return `${start[1]}:***${value.slice(at)}`;
}

/** A URL inside free text: from its scheme to the next white space or quote. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]+/gi;

/** {@link redactUrl} applied to every URL inside a text, e.g. an error message from a driver. */
export function redactSecrets(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url));
}

/**
 * True when a connection URL has an `@` after its host part: a password with `@`, `/`, `?` or
 * `#` written in without percent-encoding, which every URL parser would split in the wrong place.
 */
export function hasUnencodedUserinfo(value: string): boolean {
  const scheme = value.indexOf('://');
  if (scheme < 0) return false;
  const rest = value.slice(scheme + 3);
  const authorityEnd = rest.search(/[/?#]/);
  return authorityEnd >= 0 && rest.indexOf('@', authorityEnd) >= 0;
}
