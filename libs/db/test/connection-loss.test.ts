/**
 * Losing the Postgres connection must cost the query that was using it, never the process
 * (DESIGN §5 invariant 6). Found by the fault suite (scenario 1, Postgres restart under load):
 * with the stock Kysely adapter, a transaction whose backend went away ran its ROLLBACK on the
 * dead reserved connection and released it to the pool; postgres.js then wrote to a null
 * socket from a setImmediate and every worker died with an uncaught TypeError. Real Postgres:
 * backends are terminated with pg_terminate_backend, as a restart or failover does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import postgres from 'postgres';
import { createDatabase, type DatabaseHandle } from '../src/index.js';
import { isConnectionLost } from '../src/driver.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/services.js';

describe('a lost Postgres connection', () => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let killer: postgres.Sql;
  const appName = `radar-conn-loss-${randomBytes(3).toString('hex')}`;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  before(async () => {
    database = await createTestDatabase({ maxConnections: 2 });
    handle = createDatabase({ url: database.url, maxConnections: 4, applicationName: appName });
    killer = postgres(database.url, { max: 1, onnotice: () => {} });
    // The crash comes from a setImmediate: record it instead of letting it end the test run.
    process.on('uncaughtException', onUncaught);
  });
  after(async () => {
    process.off('uncaughtException', onUncaught);
    await handle.close();
    await killer.end();
    await database.drop();
  });

  async function terminate(where: 'pid', pid: number): Promise<void>;
  async function terminate(where: 'sleeping'): Promise<void>;
  async function terminate(where: 'pid' | 'sleeping', pid?: number): Promise<void> {
    if (where === 'pid') await killer`SELECT pg_terminate_backend(${pid ?? 0})`;
    else await killer`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${appName} AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`;
  }

  /** Polls (with a deadline, never a fixed sleep) until `count` of our pg_sleep queries are running. */
  async function sleepersRunning(count: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [row] = await killer<{ n: number }[]>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = ${appName} AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`;
      if ((row?.n ?? 0) >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${row?.n ?? 0} of ${count} pg_sleep queries started within 20 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Polls until a terminated backend has exited (pg_terminate_backend only sends the signal). */
  async function backendGone(pid: number): Promise<void> {
    const deadline = Date.now() + 20_000;
    while ((await killer`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`).length > 0) {
      if (Date.now() > deadline) throw new Error(`backend ${pid} still there 20 s after pg_terminate_backend`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Many queries through the pool: a dead connection handed out again would crash or hang
   * here. Right after a kill a query may still fail with a connection error (catchably); the
   * next round must succeed in full.
   */
  async function poolWorks(): Promise<void> {
    for (let round = 0; ; round++) {
      const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => sql<{ n: number }>`SELECT ${i}::int AS n`.execute(handle.db)));
      await new Promise((r) => setTimeout(r, 50)); // let any scheduled write run
      const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      for (const failure of failures) assert.ok(isConnectionLost(failure), `a query failed with something else than a lost connection: ${String(failure)}`);
      if (failures.length === 0) {
        assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.rows[0]?.n : null)), Array.from({ length: 12 }, (_, i) => i));
        return;
      }
      assert.ok(round < 2, 'the pool did not recover');
    }
  }

  it('fails a transaction whose backend was terminated, with a catchable error, and keeps the pool usable', { timeout: 30_000 }, async () => {
    await assert.rejects(
      handle.db.transaction().execute(async (tx) => {
        const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx);
        await terminate('pid', rows[0]?.pid ?? 0);
        await backendGone(rows[0]?.pid ?? 0);
        await sql`SELECT 1`.execute(tx);
      }),
    );
    await poolWorks();
    await poolWorks();
    assert.deepEqual(uncaught, []);
  });

  it('fails a single query whose backend was terminated mid-query, and keeps the pool usable', { timeout: 30_000 }, async () => {
    // Settled at once, so the rejection during terminate() is not "unhandled".
    const sleeping = sql`SELECT pg_sleep(20)`.execute(handle.db).then(() => null, (error: unknown) => error);
    await sleepersRunning(1);
    await terminate('sleeping');
    const error = await sleeping;
    assert.ok(isConnectionLost(error), `expected a lost-connection error, got ${String(error)}`);
    await poolWorks();
    await poolWorks();
    assert.deepEqual(uncaught, []);
  });

  it('fails the transactions of a whole pool terminated at once, and recovers', { timeout: 30_000 }, async () => {
    const transactions = Promise.allSettled(
      Array.from({ length: 4 }, () =>
        handle.db.transaction().execute(async (tx) => {
          await sql`SELECT pg_sleep(20)`.execute(tx);
        }),
      ),
    );
    await sleepersRunning(4);
    await terminate('sleeping');
    const settled = await transactions;
    assert.ok(settled.every((s) => s.status === 'rejected'));
    await poolWorks();
    await poolWorks();
    assert.deepEqual(uncaught, []);
  });

  it('recovers from an outage: no query hangs, no crash, every worker loop works again', { timeout: 90_000 }, async () => {
    // A TCP proxy in front of the real Postgres stands for the network or the server going away.
    const target = new URL(database.url);
    const sockets = new Set<Socket>();
    let server: Server | undefined;
    let port = 0;
    const up = () =>
      new Promise<void>((resolve) => {
        server = createServer((client) => {
          const upstream = connect(Number(target.port || 5432), target.hostname);
          for (const s of [client, upstream]) {
            sockets.add(s);
            s.on('error', () => s.destroy());
            s.on('close', () => sockets.delete(s));
          }
          client.pipe(upstream).pipe(client);
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
        });
        server.listen(port, '127.0.0.1', () => {
          port = (server?.address() as AddressInfo).port;
          resolve();
        });
      });
    const down = () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server?.close(() => resolve());
      });
    await up();
    const proxied = new URL(database.url);
    proxied.host = `127.0.0.1:${port}`;
    const db = createDatabase({ url: proxied.toString(), maxConnections: 4, applicationName: appName });
    let stop = false;
    let upAt = Infinity;
    const recoveredAfter: number[] = [];
    const loops = Array.from({ length: 6 }, async (_, k) => {
      let recovered = false;
      while (!stop) {
        try {
          await db.db.transaction().execute(async (tx) => {
            await sql`SELECT 1`.execute(tx);
            await sql`SELECT pg_sleep(0.02)`.execute(tx);
          });
          await sql`SELECT ${k}::int AS k`.execute(db.db);
          if (!recovered && Date.now() > upAt) {
            recovered = true;
            recoveredAfter.push(Date.now() - upAt);
          }
        } catch {
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1_000));
    await down();
    await new Promise((r) => setTimeout(r, 4_000));
    await up();
    upAt = Date.now();
    const deadline = Date.now() + 45_000;
    while (recoveredAfter.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    stop = true;
    const ended = await Promise.race([Promise.all(loops).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 15_000))]);
    await down();
    await db.close();
    assert.deepEqual(uncaught, []);
    assert.equal(recoveredAfter.length, 6, `only ${recoveredAfter.length}/6 loops worked again within 45 s of the outage's end`);
    assert.ok(ended, 'a query still hangs after the outage');
  });

  it('survives a connection killed while postgres.js fetches its array types (an unawaited internal query)', { timeout: 60_000 }, async () => {
    // In a child process: node:test itself fails a test on any unhandled rejection.
    const child = (guard: boolean) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const args = ['--conditions=source', '--import', 'tsx', fileURLToPath(new URL('./fixtures/types-fetch-killed.ts', import.meta.url)), database.url];
        const p = spawn(process.execPath, guard ? args : [...args, '--no-guard'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
        p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const unguarded = await child(false);
    assert.notEqual(unguarded.code, 0, `the scenario no longer kills an unguarded process: ${unguarded.stdout}`);
    assert.match(unguarded.stderr, /terminating connection due to administrator command/);
    const guarded = await child(true);
    assert.equal(guarded.code, 0, guarded.stderr);
    assert.match(guarded.stdout, /^survived ignored=[1-9]\d* again=1$/m);
  });

  it('classifies connection-level errors', () => {
    assert.equal(isConnectionLost(Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })), true);
    assert.equal(isConnectionLost(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), true);
    assert.equal(isConnectionLost(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
    assert.equal(isConnectionLost(new Error('plain')), false);
  });
});
