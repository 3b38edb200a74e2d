import type { NewTopicInput } from '@aharadar/db';
import { assertCron, assertSchedule, assertTimeZone, defaultAnchor, parseDuration, type Schedule } from '@aharadar/scheduling';
import { CliError } from './errors.js';

export interface TopicAddOptions {
  every?: string;
  cron?: string;
  tz: string;
  keywords?: string[];
  exclude?: string[];
  size: number;
  maxPerSource?: number;
}

/** The schema's limit (topics.name CHECK); checked here so the error is ours, not Postgres'. */
export const MAX_TOPIC_NAME = 200;

export function validateTopicName(raw: string): string {
  const name = raw.trim();
  if (name === '') throw new CliError('the topic name must not be empty');
  if (name.length > MAX_TOPIC_NAME) throw new CliError(`the topic name must be at most ${MAX_TOPIC_NAME} characters, got ${name.length}`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new CliError('the topic name must not contain control characters');
  return name;
}

/**
 * Turns `radar topic add` flags into a topic row, validating everything first (DESIGN §4):
 * exactly one of --every / --cron, a known time zone, a well-formed duration or cron. Pure,
 * so a bad flag is reported before any connection is opened.
 */
export function buildTopicInput(rawName: string, options: TopicAddOptions, now: Date): NewTopicInput {
  const name = validateTopicName(rawName);
  if (options.every !== undefined && options.cron !== undefined) {
    throw new CliError('--every and --cron cannot be used together: a topic has one schedule');
  }
  if (options.every === undefined && options.cron === undefined) {
    throw new CliError('a schedule is required: give --every DURATION (e.g. 30m) or --cron "EXPRESSION" (e.g. "0 8,13,20 * * *")');
  }
  const timeZone = options.tz.trim();
  assertTimeZone(timeZone);
  let schedule: Schedule;
  if (options.every !== undefined) {
    schedule = { kind: 'every', everySeconds: parseDuration(options.every), anchor: defaultAnchor(now, timeZone) };
  } else {
    const expression = (options.cron ?? '').trim().replace(/\s+/g, ' ');
    assertCron(expression, timeZone);
    schedule = { kind: 'cron', expression, timeZone };
  }
  assertSchedule(schedule);
  const keywords = options.keywords ?? [];
  const excludeKeywords = options.exclude ?? [];
  const both = keywords.filter((k) => excludeKeywords.some((e) => e.toLowerCase() === k.toLowerCase()));
  if (both.length > 0) throw new CliError(`keyword "${both[0]}" is in both --keywords and --exclude`);
  return {
    name,
    schedule,
    timeZone,
    keywords,
    excludeKeywords,
    digestSize: options.size,
    // Without a cap one prolific feed fills the digest; half the digest is a gentle default.
    maxPerSource: options.maxPerSource ?? Math.max(1, Math.ceil(options.size / 2)),
    createdAt: now,
  };
}
