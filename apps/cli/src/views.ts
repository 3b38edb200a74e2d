import type { DigestEntry, DigestListing, SourceListing, Topic, TopicListing } from '@aharadar/db';
import { formatDuration } from '@aharadar/scheduling';

/**
 * Row -> output mappings shared by commands. JSON views use camelCase and ISO dates, and are
 * the stable contract of `--json`; human strings are for tables only.
 */

export function describeSchedule(topic: Pick<Topic, 'schedule_kind' | 'every_seconds' | 'cron_expr' | 'time_zone'>): string {
  if (topic.schedule_kind === 'every') return `every ${formatDuration(topic.every_seconds ?? 0)}${topic.time_zone === 'UTC' ? '' : ` (${topic.time_zone})`}`;
  return `cron "${topic.cron_expr ?? ''}" ${topic.time_zone}`;
}

/** The STATE column of `radar topic list`: paused or active, and a schedule the ticks cannot plan. */
export function topicState(topic: Pick<Topic, 'paused' | 'schedule_error'>): string {
  const state = topic.paused ? 'paused' : 'active';
  return topic.schedule_error === null ? state : `${state}, SCHEDULE ERROR: ${topic.schedule_error}`;
}

export function topicView(topic: Topic | TopicListing) {
  return {
    id: topic.id,
    name: topic.name,
    schedule:
      topic.schedule_kind === 'every'
        ? { kind: 'every' as const, every: formatDuration(topic.every_seconds ?? 0), everySeconds: topic.every_seconds, anchor: topic.anchor, timeZone: topic.time_zone }
        : { kind: 'cron' as const, cron: topic.cron_expr, timeZone: topic.time_zone },
    keywords: topic.keywords,
    excludeKeywords: topic.exclude_keywords,
    digestSize: topic.digest_size,
    maxPerSource: topic.max_per_source,
    paused: topic.paused,
    pausedAt: topic.paused_at,
    watermark: topic.watermark,
    nextWindowEnd: topic.next_window_end,
    createdAt: topic.created_at,
    scheduleError: topic.schedule_error,
    scheduleErrorAt: topic.schedule_error_at,
    ...('source_count' in topic ? { sourceCount: topic.source_count, lastDigestWindowEnd: topic.last_window_end } : {}),
  };
}

/**
 * A source as `--json` shows it: the subscription (id, topic, name, weight) and the feed it
 * follows — shared with `topics` — with the feed's cadence, health and last-24-h figures.
 */
export function sourceView(source: SourceListing, now: Date) {
  const f = source.feed;
  return {
    id: source.id,
    topic: source.topic_name,
    name: source.name,
    weight: source.weight,
    createdAt: source.created_at,
    feed: {
      id: f.id,
      type: f.type,
      config: f.config,
      topics: source.feed_topics,
      enabled: f.enabled,
      disabledReason: f.disabled_reason,
    },
    polling: {
      intervalMs: f.poll_interval_ms,
      nextPollAt: f.next_poll_at,
      notBefore: f.not_before !== null && f.not_before.getTime() > now.getTime() ? f.not_before : null,
      reason: f.schedule_reason,
      lastPolledAt: f.last_polled_at,
      polls24h: source.polls_24h,
      notModified24h: source.not_modified_24h,
      items24h: source.items_24h,
    },
    health: {
      lastStatus: f.last_status,
      lastHttpStatus: f.last_http_status,
      lastErrorCode: f.last_error_code,
      lastError: f.last_error,
      consecutiveFailures: f.consecutive_failures,
      warning: f.warning,
    },
  };
}

export function digestView(digest: DigestListing) {
  return {
    id: digest.id,
    topic: digest.topic_name,
    windowId: digest.window_id,
    windowStart: digest.window_start,
    windowEnd: digest.window_end,
    trigger: digest.trigger,
    status: digest.status,
    error: digest.error,
    itemCount: digest.item_count,
    candidateCount: digest.candidate_count,
    sourcesTotal: digest.sources_total,
    sourcesFailed: digest.sources_failed,
    durationMs: digest.duration_ms,
    createdAt: digest.created_at,
  };
}

/** The parts of a stored score breakdown `radar` explains; unknown or missing parts are skipped. */
export interface BreakdownParts {
  recency?: number;
  engagement?: number;
  matchedKeywords?: string[];
  corroboration?: number;
  sourceWeight?: number;
  keywordPenalty?: number;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function readBreakdown(raw: unknown): BreakdownParts {
  if (typeof raw !== 'object' || raw === null) return {};
  const b = raw as Record<string, unknown>;
  const keywords = Array.isArray(b.matchedKeywords) ? b.matchedKeywords.filter((k): k is string => typeof k === 'string') : undefined;
  return {
    recency: num(b.recency),
    engagement: num(b.engagement),
    matchedKeywords: keywords,
    corroboration: num(b.corroboration),
    sourceWeight: num(b.sourceWeight),
    keywordPenalty: num(b.keywordPenalty),
  };
}

const fixed = (n: number): string => n.toFixed(2);

/**
 * A short "why" for a ranked item from its stored breakdown (DESIGN §6.4), naming only the
 * parts that moved the score: e.g. `recency 0.92, engagement 0.41, keywords: rust, seen in
 * other sources +0.25, source weight ×1.5`.
 */
export function explainBreakdown(raw: unknown): string {
  const b = readBreakdown(raw);
  const parts: string[] = [];
  if (b.recency !== undefined) parts.push(`recency ${fixed(b.recency)}`);
  if (b.engagement !== undefined && b.engagement > 0) parts.push(`engagement ${fixed(b.engagement)}`);
  if (b.matchedKeywords && b.matchedKeywords.length > 0) parts.push(`keywords: ${b.matchedKeywords.join(', ')}`);
  if (b.corroboration !== undefined && b.corroboration > 0) parts.push(`corroborated +${fixed(b.corroboration)}`);
  if (b.sourceWeight !== undefined && b.sourceWeight !== 1) parts.push(`source weight ×${b.sourceWeight}`);
  if (b.keywordPenalty !== undefined && b.keywordPenalty < 1) parts.push(`no keyword match ×${b.keywordPenalty}`);
  return parts.length > 0 ? parts.join(', ') : 'no breakdown stored';
}

export function entryView(entry: DigestEntry) {
  return {
    rank: entry.rank,
    itemId: entry.item_id,
    title: entry.title,
    url: entry.url,
    publishedAt: entry.published_at,
    points: entry.points,
    comments: entry.comments,
    sources: entry.sources,
    score: entry.score,
    why: explainBreakdown(entry.breakdown),
    breakdown: entry.breakdown,
  };
}

/** Ranked items as an indented list: tables cannot hold a title, a URL and a reason legibly. */
export function renderEntries(entries: readonly DigestEntry[]): string[] {
  if (entries.length === 0) return ['(no items)'];
  const width = String(entries.length).length;
  const lines: string[] = [];
  for (const e of entries) {
    const indent = ' '.repeat(width + 2);
    lines.push(`${String(e.rank).padStart(width)}. ${e.title}  [score ${e.score.toFixed(2)}]`);
    if (e.url) lines.push(`${indent}${e.url}`);
    lines.push(`${indent}sources: ${e.sources.length > 0 ? e.sources.join(', ') : '-'}`);
    lines.push(`${indent}why: ${explainBreakdown(e.breakdown)}`);
  }
  return lines;
}
