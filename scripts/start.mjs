#!/usr/bin/env node
/**
 * `pnpm start`: the scheduler and one worker, from source, side by side until Ctrl-C.
 *
 * Not through turbo (as it was): turbo pipes its tasks' output, so the apps never saw a
 * terminal and printed raw JSON lines at a person. Here each app inherits this process's
 * stdout — pretty lines on a terminal (pino-pretty), JSON lines when piped or in Docker — and
 * the environment as it is (every variable reaches the apps; turbo's strict mode dropped some).
 * Ctrl-C reaches both (same process group); SIGTERM is forwarded. When one app exits, the other
 * is stopped and this exits with the first non-zero code, so a bad configuration fails fast.
 */
import { spawn } from 'node:child_process';
import process from 'node:process';
import { fileURLToPath, URL } from 'node:url';


const root = fileURLToPath(new URL('..', import.meta.url));
const apps = ['scheduler', 'worker'].map((name) =>
  spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'src/main.ts'], { cwd: `${root}apps/${name}`, stdio: 'inherit' }),
);
let exitCode = 0;
let stopping = false;
const stopAll = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const app of apps) if (app.exitCode === null) app.kill(signal);
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
await Promise.all(
  apps.map(
    (app) =>
      new Promise((resolve) =>
        app.on('exit', (code, signal) => {
          if (exitCode === 0 && code !== 0 && code !== null) exitCode = code;
          if (exitCode === 0 && code === null && signal !== 'SIGINT' && signal !== 'SIGTERM') exitCode = 1;
          stopAll('SIGTERM');
          resolve();
        }),
      ),
  ),
);
process.exit(exitCode);
