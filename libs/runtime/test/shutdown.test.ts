/**
 * Shutdown: gracefulStop in-process, and onShutdownSignal / exitOnStartupError in a real child
 * process (they exit it) receiving real signals.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createLogger } from '@aharadar/log';
import { gracefulStop } from '../src/shutdown.js';

/** Generous: the budgets are what is tested, the margin only absorbs a slow machine. */
const MARGIN_MS = 1_500;

interface Line {
  level: string;
  msg: string;
  [key: string]: unknown;
}

function capture(): { lines: Line[]; log: ReturnType<typeof createLogger> } {
  const lines: Line[] = [];
  const log = createLogger({ service: 'test', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Line) } });
  return { lines, log };
}

function never(): Promise<void> {
  return new Promise<void>(() => undefined);
}

describe('gracefulStop', () => {
  it('releases after a graceful stop, for as long as release takes', async () => {
    const { lines, log } = capture();
    const order: string[] = [];
    const result = await gracefulStop({
      graceful: async () => {
        order.push('graceful');
      },
      release: async () => {
        await new Promise((resolve) => setImmediate(resolve));
        order.push('released');
      },
      timeoutMs: 10_000,
      forcedReleaseMs: 1,
      log,
    });
    assert.deepEqual(result, { timedOut: false });
    assert.deepEqual(order, ['graceful', 'released']);
    assert.equal(lines.length, 0);
  });

  it('hands the work back past the timeout: releases within the forced budget and returns', { timeout: 10_000 }, async () => {
    const { lines, log } = capture();
    let released = false;
    const started = performance.now();
    const result = await gracefulStop({
      graceful: never,
      release: async () => {
        released = true;
      },
      timeoutMs: 100,
      forcedReleaseMs: 100,
      log,
    });
    const ms = performance.now() - started;
    assert.deepEqual(result, { timedOut: true });
    assert.ok(released);
    assert.ok(ms >= 95, `waited for the grace period (${ms} ms)`);
    assert.ok(ms < 100 + MARGIN_MS, `returned in ${ms} ms`);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [['warn', 'active work did not finish in time; handing it back']],
    );
  });

  it('returns after the forced budget when release hangs too', { timeout: 10_000 }, async () => {
    const { lines, log } = capture();
    const started = performance.now();
    const result = await gracefulStop({ graceful: never, release: never, timeoutMs: 100, forcedReleaseMs: 150, log });
    const ms = performance.now() - started;
    assert.deepEqual(result, { timedOut: true });
    assert.ok(ms >= 240, `waited for both budgets (${ms} ms)`);
    assert.ok(ms < 250 + MARGIN_MS, `returned in ${ms} ms`);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['active work did not finish in time; handing it back', 'releasing did not finish in time; exiting anyway'],
    );
  });

  it('ignores a release error after a forced stop, but logs it', async () => {
    const { lines, log } = capture();
    const result = await gracefulStop({ graceful: never, release: () => Promise.reject(new Error('pool busy')), timeoutMs: 10, forcedReleaseMs: 1_000, log });
    assert.deepEqual(result, { timedOut: true });
    assert.equal(lines[1]?.msg, 'error while releasing after a forced stop (ignored)');
    assert.equal(lines[1]?.err, 'pool busy');
  });

  it('still releases when the graceful part fails, then throws its error', async () => {
    const { log } = capture();
    let released = false;
    await assert.rejects(
      gracefulStop({
        graceful: () => Promise.reject(new Error('close failed')),
        release: async () => {
          released = true;
        },
        timeoutMs: 10_000,
        log,
      }),
      /close failed/,
    );
    assert.ok(released);
  });
});

const CHILD = fileURLToPath(new URL('./fixtures/shutdown-child.ts', import.meta.url));

interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: Line[];
  exited: Promise<number | null>;
  /** Resolves when a log line with this message has been printed. */
  logged(msg: string): Promise<void>;
}

async function startChild(env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD], { env: { ...process.env, ...env }, stdio: 'pipe' });
  const lines: Line[] = [];
  const waiters: Array<{ msg: string; resolve: () => void }> = [];
  let buffer = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, newline)) as Line;
      buffer = buffer.slice(newline + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => w.msg === line.msg)) w.resolve();
    }
  });
  // 'close', not 'exit': every line the child printed has been read by then.
  const exited = once(proc, 'close').then(([code]) => code as number | null);
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  const ready = new Promise<void>((resolve, reject) => {
    proc.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('ready\n')) resolve();
    });
    void exited.then(() => reject(new Error(`child exited before it was ready: ${stderr}`)));
  });
  if (env.MODE !== 'startup') await ready;
  else ready.catch(() => undefined); // it exits before it is ready, by design
  return {
    proc,
    lines,
    exited,
    logged: (msg) => (lines.some((l) => l.msg === msg) ? Promise.resolve() : new Promise((resolve) => waiters.push({ msg, resolve }))),
  };
}

describe('onShutdownSignal and exitOnStartupError (child process)', { timeout: 30_000 }, () => {
  it('stops gracefully on SIGTERM and exits 0', async () => {
    const child = await startChild({ MODE: 'stop' });
    child.proc.kill('SIGTERM');
    await child.logged('shutting down');
    child.proc.stdin.write('finish\n');
    assert.equal(await child.exited, 0);
    assert.deepEqual(
      child.lines.map((l) => l.msg),
      ['shutting down', 'released', 'graceful stop returned', 'stopped'],
    );
    assert.equal(child.lines[0]?.signal, 'SIGTERM');
    assert.equal(child.lines[2]?.timedOut, false);
  });

  it('hands back and exits 0 on SIGINT when the grace period runs out', async () => {
    const child = await startChild({ MODE: 'stop', GRACE_MS: '100' });
    child.proc.kill('SIGINT');
    assert.equal(await child.exited, 0);
    assert.deepEqual(
      child.lines.map((l) => l.msg),
      ['shutting down', 'active work did not finish in time; handing it back', 'released', 'graceful stop returned', 'stopped'],
    );
    assert.equal(child.lines[3]?.timedOut, true);
  });

  it('exits 1 at once on a second signal while stopping', async () => {
    const child = await startChild({ MODE: 'hang' });
    child.proc.kill('SIGTERM');
    await child.logged('shutting down');
    child.proc.kill('SIGINT');
    assert.equal(await child.exited, 1);
    assert.deepEqual(
      child.lines.map((l) => [l.level, l.msg]),
      [
        ['info', 'shutting down'],
        ['warn', 'second signal: exiting now'],
      ],
    );
  });

  it('exits 1 when stopping fails', async () => {
    const child = await startChild({ MODE: 'fail' });
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 1);
    assert.deepEqual(
      child.lines.map((l) => [l.level, l.msg]),
      [
        ['info', 'shutting down'],
        ['error', 'error while shutting down'],
      ],
    );
  });

  it('exits 1 with one clear line on a start-up error', async () => {
    const child = await startChild({ MODE: 'startup' });
    assert.equal(await child.exited, 1);
    assert.equal(child.lines.length, 1);
    assert.equal(child.lines[0]?.level, 'fatal');
    assert.equal(child.lines[0]?.msg, 'cannot start: DATABASE_URL is not a valid URL');
  });
});
