/** Data of a `run_window` job. The ledger row is the truth; the payload only points at it. */
export interface RunWindowPayload {
  windowId: number;
  topicId: number;
}

/** Data of a `poll_feed` job: the feed and the planned poll (claim) it fulfils. */
export interface PollFeedPayload {
  feedId: number;
  seq: number;
  /** When the poll was planned for (ms epoch): poll lag is measured from it. */
  dueAt: number;
}

/** Data of a `prune` job: nothing; the cutoff is computed when it runs. */
export type PrunePayload = Record<string, never>;

/** Data of a `tick` job. Scheduled ticks carry none; `radar tick` marks its own. */
export interface TickPayload {
  manual?: boolean;
}

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

/** Validates job data read back from Redis: a job from an older or foreign producer fails clearly. */
export function parseRunWindowPayload(data: unknown): RunWindowPayload {
  if (!isRecord(data) || !positiveInt(data.windowId) || !positiveInt(data.topicId)) {
    throw new PayloadError(`invalid run_window payload ${JSON.stringify(data)}: expected { windowId, topicId } positive integers`);
  }
  return { windowId: data.windowId, topicId: data.topicId };
}

export function parsePollFeedPayload(data: unknown): PollFeedPayload {
  if (!isRecord(data) || !positiveInt(data.feedId) || !positiveInt(data.seq) || typeof data.dueAt !== 'number' || !Number.isFinite(data.dueAt)) {
    throw new PayloadError(`invalid poll_feed payload ${JSON.stringify(data)}: expected { feedId, seq } positive integers and dueAt ms`);
  }
  return { feedId: data.feedId, seq: data.seq, dueAt: data.dueAt };
}

export function parseTickPayload(data: unknown): TickPayload {
  if (data === undefined || data === null) return {};
  if (!isRecord(data) || (data.manual !== undefined && typeof data.manual !== 'boolean')) {
    throw new PayloadError(`invalid tick payload ${JSON.stringify(data)}: expected { manual?: boolean }`);
  }
  return data.manual === undefined ? {} : { manual: data.manual };
}
