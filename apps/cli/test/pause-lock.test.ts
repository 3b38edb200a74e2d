/**
 * `radar pause` / `radar resume` against a tick in progress (issue item 3). A tick reads the
 * pause flag and then sets the pipeline queue's state, under the tick lock. The CLI writes the
 * flag and sets the queue under the same lock, so a tick can never apply a flag it read before
 * the CLI's write after the CLI's queue change. The test plays the tick itself — it holds the
 * lock, reads the flag, lets `radar` start, then applies what it read — so the interleaving is
 * the bad one every time, with no sleep deciding it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { readGlobalPause, writeGlobalPause } from '@aharadar/db';
import { lockKey, tryAcquireLock } from '@aharadar/queue';
import { createCliQueueFixture, ROOT, type CliQueueFixture } from './harness.js';

/** Runs radar and resolves `waiting` as soon as it says it waits for the tick (or exits). */
function startRadar(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let onWaiting: (how: 'waiting' | 'exited') => void = () => undefined;
  const waiting = new Promise<'waiting' | 'exited'>((resolve) => (onWaiting = resolve));
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    if (stderr.includes('waiting for the running tick to finish')) onWaiting('waiting');
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      onWaiting('exited');
      resolve({ code, stdout, stderr });
    }),
  );
  return { waiting, exited };
}

describe('global pause against a tick in progress', () => {
  let f: CliQueueFixture;
  before(async () => {
    f = await createCliQueueFixture();
  });
  after(async () => f.cleanup());

  /** The tick's part: under the lock, read the flag, then (after radar has started) apply it to the queue. */
  async function tickAround(command: 'pause' | 'resume') {
    const lock = await tryAcquireLock(f.redis.redis, lockKey(f.redis.prefix, 'tick'), 60_000);
    assert.ok(lock, 'the test holds the tick lock');
    const read = await readGlobalPause(f.database.db);
    const radar = startRadar([command], f.env);
    let how: 'waiting' | 'exited';
    try {
      how = await radar.waiting;
      // Apply the flag read before radar's write, as syncGlobalPause does.
      if (read.paused && !(await f.queues.pipeline.isPaused())) await f.queues.pipeline.pause();
      if (!read.paused && (await f.queues.pipeline.isPaused())) await f.queues.pipeline.resume();
    } finally {
      await lock.release();
    }
    const result = await radar.exited;
    assert.equal(result.code, 0, result.stderr);
    return how;
  }

  it('radar pause waits for the tick, so the tick cannot undo it', { timeout: 120_000 }, async () => {
    await writeGlobalPause(f.database.db, false, new Date());
    await f.queues.pipeline.resume();
    const how = await tickAround('pause');
    assert.equal((await readGlobalPause(f.database.db)).paused, true);
    assert.equal(await f.queues.pipeline.isPaused(), true, 'the queue stays paused after the tick');
    assert.equal(how, 'waiting', 'radar pause waited for the tick lock');
  });

  it('radar resume waits for the tick, so the tick cannot undo it', { timeout: 120_000 }, async () => {
    await writeGlobalPause(f.database.db, true, new Date());
    await f.queues.pipeline.pause();
    const how = await tickAround('resume');
    assert.equal((await readGlobalPause(f.database.db)).paused, false);
    assert.equal(await f.queues.pipeline.isPaused(), false, 'the queue stays resumed after the tick');
    assert.equal(how, 'waiting', 'radar resume waited for the tick lock');
  });
});
