import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCliFixture, databaseFingerprint, mapLimit, runRadar, type CliFixture } from './harness.js';

/** A bad command line, and what its one stderr line must say. */
interface BadCase {
  args: string[];
  error: RegExp;
  env?: Record<string, string>;
}

const PAST = ['--from', '2024-01-01', '--to', '2024-01-02'];

const CASES: BadCase[] = [
  // topics
  { args: ['topic', 'add', 'x'], error: /a schedule is required: give --every DURATION .* or --cron/ },
  { args: ['topic', 'add', 'x', '--every', '30m', '--cron', '0 * * * *'], error: /--every and --cron cannot be used together/ },
  { args: ['topic', 'add', 'x', '--every', '30x'], error: /invalid duration "30x"/ },
  { args: ['topic', 'add', 'x', '--cron', '61 * * * *'], error: /invalid cron expression "61 \* \* \* \*": minute 61/ },
  { args: ['topic', 'add', 'x', '--every', '1h', '--tz', 'Mars/Olympus'], error: /unknown time zone "Mars\/Olympus"/ },
  { args: ['topic', 'add', 'x', '--every', '1h', '--size', '2.5'], error: /option '--size <n>' argument '2\.5' is invalid\. expected a whole number/ },
  { args: ['topic', 'add', 'AI News', '--every', '1h'], error: /topic "AI News" already exists/ },
  { args: ['topic', 'add', '   ', '--every', '1h'], error: /the topic name must not be empty/ },
  { args: ['topic', 'rm', 'nope'], error: /no topic named "nope"/ },
  { args: ['topic', 'add'], error: /missing required argument 'name'/ },
  // sources
  { args: ['source', 'add', '--topic', 'nope', '--type', 'feed', '--url', 'https://example.com/feed'], error: /no topic named "nope"/ },
  { args: ['source', 'add', '--topic', 'AI News', '--type', 'feed', '--url', 'not a url'], error: /invalid feed source config: "url" is not a valid URL/ },
  { args: ['source', 'add', '--topic', 'AI News', '--type', 'rss', '--url', 'https://example.com/feed'], error: /unknown source type "rss" \(known: feed, hackernews\)/ },
  { args: ['source', 'add', '--topic', 'AI News', '--type', 'feed'], error: /feed sources need --url/ },
  { args: ['source', 'add', '--topic', 'AI News', '--type', 'hackernews', '--list', 'worst'], error: /"list" must be one of top, new, best/ },
  { args: ['source', 'add', '--topic', 'AI News', '--type', 'hackernews', '--list', 'top', '--url', 'https://x.test'], error: /--url does not apply to hackernews sources/ },
  { args: ['source', 'add', '--topic', 'AI News', '--type', 'feed', '--url', 'https://example.com/f', '--weight', '0'], error: /option '--weight <w>' argument '0' is invalid/ },
  { args: ['source', 'add', '--type', 'feed', '--url', 'https://example.com/f'], error: /required option '--topic <name>' not specified/ },
  { args: ['source', 'rm', 'abc'], error: /value 'abc' is invalid for argument 'id'\. expected a source id/ },
  { args: ['source', 'rm', '424242'], error: /no source with id 424242/ },
  // runs, backfills, digests
  { args: ['run', 'nope'], error: /no topic named "nope"/ },
  { args: ['run', 'empty'], error: /topic "empty" has no sources/ },
  { args: ['backfill', 'AI News', '--from', 'yesterday', '--to', '2024-01-02'], error: /option '--from <iso>' argument 'yesterday' is invalid\. expected an ISO 8601 date/ },
  { args: ['backfill', 'AI News', '--from', '2024-02-30', '--to', '2024-03-02'], error: /argument '2024-02-30' is invalid/ },
  { args: ['backfill', 'AI News', '--from', '2024-01-02', '--to', '2024-01-01'], error: /--from \(2024-01-02T00:00:00\.000Z\) must be before --to/ },
  { args: ['backfill', 'AI News', '--from', '2099-01-01', '--to', '2099-01-02'], error: /--from 2099-01-01T00:00:00\.000Z is not in the past/ },
  { args: ['backfill', 'AI News', '--from', '2000-01-01', '--to', '2024-01-01'], error: /the range holds more than 10,000 windows/ },
  { args: ['backfill', 'AI News', '--from', '2024-01-01'], error: /required option '--to <iso>' not specified/ },
  { args: ['digest', 'show', 'abc'], error: /value 'abc' is invalid for argument 'id'\. expected a digest id/ },
  { args: ['digest', 'show', '999999'], error: /no digest with id 999999/ },
  { args: ['digests', '--limit', '-3'], error: /option '--limit <n>' argument '-3' is invalid/ },
  // usage and configuration
  { args: ['frobnicate'], error: /unknown command 'frobnicate'/ },
  { args: ['topic'], error: /^radar: error: missing command: radar topic add\|list\|rm\|pause\|resume \(see radar topic --help\)$/ },
  { args: ['source', 'frob'], error: /^radar: error: unknown command 'frob': radar source add\|list\|rm/ },
  { args: ['digest'], error: /missing command: radar digest show/ },
  { args: ['alerts', 'now'], error: /too many arguments for 'alerts'/ },
  { args: ['topic', 'list', '--colour'], error: /unknown option '--colour'/ },
  { args: ['backfill', 'AI News', ...PAST], env: { PIPELINE_ATTEMPTS: '0' }, error: /invalid configuration: PIPELINE_ATTEMPTS must be an integer between 1 and 100/ },
  { args: ['topic', 'list'], env: { DATABASE_URL: 'mysql://root:pw@db/x' }, error: /invalid configuration: DATABASE_URL must use postgres:\/\/ or postgresql:\/\/, got "mysql:\/\/root:\*\*\*@db\/x"/ },
  { args: ['pause'], env: { REDIS_URL: 'redis://:hunter2@127.0.0.1:1' }, error: /^radar: error: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: connect ECONNREFUSED/ },
  { args: ['backfill', 'AI News', ...PAST], env: { REDIS_URL: 'redis://127.0.0.1:1' }, error: /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/ },
];

describe('radar rejects bad input with one clear line and writes nothing', () => {
  let cli: CliFixture;
  before(async () => {
    cli = await createCliFixture();
    await cli.ok(['topic', 'add', 'AI News', '--every', '30m']);
    await cli.ok(['topic', 'add', 'empty', '--every', '1h']);
    await cli.ok(['source', 'add', '--topic', 'AI News', '--type', 'feed', '--url', 'https://example.com/feed.xml']);
  });
  after(async () => {
    await cli.cleanup();
  });

  it(`rejects ${CASES.length} bad command lines`, async () => {
    const before = await databaseFingerprint(cli.database);
    const results = await mapLimit(CASES, 4, async (c) => ({ c, result: await cli.run(c.args, c.env) }));
    const failures: string[] = [];
    for (const { c, result } of results) {
      const lines = result.stderr.split('\n').filter((l) => l !== '');
      const problem =
        result.code === 0 ? 'exited 0' :
        lines.length !== 1 ? `printed ${lines.length} stderr lines` :
        !lines[0]?.startsWith('radar: error: ') ? 'stderr does not start with "radar: error: "' :
        !c.error.test(lines[0]) ? `stderr does not match ${c.error}` :
        result.stdout !== '' ? 'printed to stdout' :
        /hunter2|:pw@/.test(result.stderr) ? 'leaked a password' : null;
      if (problem) failures.push(`radar ${c.args.join(' ')}: ${problem}\n  code ${result.code}\n  stderr: ${result.stderr}  stdout: ${result.stdout}`);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(await databaseFingerprint(cli.database), before, 'the database is unchanged');
    const { redis, prefix } = cli.redis;
    assert.deepEqual(await redis.keys(`${prefix}:pipeline:*`), [], 'nothing was enqueued');
  });

  it('names an unreachable Postgres without its password', async () => {
    const result = await runRadar(['topic', 'list'], { ...cli.env, DATABASE_URL: 'postgres://radar:s3cret@127.0.0.1:1/radar' });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'radar: error: cannot reach Postgres at postgres://radar:***@127.0.0.1:1/radar: connect ECONNREFUSED 127.0.0.1:1\n');
  });

  it('suggests `radar migrate` for a database that does not exist or has no tables', async () => {
    const missing = new URL(cli.database.url);
    missing.pathname = '/radar_cli_test_missing_db';
    const absent = await runRadar(['topic', 'list'], { ...cli.env, DATABASE_URL: missing.toString() });
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /^radar: error: cannot reach Postgres at .*: database "radar_cli_test_missing_db" does not exist \(run `radar migrate` to create it\)\n$/);
  });

  it('prints help with exit code 0', async () => {
    const result = await runRadar(['--help'], cli.env);
    assert.equal(result.code, 0);
    for (const command of ['migrate', 'topic', 'source', 'run', 'backfill', 'tick', 'digests', 'digest', 'status', 'pause', 'resume']) {
      assert.match(result.stdout, new RegExp(`^  ${command}\\b`, 'm'));
    }
  });
});
