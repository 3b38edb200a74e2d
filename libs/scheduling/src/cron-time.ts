import { DAY_MS, MINUTE_MS } from './civil.js';
import { countWallMatches, nextWallMatch, prevWallMatch } from './cron-expression.js';
import type { CronSpec } from './cron-expression.js';
import { offsetAt, resolveWall } from './zone.js';

/**
 * Cron fire times as instants in an IANA time zone.
 *
 * A cron expression matches wall-clock minutes; this file turns those into real instants.
 * Away from DST changes that is a constant shift. Around a change, wall order and instant order
 * can disagree inside a repeated (overlap) hour, so the searches below look that much further
 * (the `overlap` of a resolved wall time) before committing to an answer. That is what makes
 * `previousFire` the exact mirror of `nextFire`, which windows rely on: a window is
 * [previousFire(t), nextFire(t)), and two adjacent windows must share their boundary exactly.
 *
 * DST behaviour (see WallPolicy in zone.ts), e.g. Europe/Berlin:
 *   - `30 2 * * *` on 2026-03-29 (02:00 -> 03:00): 02:30 does not exist; it fires at 03:00 CEST,
 *     the moment the clock passes it, as Vixie cron/cronie do. (croner 9.1 fires at 03:30 CEST.)
 *   - `30 2 * * *` on 2026-10-25 (03:00 -> 02:00): 02:30 happens twice; it fires once, at the
 *     first (02:30 CEST = 00:30 UTC).
 *   - `0 * * * *` (periodic) fires at both 02:00 CEST and 02:00 CET in autumn, so every window is
 *     one real hour; in spring there is no 02:00 and the window 01:00 -> 03:00 CEST is one hour.
 */

function policyOf(spec: CronSpec): 'once' | 'each' {
  return spec.periodic ? 'each' : 'once';
}

/** The first fire time strictly after `instant` (milliseconds). */
export function nextFire(spec: CronSpec, timeZone: string, instant: number): number {
  const policy = policyOf(spec);
  const offset = offsetAt(timeZone, instant);
  // If clocks go back by d soon enough after `instant` (within d), instants after it show
  // wall times before its own: start the search that much earlier.
  const drop = offset - offsetAt(timeZone, instant + DAY_MS);
  const lookBack = drop > 0 && offsetAt(timeZone, instant + drop) !== offset ? drop : 0;
  let wall = instant + offset - lookBack;
  let best = Infinity;
  let stop = Infinity;
  for (;;) {
    const match = nextWallMatch(spec, wall);
    if (match > stop) break;
    const { instants, overlap } = resolveWall(timeZone, match, policy);
    for (const candidate of instants) if (candidate > instant && candidate < best) best = candidate;
    if (best !== Infinity && stop === Infinity) {
      // Outside an overlap, later wall times are later instants: this is the answer.
      if (overlap === 0) break;
      stop = match + overlap;
    }
    wall = match + MINUTE_MS;
  }
  return best;
}

/** The last fire time at or before `instant` (milliseconds). */
export function previousFire(spec: CronSpec, timeZone: string, instant: number): number {
  const policy = policyOf(spec);
  const offset = offsetAt(timeZone, instant);
  // If clocks went back by d shortly (within d) before `instant`, earlier instants showed wall
  // times after its own: start the search that much later.
  const drop = offsetAt(timeZone, instant - DAY_MS) - offset;
  const lookAhead = drop > 0 && offsetAt(timeZone, instant - drop) !== offset ? drop : 0;
  let wall = instant + offset + lookAhead;
  let best = -Infinity;
  let stop = -Infinity;
  for (;;) {
    const match = prevWallMatch(spec, wall);
    if (match < stop) break;
    const { instants, overlap } = resolveWall(timeZone, match, policy);
    for (const candidate of instants) if (candidate <= instant && candidate > best) best = candidate;
    if (best !== -Infinity && stop === -Infinity) {
      if (overlap === 0) break;
      stop = match - overlap;
    }
    wall = match - MINUTE_MS;
  }
  return best;
}

/**
 * Number of fire times in [from, to) without visiting each one, so that summarising a long
 * outage of a per-minute schedule stays cheap. Day-long stretches with a constant offset are
 * counted arithmetically in wall time; only the days around an offset change are walked.
 */
export function countFires(spec: CronSpec, timeZone: string, from: number, to: number): number {
  let count = 0;
  let chunkStart = from;
  let previousOffset = offsetAt(timeZone, chunkStart - DAY_MS);
  let startOffset = offsetAt(timeZone, chunkStart);
  while (chunkStart < to) {
    const chunkEnd = Math.min(chunkStart + DAY_MS, to);
    const endOffset = offsetAt(timeZone, chunkEnd);
    if (previousOffset === startOffset && startOffset === endOffset) {
      count += countWallMatches(spec, chunkStart + startOffset, chunkEnd + startOffset);
    } else {
      for (let fire = nextFire(spec, timeZone, chunkStart - 1); fire < chunkEnd; fire = nextFire(spec, timeZone, fire)) {
        count++;
      }
    }
    previousOffset = startOffset;
    startOffset = endOffset;
    chunkStart = chunkEnd;
  }
  return count;
}
