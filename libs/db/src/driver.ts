import {
  AbortedTransactionError,
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type postgres from 'postgres';

/**
 * Kysely on postgres.js, built so that losing Postgres (a restart, a failover, a killed
 * backend, a 30 s outage) costs the queries that were running — never the process, never a
 * connection, never a half-applied transaction.
 *
 * Why not the stock adapter (kysely-postgres-js)? It runs every query on a `reserve()`d
 * connection, and postgres.js 3.4.x mishandles reserved connections when the socket goes away
 * (upstream porsager/postgres #1154, #1195, #1199, #1208), which the fault suite hit at once:
 *  - a query or the transaction's ROLLBACK on a reserved connection whose socket closed writes
 *    to a null socket from a setImmediate: an uncaught TypeError that kills the process
 *    (every worker died on a Postgres restart under load);
 *  - releasing such a connection puts a socketless connection back among the idle ones;
 *  - a `reserve()` waiting while connections fail is dropped or left in the pool's queue, so
 *    it never settles or strands a connection: after a 30 s outage the tick's transaction
 *    hung for good and ticks only resumed when its Redis lock expired.
 *
 * So no `reserve()` at all: the driver keeps its own small pool of postgres.js clients of ONE
 * connection each, and lends a whole client to one Kysely connection (a query, or a
 * transaction) at a time. Everything then goes through postgres.js' ordinary query path, which
 * only ever writes to a live connection and reconnects by itself. On top of that:
 *  - a client whose connection failed (or closed while lent out) is not written to again by
 *    that borrower — further statements, ROLLBACK included, fail at once with a catchable
 *    ConnectionLostError — and on return it is ended and replaced by a fresh one, so no state
 *    of a broken connection survives;
 *  - a transaction can never continue on a new session: each client counts its connection's
 *    closes (postgres.js' `onclose`), and a statement after a close is refused, so a BEGIN on
 *    one session is never followed by writes that would autocommit on another.
 */

/** postgres.js client codes and socket errors after which the connection is gone. */
const LOST_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECTION_LOST',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * True for errors after which a connection cannot be used again: the socket closed, or the
 * server is terminating it (SQLSTATE class 08 connection exception, 57P01-57P03 shutdown).
 */
export function isConnectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return LOST_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
}

export class ConnectionLostError extends Error {
  override readonly name = 'ConnectionLostError';
  readonly code = 'CONNECTION_LOST';
  constructor(cause: unknown) {
    super(`the Postgres connection was lost (${cause instanceof Error ? cause.message : String(cause)}); not reusing it`, { cause });
  }
}

/** A postgres.js client with a single connection, and how often that connection has closed. */
export interface Slot {
  client: postgres.Sql;
  closes: number;
}

/**
 * The pool of single-connection clients. Lends each to one borrower at a time; waiters are
 * served in order. Every borrow is returned (Kysely releases in `finally`), so nothing strands.
 */
export class SlotPool {
  readonly #idle: Slot[] = [];
  readonly #all = new Set<Slot>();
  readonly #waiters: { resolve: (slot: Slot) => void; reject: (error: Error) => void }[] = [];
  #ending = false;

  constructor(
    private readonly create: (onclose: () => void) => postgres.Sql,
    private readonly max: number,
  ) {}

  #spawn(): Slot {
    const slot: Slot = { client: undefined as unknown as postgres.Sql, closes: 0 };
    slot.client = this.create(() => void slot.closes++);
    this.#all.add(slot);
    return slot;
  }

  async acquire(): Promise<Slot> {
    if (this.#ending) throw new ConnectionLostError(new Error('the database handle is closed'));
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.size < this.max) return this.#spawn();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Returns a slot; a broken one is ended (dropping all its state) and replaced. */
  release(slot: Slot, broken: boolean): void {
    let next = slot;
    if (broken) {
      this.#all.delete(slot);
      void slot.client.end({ timeout: 0 }).catch(() => undefined);
      if (this.#ending) return;
      next = this.#spawn();
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(next);
    else this.#idle.push(next);
  }

  /** Ends every client; queries in flight may finish first (postgres.js' graceful end). */
  async end(): Promise<void> {
    this.#ending = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new ConnectionLostError(new Error('the database handle is closed')));
    await Promise.all([...this.#all].map((slot) => slot.client.end()));
    this.#all.clear();
    this.#idle.length = 0;
  }
}

class SlotConnection implements DatabaseConnection {
  #lost: unknown = null;
  /** The slot's close count when this borrower last saw its connection working. */
  #closesSeen: number | null = null;

  constructor(readonly slot: Slot) {}

  get lost(): boolean {
    return this.#lost !== null;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    if (this.#lost === null && this.#closesSeen !== null && this.slot.closes !== this.#closesSeen) {
      // The connection closed since our last statement: a transaction would go on in a new session.
      this.#lost = Object.assign(new Error('the connection closed between two statements'), { code: 'CONNECTION_CLOSED' });
    }
    if (this.#lost !== null) throw new ConnectionLostError(this.#lost);
    try {
      const result = await this.slot.client.unsafe(compiled.sql, [...compiled.parameters] as postgres.ParameterOrJSON<never>[]);
      this.#closesSeen = this.slot.closes;
      const { command, count } = result;
      // Kysely detects a COMMIT that the server turned into a ROLLBACK from this row.
      if (command === 'COMMIT' || command === 'ROLLBACK') return { rows: [{ command } as R] };
      const affected = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
      return { ...(affected ? { numAffectedRows: BigInt(count) } : {}), rows: Array.from(result) as R[] };
    } catch (error) {
      if (isConnectionLost(error)) this.#lost = error;
      throw error;
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported by this driver');
  }
}

class SlotDriver implements Driver {
  constructor(private readonly pool: SlotPool) {}

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new SlotConnection(await this.pool.acquire());
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = settings.isolationLevel || settings.accessMode ? 'start transaction' : 'begin';
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) statement += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const { rows } = await connection.executeQuery<{ command?: string }>(CompiledQuery.raw('commit'));
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const c = connection as SlotConnection;
    this.pool.release(c.slot, c.lost);
  }

  async destroy(): Promise<void> {
    await this.pool.end();
  }
}

/** The Kysely dialect over a {@link SlotPool} (see the comment at the top of this file). */
export function slotPoolDialect(pool: SlotPool): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new SlotDriver(pool),
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

let guardInstalled = false;

/**
 * postgres.js runs some queries of its own on every new connection (the array types it fetches
 * after the handshake) and awaits them nowhere. When Postgres goes away at that moment — a
 * restart, a terminated backend, or a broken client being ended — that promise rejects with a
 * connection error as an *unhandled rejection*, and Node ends the process. The fault suite
 * (scenario 1, a Postgres restart under load) lost a worker this way.
 *
 * This process-wide guard lets exactly those go — connection-level errors raised inside
 * postgres.js' connection code, whose queries a caller awaits get their own rejection anyway —
 * and reports them to `onIgnored`. Any other unhandled rejection is rethrown and ends the
 * process as before. Idempotent.
 */
export function guardLostConnectionRejections(onIgnored: (error: unknown) => void): void {
  if (guardInstalled) return;
  guardInstalled = true;
  process.on('unhandledRejection', (reason) => {
    const stack = reason instanceof Error ? (reason.stack ?? '') : '';
    if (isConnectionLost(reason) && /[\\/]postgres[\\/](?:cjs[\\/])?src[\\/]connection\.js/.test(stack)) {
      onIgnored(reason);
      return;
    }
    throw reason;
  });
}
