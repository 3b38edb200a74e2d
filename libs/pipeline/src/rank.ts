/**
 * Explainable ranking (DESIGN §6.4). Every score is a sum of named parts times the source's
 * weight, and the parts are stored with each digest item so `radar digest show` can say why
 * an item ranks where it does. Pure: no I/O, unit tested.
 */

export interface RankCandidate {
  id: number;
  title: string;
  summary: string | null;
  effectiveAt: Date;
  points: number | null;
  comments: number | null;
  sourceIds: number[];
  sourceWeight: number;
}

export interface RankOptions {
  windowStart: Date;
  windowEnd: Date;
  keywords: readonly string[];
  excludeKeywords: readonly string[];
  digestSize: number;
  maxPerSource: number;
}

export interface ScoreBreakdown {
  /** 0..1: position of the item in its window (1 = at the end, the freshest). */
  recency: number;
  /** 0..1: log-scaled points and comments where the source has them (HN). */
  engagement: number;
  /** Include-keywords found in title or summary. */
  matchedKeywords: string[];
  keywordBoost: number;
  /** Extra sources that carried the same story. */
  corroboration: number;
  sourceWeight: number;
  /** Multiplier < 1 when the topic has include-keywords and none matched. */
  keywordPenalty: number;
  total: number;
}

export interface RankedItem {
  id: number;
  rank: number;
  score: number;
  breakdown: ScoreBreakdown;
}

export interface RankResult {
  ranked: RankedItem[];
  /** Candidates dropped by an exclude keyword. */
  excluded: number;
  /** Candidates left out by the per-source cap. */
  capped: number;
}

export const RECENCY_WEIGHT = 0.5;
export const ENGAGEMENT_WEIGHT = 1;
export const KEYWORD_MATCH_BOOST = 0.5;
export const CORROBORATION_PER_SOURCE = 0.25;
export const CORROBORATION_MAX = 0.75;
/** Items that match none of a topic's include-keywords are demoted, not dropped. */
export const NO_KEYWORD_MATCH_PENALTY = 0.25;
/** log10(1 + points + 2·comments) / this ≈ 1 at ~1,000 points. */
const ENGAGEMENT_LOG_SCALE = 3;

export function matchKeywords(text: string, keywords: readonly string[]): string[] {
  const haystack = ` ${text.toLowerCase()} `;
  return keywords.filter((keyword) => {
    const needle = keyword.trim().toLowerCase();
    if (needle === '') return false;
    const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, 'u').test(haystack);
  });
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

export function scoreCandidate(candidate: RankCandidate, options: RankOptions): ScoreBreakdown {
  const span = Math.max(1, options.windowEnd.getTime() - options.windowStart.getTime());
  const recency = Math.min(1, Math.max(0, (candidate.effectiveAt.getTime() - options.windowStart.getTime()) / span));
  const activity = Math.max(0, candidate.points ?? 0) + 2 * Math.max(0, candidate.comments ?? 0);
  const engagement = Math.min(1, Math.log10(1 + activity) / ENGAGEMENT_LOG_SCALE);
  const text = `${candidate.title} ${candidate.summary ?? ''}`;
  const matchedKeywords = matchKeywords(text, options.keywords);
  const keywordBoost = KEYWORD_MATCH_BOOST * matchedKeywords.length;
  const corroboration = Math.min(CORROBORATION_MAX, CORROBORATION_PER_SOURCE * Math.max(0, candidate.sourceIds.length - 1));
  const keywordPenalty = options.keywords.length > 0 && matchedKeywords.length === 0 ? NO_KEYWORD_MATCH_PENALTY : 1;
  const base = 1 + RECENCY_WEIGHT * recency + ENGAGEMENT_WEIGHT * engagement + keywordBoost + corroboration;
  const total = base * candidate.sourceWeight * keywordPenalty;
  return {
    recency: round(recency),
    engagement: round(engagement),
    matchedKeywords,
    keywordBoost: round(keywordBoost),
    corroboration: round(corroboration),
    sourceWeight: candidate.sourceWeight,
    keywordPenalty,
    total: round(total),
  };
}

/**
 * Scores, filters (exclude keywords), orders (score, then fresher, then id for a stable
 * result) and cuts to the digest size with at most `maxPerSource` items credited to one
 * source (an item is credited to the first source that carried it).
 */
export function rankCandidates(candidates: readonly RankCandidate[], options: RankOptions): RankResult {
  let excluded = 0;
  const scored: { candidate: RankCandidate; breakdown: ScoreBreakdown }[] = [];
  for (const candidate of candidates) {
    if (matchKeywords(`${candidate.title} ${candidate.summary ?? ''}`, options.excludeKeywords).length > 0) {
      excluded++;
      continue;
    }
    scored.push({ candidate, breakdown: scoreCandidate(candidate, options) });
  }
  scored.sort(
    (a, b) =>
      b.breakdown.total - a.breakdown.total ||
      b.candidate.effectiveAt.getTime() - a.candidate.effectiveAt.getTime() ||
      a.candidate.id - b.candidate.id,
  );
  const perSource = new Map<number, number>();
  const ranked: RankedItem[] = [];
  let capped = 0;
  for (const { candidate, breakdown } of scored) {
    if (ranked.length >= options.digestSize) break;
    const credited = candidate.sourceIds[0] ?? -1;
    const taken = perSource.get(credited) ?? 0;
    if (taken >= options.maxPerSource) {
      capped++;
      continue;
    }
    perSource.set(credited, taken + 1);
    ranked.push({ id: candidate.id, rank: ranked.length + 1, score: breakdown.total, breakdown });
  }
  return { ranked, excluded, capped };
}
