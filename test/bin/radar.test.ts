import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * `./bin/radar` is the README's way to run the CLI from the repository. It must print exactly
 * what radar prints — no `$ node ...` echo, no ELIFECYCLE line (what `pnpm radar` and even
 * `pnpm --silent radar` add on failure) — and keep radar's exit code.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const wrapper = path.join(root, 'bin', 'radar');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // No DATABASE_URL etc. from the developer's shell: the commands below need no services.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env };
    const child = spawn(command, args, { cwd: options.cwd ?? root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** radar itself, without any wrapper: the reference output. */
function direct(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return run(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args], { env });
}

const CASES: { name: string; args: string[]; env?: NodeJS.ProcessEnv; code: number }[] = [
  { name: '--help', args: ['--help'], code: 0 },
  { name: 'a sub-command --help', args: ['topic', 'add', '--help'], code: 0 },
  { name: 'an unknown command', args: ['no-such-command'], code: 1 },
  { name: 'a bad configuration (password in the URL hidden)', args: ['status'], env: { DATABASE_URL: 'mysql://admin:s3cret@db/x' }, code: 1 },
];

describe('bin/radar', () => {
  let elsewhere: string;
  before(async () => {
    elsewhere = await mkdtemp(path.join(tmpdir(), 'radar-wrapper-'));
    await symlink(wrapper, path.join(elsewhere, 'radar'));
  });
  after(async () => {
    await rm(elsewhere, { recursive: true, force: true });
  });

  it('is executable, also in git (mode 100755)', async () => {
    assert.ok(((await stat(wrapper)).mode & 0o111) === 0o111, 'bin/radar is not executable');
    const mode = execFileSync('git', ['ls-files', '--stage', 'bin/radar'], { cwd: root, encoding: 'utf8' }).split(' ')[0];
    assert.equal(mode, '100755');
  });

  for (const c of CASES) {
    it(`${c.name}: same stdout, stderr and exit code as radar itself, and nothing else`, async () => {
      const expected = await direct(c.args, c.env);
      assert.equal(expected.code, c.code, `radar itself: ${expected.stderr}`);
      const actual = await run(wrapper, c.args, { env: c.env });
      assert.deepEqual(actual, expected);
      for (const noise of ['ELIFECYCLE', '$ node', '> aharadar@', 'pnpm']) {
        assert.ok(!actual.stdout.includes(noise) && !actual.stderr.includes(noise), `output contains ${noise}`);
      }
      if (c.code === 0) assert.match(actual.stdout, /^Usage: radar /);
      else assert.match(actual.stderr, /^radar: error: [^\n]*\n$/);
      assert.ok(!actual.stderr.includes('s3cret'));
    });
  }

  it('works from another directory and through a symlink', async () => {
    const expected = await direct(['no-such-command']);
    assert.deepEqual(await run(wrapper, ['no-such-command'], { cwd: elsewhere }), expected);
    assert.deepEqual(await run(path.join(elsewhere, 'radar'), ['no-such-command'], { cwd: elsewhere }), expected);
  });
});
