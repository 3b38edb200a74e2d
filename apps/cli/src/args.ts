import { InvalidArgumentError } from 'commander';

/**
 * Option parsers for commander. They run while the command line is parsed, before any
 * action, so a malformed value is rejected before a connection is opened or a row written.
 * Commander prefixes the message with the option and the value, e.g.
 * `option '--size <n>' argument 'x' is invalid. expected a whole number from 1 to 500`.
 */

export function intInRange(min: number, max: number): (value: string) => number {
  return (value) => {
    const trimmed = value.trim();
    const n = Number(trimmed);
    if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** Source weights multiply scores; the schema allows (0, 100]. */
export function parseWeight(value: string): number {
  const trimmed = value.trim();
  const n = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(n) || n <= 0 || n > 100) {
    throw new InvalidArgumentError('expected a number greater than 0 and at most 100, e.g. 1.5');
  }
  return n;
}

/** `a, b,,c` -> ['a', 'b', 'c']: keywords are free text, so only commas separate them. */
export function parseList(value: string): string[] {
  const seen = new Set<string>();
  for (const part of value.split(',')) {
    const keyword = part.trim();
    if (keyword !== '') seen.add(keyword);
  }
  return [...seen];
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * An ISO 8601 date or date-time. A value without an offset is read as UTC — not the machine's
 * local zone, which would make the same command mean different instants on different hosts.
 * Impossible dates (`2024-02-31`) are rejected instead of being rolled over to March.
 */
export function parseIsoDate(value: string): Date {
  const text = value.trim();
  const match = ISO_DATE.exec(text);
  const invalid = (): InvalidArgumentError =>
    new InvalidArgumentError('expected an ISO 8601 date or date-time, e.g. 2024-05-01 or 2024-05-01T08:00:00Z (UTC unless an offset is given)');
  if (!match) throw invalid();
  const [, year, month, day, hour = '00', minute = '00', second = '00', , offset] = match;
  const normalised = `${year}-${month}-${day}T${hour}:${minute}:${second}${text.includes('.') ? `.${match[7]}` : ''}${offset ? offset.toUpperCase() : 'Z'}`;
  const date = new Date(normalised);
  if (Number.isNaN(date.getTime())) throw invalid();
  // Round-trip the calendar fields: V8 happily turns Feb 31 into Mar 2.
  const probe = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)));
  if (
    probe.getUTCFullYear() !== Number(year) ||
    probe.getUTCMonth() !== Number(month) - 1 ||
    probe.getUTCDate() !== Number(day) ||
    probe.getUTCHours() !== Number(hour) ||
    probe.getUTCMinutes() !== Number(minute) ||
    probe.getUTCSeconds() !== Number(second)
  ) {
    throw invalid();
  }
  return date;
}

/** Positive integer ids (sources, digests): `abc`, `0`, `1.5` are rejected with one line. */
export function parseId(kind: string): (value: string) => number {
  return (value) => {
    const trimmed = value.trim();
    const n = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(n) || n < 1 || n > 2_147_483_647) {
      throw new InvalidArgumentError(`expected a ${kind} id (a positive whole number)`);
    }
    return n;
  };
}
