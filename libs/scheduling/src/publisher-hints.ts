/**
 * What a publisher tells us about when to come back (DESIGN §6.1, politeness).
 *
 * A poll's response can ask us, in four different vocabularies, not to return before some
 * moment: `Retry-After` (usually on 429/503), `Cache-Control: max-age`, `Expires`, and an RSS
 * channel's `<ttl>`. {@link publisherFloor} turns whatever was sent into one instant, the
 * *floor*: the cadence planner never schedules the next poll earlier, and even an on-demand
 * freshness poll respects it. Pure: raw header text in, a Date out; `now` is an argument.
 *
 * Rules, in the order the floor is assembled:
 *
 * - Every value is parsed strictly and anything unparseable is ignored, never thrown: the
 *   headers come from arbitrary servers and a broken one must not break polling.
 * - HTTP-dates (`Retry-After: <date>`, `Expires`) are read relative to the response's own
 *   `Date` header when it is valid: `Expires - Date` is how long the publisher meant, whatever
 *   its clock says, so a server an hour off does not make us poll an hour early or late. Without
 *   a usable `Date` the instant is taken as absolute against our clock.
 * - `Cache-Control: max-age=N` is honoured; `s-maxage` is ignored (it is for shared caches and
 *   we are one client); unqualified `no-cache` or `no-store` mean "revalidate every time", which
 *   asks for no wait at all and (RFC 9111 §5.2.2) overrides any `max-age` next to it.
 * - `Expires` is ignored when `Cache-Control` speaks for itself (`max-age`, `no-cache`,
 *   `no-store`), as RFC 9111 §5.3 requires; otherwise an expiry in the future is a floor and an
 *   invalid or past one (including the classic `Expires: 0`) asks nothing.
 * - Of the remaining asks, the latest wins: each is a request not to come before it, so the
 *   only instant honouring all of them is the latest. It is capped at
 *   {@link PUBLISHER_FLOOR_CAP_MS} from now, so one `max-age=31536000` (common on static
 *   hosting) cannot silence a feed for a year.
 */

/**
 * The raw hints of one response, as received. The connectors lib exports a structurally
 * identical interface; it is repeated here so this package stays free of dependencies.
 */
export interface PublisherHints {
  /** `Retry-After` header: delta-seconds or an HTTP-date. */
  retryAfter: string | null;
  /** `Cache-Control` header. */
  cacheControl: string | null;
  /** `Expires` header (an HTTP-date). */
  expires: string | null;
  /** `Date` header: the server's clock when it produced the response. */
  date: string | null;
  /** RSS `<channel><ttl>` in minutes. */
  ttlMinutes: number | null;
}

export interface PublisherFloor {
  /** The earliest instant the publisher asks us to come back; null when it asks nothing. */
  notBefore: Date | null;
  /** Which ask decided `notBefore`, for operators (e.g. `Retry-After 120 s`); null with it. */
  reason: string | null;
}

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * No publisher ask keeps a feed quiet for more than a day. Long `max-age` values are usually a
 * CDN default for static files rather than a statement about the feed, and a day is also the
 * failure backoff cap, so a feed is always looked at at least daily whatever it says.
 */
export const PUBLISHER_FLOOR_CAP_MS = DAY_MS;

/**
 * RFC 9111 §1.2.2: a delta-seconds value too large to represent is read as 2^31 seconds (about
 * 68 years), not rejected; the cap above then applies. Keeps a 40-digit `max-age` meaningful.
 */
const DELTA_SECONDS_OVERFLOW = 2 ** 31;

interface Ask {
  at: number;
  reason: string;
}

/**
 * The earliest next request the publisher asks for (see the module comment for the rules).
 * Returns `{ notBefore: null, reason: null }` when nothing valid asks for a wait beyond `now`.
 */
export function publisherFloor(hints: PublisherHints, now: Date): PublisherFloor {
  const nowMs = now.getTime();
  if (!Number.isFinite(nowMs)) throw new Error('publisherFloor: now is not a valid Date');
  const serverDate = hints.date === null ? null : parseHttpDate(hints.date, nowMs);

  const asks: Ask[] = [];
  const retry = retryAfterAsk(hints.retryAfter, serverDate, nowMs);
  if (retry) asks.push(retry);
  const cache = hints.cacheControl === null ? null : parseCacheControl(hints.cacheControl);
  if (cache?.maxAgeSeconds != null) {
    asks.push({ at: nowMs + cache.maxAgeSeconds * SECOND_MS, reason: `Cache-Control max-age ${cache.maxAgeSeconds}` });
  }
  if (!cache?.overridesExpires) {
    const expires = expiresAsk(hints.expires, serverDate, nowMs);
    if (expires) asks.push(expires);
  }
  const ttl = hints.ttlMinutes;
  if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0) {
    asks.push({ at: nowMs + ttl * MINUTE_MS, reason: `RSS ttl ${ttl} min` });
  }

  let latest: Ask | null = null;
  for (const ask of asks) if (ask.at > nowMs && (latest === null || ask.at > latest.at)) latest = ask;
  if (latest === null) return { notBefore: null, reason: null };
  const cap = nowMs + PUBLISHER_FLOOR_CAP_MS;
  if (latest.at > cap) return { notBefore: new Date(cap), reason: `${latest.reason} (capped at ${describeDuration(PUBLISHER_FLOOR_CAP_MS)})` };
  return { notBefore: new Date(Math.round(latest.at)), reason: latest.reason };
}

/** `Retry-After`: delta-seconds, or an HTTP-date read relative to the response's Date. */
function retryAfterAsk(raw: string | null, serverDate: number | null, nowMs: number): Ask | null {
  if (raw === null) return null;
  const seconds = parseDeltaSeconds(raw);
  if (seconds !== null) return { at: nowMs + seconds * SECOND_MS, reason: `Retry-After ${seconds} s` };
  const at = parseHttpDate(raw, nowMs);
  if (at === null) return null;
  const target = relativeToServer(at, serverDate, nowMs);
  return { at: target, reason: `Retry-After date (in ${describeDuration(target - nowMs)})` };
}

/** `Expires`: an HTTP-date read relative to the response's Date; invalid or past asks nothing. */
function expiresAsk(raw: string | null, serverDate: number | null, nowMs: number): Ask | null {
  if (raw === null) return null;
  const at = parseHttpDate(raw, nowMs);
  if (at === null) return null;
  const target = relativeToServer(at, serverDate, nowMs);
  return { at: target, reason: `Expires in ${describeDuration(target - nowMs)}` };
}

/**
 * Maps a server-clock instant onto ours: the publisher meant "`at - Date` after this response",
 * which is robust to its clock being off. Without a Date header the instant is used as is.
 */
function relativeToServer(at: number, serverDate: number | null, nowMs: number): number {
  return serverDate === null ? at : nowMs + (at - serverDate);
}

/** RFC 9110 delta-seconds: digits only (surrounding whitespace allowed). */
function parseDeltaSeconds(raw: string): number | null {
  const text = raw.trim();
  if (!/^\d+$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) && value < DELTA_SECONDS_OVERFLOW ? value : DELTA_SECONDS_OVERFLOW;
}

interface CacheControl {
  /** A valid `max-age`, unless `no-cache`/`no-store` cancel it. */
  maxAgeSeconds: number | null;
  /** True when Cache-Control decides freshness itself, so `Expires` must be ignored. */
  overridesExpires: boolean;
}

/**
 * Reads the directives we care about. Tokens are case-insensitive, values may be quoted, and
 * a quoted value may contain commas (`no-cache="Set-Cookie, X-Foo"`), so this is a small
 * tokenizer rather than a split on ','. A qualified `no-cache="field"` only restricts those
 * fields and does not cancel `max-age`. The first `max-age` counts (RFC 9111 §4.2.1).
 */
function parseCacheControl(raw: string): CacheControl {
  const directive = /\s*([^\s=,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)/y;
  let maxAge: number | null = null;
  let sawMaxAge = false;
  let revalidateAlways = false;
  let index = 0;
  while (index < raw.length) {
    directive.lastIndex = index;
    const match = directive.exec(raw);
    if (match === null) {
      // Skip one malformed character sequence up to the next comma and carry on.
      const comma = raw.indexOf(',', index);
      if (comma < 0) break;
      index = comma + 1;
      continue;
    }
    if (directive.lastIndex === index) break;
    index = directive.lastIndex;
    const name = (match[1] ?? '').toLowerCase();
    const value = match[2];
    if (name === 'max-age' && !sawMaxAge) {
      sawMaxAge = true;
      const quoted = value === undefined ? null : /^\s*"(.*)"\s*$/.exec(value);
      const text = quoted ? quoted[1] : value;
      maxAge = text === undefined ? null : parseDeltaSeconds(text);
    } else if (name === 'no-store' || (name === 'no-cache' && value === undefined)) {
      revalidateAlways = true;
    }
  }
  return {
    maxAgeSeconds: revalidateAlways ? null : maxAge,
    overridesExpires: revalidateAlways || maxAge !== null,
  };
}

const EPOCH_YEAR = 1970;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAY = '(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*';
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const ZONE = '(gmt|utc|ut|z|[+-]\\d{4})';
/** IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), weekday optional, numeric zones tolerated. */
const IMF_FIXDATE = new RegExp(`^(?:${WEEKDAY},?\\s*)?(\\d{1,2})\\s+${MONTH}\\s+(\\d{4})\\s+${TIME}\\s*${ZONE}$`, 'i');
/** Obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`). */
const RFC_850 = new RegExp(`^(?:${WEEKDAY},?\\s*)?(\\d{1,2})-${MONTH}-(\\d{2}|\\d{4})\\s+${TIME}\\s*${ZONE}$`, 'i');
/** ANSI C asctime (`Sun Nov  6 08:49:37 1994`), always UTC. */
const ASCTIME = new RegExp(`^(?:${WEEKDAY}\\s+)?${MONTH}\\s+(\\d{1,2})\\s+${TIME}\\s+(\\d{4})$`, 'i');

/**
 * Parses the three HTTP-date formats of RFC 9110 §5.6.7, in milliseconds since the epoch, or
 * null. `Date.parse` is not used: it accepts nearly anything (`Date.parse('1')` is 2001), which
 * would turn garbage into a plausible floor. Weekday names are not checked against the date.
 * `nowMs` resolves RFC 850 two-digit years: a year more than 50 years ahead means last century.
 */
export function parseHttpDate(raw: string, nowMs: number): number | null {
  const text = raw.trim();
  let day: string | undefined;
  let month: string | undefined;
  let year: string | undefined;
  let hour: string | undefined;
  let minute: string | undefined;
  let second: string | undefined;
  let zone = 'gmt';
  let match = IMF_FIXDATE.exec(text) ?? RFC_850.exec(text);
  if (match !== null) {
    [, day, month, year, hour, minute, second] = match;
    zone = (match[7] ?? 'gmt').toLowerCase();
  } else {
    match = ASCTIME.exec(text);
    if (match === null) return null;
    [, month, day, hour, minute, second, year] = match;
  }
  let y = Number(year);
  if (year?.length === 2) {
    const currentYear = new Date(nowMs).getUTCFullYear();
    y += Math.floor(currentYear / 100) * 100;
    if (y > currentYear + 50) y -= 100;
  }
  const m = MONTHS.indexOf((month ?? '').toLowerCase());
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  // A leap second (:60) is read as :59; anything else out of range is garbage.
  const s = Math.min(Number(second), 59);
  // Years before the epoch are garbage here (and Date.UTC would read 0050 as 1950).
  if (m < 0 || y < EPOCH_YEAR || h > 23 || mi > 59 || Number(second) > 60) return null;
  const utc = Date.UTC(y, m, d, h, mi, s);
  const check = new Date(utc);
  if (check.getUTCDate() !== d || check.getUTCMonth() !== m) return null; // e.g. 31 Feb
  return utc - zoneOffsetMs(zone);
}

function zoneOffsetMs(zone: string): number {
  const numeric = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  if (numeric === null) return 0;
  const sign = numeric[1] === '-' ? -1 : 1;
  return sign * (Number(numeric[2]) * HOUR_MS + Number(numeric[3]) * MINUTE_MS);
}

/**
 * A short human duration for operator-facing reasons: `800 ms`, `45 s`, `7.5 min`, `3 h`,
 * `2 d`. Units switch late (up to 120 s, 120 min, 48 h) so the numbers stay readable, except
 * that a whole minute reads as one (`1 min`, not `60 s`).
 */
export function describeDuration(ms: number): string {
  const round1 = (value: number): number => Math.round(value * 10) / 10;
  if (ms < SECOND_MS) return `${Math.round(ms)} ms`;
  if (ms < MINUTE_MS || (ms < 2 * MINUTE_MS && ms % MINUTE_MS !== 0)) return `${round1(ms / SECOND_MS)} s`;
  if (ms < 2 * HOUR_MS) return `${round1(ms / MINUTE_MS)} min`;
  if (ms < 2 * DAY_MS) return `${round1(ms / HOUR_MS)} h`;
  return `${round1(ms / DAY_MS)} d`;
}
