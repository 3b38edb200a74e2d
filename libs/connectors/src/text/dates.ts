/**
 * Lenient date parsing for feeds: RFC 822 / 1123 (with the usual breakage: missing weekday,
 * two-digit years, named zones, missing seconds, dashes), ISO 8601 / W3C-DTF (basic and extended,
 * date-only, space instead of T, fractions), asctime, and "Jan 2, 2006 3:04 PM". Anything that is
 * not a real calendar date returns null — never an Invalid Date.
 */

const MONTHS: Record<string, number> = {
  jan: 1, january: 1, feb: 2, february: 2, mar: 3, march: 3, apr: 4, april: 4, may: 5, jun: 6, june: 6, jul: 7, july: 7,
  aug: 8, august: 8, sep: 9, sept: 9, september: 9, oct: 10, october: 10, nov: 11, november: 11, dec: 12, december: 12,
};

/** Offsets in minutes east of UTC. */
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0, wet: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480,
  pdt: -420, akst: -540, akdt: -480, hst: -600, ast: -240, adt: -180, nst: -210, ndt: -150, cet: 60, cest: 120, met: 60,
  mest: 120, west: 60, bst: 60, eet: 120, eest: 180, msk: 180, ist: 330, sgt: 480, hkt: 480, jst: 540, kst: 540,
  awst: 480, acst: 570, acdt: 630, aest: 600, aedt: 660, nzst: 720, nzdt: 780,
};

function zoneOffset(zone: string | undefined): number | null {
  if (zone === undefined || zone === '') return 0;
  const z = zone.trim().toLowerCase();
  const numeric = /^(?:gmt|utc|ut)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(z);
  if (numeric) {
    const sign = numeric[1] === '-' ? -1 : 1;
    let hours = Number(numeric[2]);
    let minutes = Number(numeric[3] ?? 0);
    // "+530" style (3 digits without colon) was split as 53 / 0 by the regex above: handle hhmm.
    if (numeric[3] === undefined && (numeric[2] ?? '').length > 2) {
      hours = Math.floor(Number(numeric[2]) / 100);
      minutes = Number(numeric[2]) % 100;
    }
    if (hours > 14 || minutes > 59) return null;
    return sign * (hours * 60 + minutes);
  }
  if (z in ZONES) return ZONES[z] ?? 0;
  if (/^[a-z]{1,5}$/.test(z)) return 0; // unknown or military zone name: treat as UTC
  return null;
}

function build(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis: number,
  offsetMinutes: number,
): Date | null {
  if (year < 100) year += year < 50 ? 2000 : 1900;
  if (year < 1000 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (hour > 24 || minute > 59 || second > 60) return null;
  if (hour === 24 && (minute > 0 || second > 0)) return null;
  if (second === 60) second = 59;
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCMonth() !== month - 1) return null; // e.g. 31 February
  const ms = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date;
}

const ISO =
  /^(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?(?:(?:[Tt]|\s+)(\d{1,2})(?::?(\d{2}))?(?::?(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/;
const ISO_ORDINAL_WEEK = /^\d{4}-?(?:W\d|\d{3}$)/;

function parseIso(text: string): Date | null {
  if (ISO_ORDINAL_WEEK.test(text)) return null;
  const m = ISO.exec(text);
  if (!m) return null;
  // A bare number like "20031231" is a date; a bare "2003" is a year; don't accept 5-8 digit junk otherwise.
  const offset = zoneOffset(m[8]);
  if (offset === null) return null;
  const fraction = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  return build(Number(m[1]), Number(m[2] ?? 1), Number(m[3] ?? 1), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Math.min(fraction, 999), offset);
}

const TIME = String.raw`(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?(?:\.\d+)?\s*([AaPp]\.?[Mm]\.?)?`;
const ZONE = String.raw`((?:GMT|UTC|UT)?\s*[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]{1,5})?`;
/** "Thu, 01 Jan 2004 19:48:21 GMT", "1 January 2004", "01-Jan-04 19:48 +0100". */
const RFC822 = new RegExp(String.raw`^(?:[A-Za-z]+(?:\.?,\s*|\.?\s+))?(\d{1,2})(?:st|nd|rd|th)?[\s\-/]+([A-Za-z]+)\.?,?[\s\-/]+(\d{2,4})(?:[\s,T]+${TIME})?\s*${ZONE}$`);
/** "Jan 1, 2004 7:48 PM", "Thu, Jan 01 2004 19:48:21 GMT". */
const MONTH_FIRST = new RegExp(String.raw`^(?:[A-Za-z]+(?:\.?,\s*|\.?\s+))?([A-Za-z]+)\.?[\s\-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s\-]+(\d{4})(?:[\s,T]+(?:at\s+)?${TIME})?\s*${ZONE}$`);
/** asctime: "Thu Jan  1 19:48:21 2004" (optionally with a zone before the year). */
const ASCTIME = new RegExp(String.raw`^(?:[A-Za-z]+\.?,?\s+)?([A-Za-z]+)\s+(\d{1,2})\s+${TIME}\s+(?:([A-Za-z]{1,5}|[+-]\d{4})\s+)?(\d{4})$`);

function hour12(hour: number, ampm: string | undefined): number {
  if (!ampm) return hour;
  const pm = ampm.toLowerCase().startsWith('p');
  if (hour === 12) return pm ? 12 : 0;
  return pm ? hour + 12 : hour;
}

function parseRfc822(text: string): Date | null {
  let m = RFC822.exec(text);
  if (m) {
    const month = MONTHS[(m[2] ?? '').toLowerCase()];
    const offset = zoneOffset(m[8]);
    if (month === undefined || offset === null) return null;
    const h = hour12(Number(m[4] ?? 0), m[7]);
    return build(Number(m[3]), month, Number(m[1]), h, Number(m[5] ?? 0), Number(m[6] ?? 0), 0, offset);
  }
  m = MONTH_FIRST.exec(text);
  if (m) {
    const month = MONTHS[(m[1] ?? '').toLowerCase()];
    const offset = zoneOffset(m[8]);
    if (month === undefined || offset === null) return null;
    const h = hour12(Number(m[4] ?? 0), m[7]);
    return build(Number(m[3]), month, Number(m[2]), h, Number(m[5] ?? 0), Number(m[6] ?? 0), 0, offset);
  }
  m = ASCTIME.exec(text);
  if (m) {
    const month = MONTHS[(m[1] ?? '').toLowerCase()];
    const offset = zoneOffset(m[7]);
    if (month === undefined || offset === null) return null;
    const h = hour12(Number(m[3]), m[6]);
    return build(Number(m[8]), month, Number(m[2]), h, Number(m[4]), Number(m[5] ?? 0), 0, offset);
  }
  return null;
}

/** Parses a feed date; returns null for anything that is not a valid date. */
export function parseDate(input: string | null | undefined): Date | null {
  if (input === null || input === undefined) return null;
  const text = input
    .replace(/\([^)]*\)/g, ' ') // RFC 822 comments: "-0700 (MST)"
    .replace(/[\s\u00a0]+/g, ' ')
    .trim();
  if (text === '' || text.length > 100) return null;
  return parseIso(text) ?? parseRfc822(text) ?? parseRfc822(text.replace(/,/g, ' ').replace(/\s+/g, ' ').trim());
}

/** Seconds since the Unix epoch -> Date (null when not a usable number). */
export function fromUnixSeconds(value: unknown): Date | null {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return null;
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? null : date;
}
