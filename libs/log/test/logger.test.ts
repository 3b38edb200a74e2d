/**
 * The logger: JSON lines with redaction to a given destination or a pipe, pretty lines when
 * stdout is a terminal (a real pseudo-terminal from util-linux `script`).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { createLogger, redactSecrets } from '../src/logger.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/log-child.ts', import.meta.url));
const NODE_ARGS = ['--conditions=source', '--import', 'tsx', CHILD];

function hasScript(): boolean {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('createLogger', () => {
  it('writes JSON lines to a given destination, with service, level label, component, and secrets redacted', () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ service: 'worker', level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    log.debug('not at info');
    log.info({ databaseUrl: 'postgres://u:p@h/db', config: { password: 'hunter2' }, headers: { authorization: 'Bearer x' } }, 'hello');
    log.child({ component: 'tick' }).warn({ err: new Error('boom') }, 'tick failed');
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.level, 'info');
    assert.equal(lines[0]?.service, 'worker');
    assert.equal(lines[0]?.pid, process.pid);
    assert.equal(lines[0]?.msg, 'hello');
    assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(lines[0]?.databaseUrl, '[redacted]');
    assert.deepEqual(lines[0]?.config, { password: '[redacted]' });
    assert.deepEqual(lines[0]?.headers, { authorization: '[redacted]' });
    assert.equal(lines[1]?.level, 'warn');
    assert.equal(lines[1]?.component, 'tick');
    assert.equal((lines[1]?.err as { message: string }).message, 'boom');
  });

  it('writes JSON lines to stdout when it is not a terminal', async () => {
    const { stdout } = await run(process.execPath, NODE_ARGS);
    const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.service]),
      [
        ['info', 'worker started', 'log-test'],
        ['warn', 'tick failed', 'log-test'],
      ],
    );
    assert.equal(lines[0]?.databaseUrl, '[redacted]');
  });

  it('pretty-prints when stdout is a terminal', { skip: hasScript() ? false : 'util-linux `script` (for a pseudo-terminal) is not installed' }, async () => {
    const command = [process.execPath, ...NODE_ARGS].map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
    const { stdout } = await run('script', ['-qec', command, '/dev/null']);
    const text = stdout.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, ''); // eslint-disable-line no-control-regex
    assert.doesNotMatch(text, /"level":/);
    assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: worker started$/m);
    assert.match(text, /^\s+databaseUrl: "\[redacted\]"$/m);
    assert.match(text, /^\s+port: 8080$/m);
    assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: \[tick\] tick failed$/m);
  });
});

describe('redactSecrets', () => {
  it('replaces the password of every URL in a text', () => {
    assert.equal(
      redactSecrets('cannot reach postgres://radar:s3cret@db:5432/radar or redis://:pw@cache:6379'),
      'cannot reach postgres://radar:***@db:5432/radar or redis://:***@cache:6379',
    );
    assert.equal(redactSecrets('http://example.com/a:b@c'), 'http://example.com/a:b@c');
  });
});
