// SQLite usage store (node:sqlite). The database runs in its own worker thread: SQLite's calls are
// synchronous, and a busy lock (another worker process writing) or a slow disk must stall that
// thread, never the one serving requests. WAL and a busy timeout let `--workers N` processes
// share one file.
import { mkdirSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { COLUMNS, groupSql, orderSql, SUMS_SQL, summaryOf, valuesOf, type UsageGroup, type UsageQuery, type UsageRow, type UsageStore, type UsageSummary } from './usage-store.ts';

const BUSY_TIMEOUT_MS = 5000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS usage (
  time INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  surface TEXT NOT NULL,
  model_asked TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  fallback TEXT NOT NULL,
  status INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  input_tokens INTEGER,
  output_tokens INTEGER,
  cached_tokens INTEGER,
  cache_write_tokens INTEGER,
  reasoning_tokens INTEGER,
  cost_usd REAL,
  duration_ms REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_time ON usage (time);`;

/** The database itself, synchronous; used inside the worker thread. */
export class SqliteUsageDatabase {
  private readonly database: DatabaseSync;
  private readonly insertStatement: StatementSync;
  private readonly summaries = new Map<UsageGroup, StatementSync>();

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.database = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      this.database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      this.database.exec(SCHEMA);
      this.insertStatement = this.database.prepare(`INSERT INTO usage (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    } catch (error) {
      this.database.close();
      throw error;
    }
  }

  /** One transaction per batch: one lock and one WAL append for up to hundreds of rows. */
  insert(rows: readonly UsageRow[]): void {
    this.database.exec('BEGIN IMMEDIATE');
    try {
      for (const row of rows) {
        const values = valuesOf(row);
        values[9] = row.stream ? 1 : 0;
        this.insertStatement.run(...(values as (string | number | null)[]));
      }
      this.database.exec('COMMIT');
    } catch (error) {
      if (this.database.isTransaction) this.database.exec('ROLLBACK');
      throw error;
    }
  }

  summarize(query: UsageQuery): UsageSummary[] {
    let statement = this.summaries.get(query.groupBy);
    if (statement === undefined) {
      const group = groupSql(query.groupBy, "strftime('%Y-%m-%d', time / 1000, 'unixepoch')");
      statement = this.database.prepare(`SELECT ${group} AS grp, ${SUMS_SQL} FROM usage WHERE time >= ? AND time < ? GROUP BY grp ${orderSql(query.groupBy)}`);
      this.summaries.set(query.groupBy, statement);
    }
    return statement.all(query.from, query.to).map((row) => summaryOf(row as Record<string, unknown>));
  }

  close(): void {
    if (this.database.isOpen) this.database.close();
  }
}

export type SqliteRequest =
  | { id: number; op: 'ready' }
  | { id: number; op: 'insert'; rows: readonly UsageRow[] }
  | { id: number; op: 'summarize'; query: UsageQuery }
  | { id: number; op: 'close' };

export type SqliteReply = { id: number; ok: true; result?: unknown } | { id: number; ok: false; error: string };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The store as the gateway uses it: every call a message to the database's worker thread. */
export class SqliteUsageStore implements UsageStore {
  readonly kind = 'sqlite';
  readonly location: string;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private gone: Error | undefined = undefined;
  private closing: Promise<void> | undefined = undefined;

  constructor(file: string) {
    this.location = file;
    this.worker = new Worker(new URL('./usage-sqlite-worker.ts', import.meta.url), { workerData: { file } });
    // idle, the thread must not keep the process alive; while a call is out it must (a drain awaits it)
    this.worker.unref();
    this.worker.on('message', (reply: SqliteReply) => {
      const waiter = this.pending.get(reply.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(reply.error));
    });
    this.worker.on('error', (error) => this.end(error));
    this.worker.on('exit', () => this.end(new Error('the usage database is closed')));
  }

  ready(): Promise<void> {
    return this.call({ op: 'ready' }) as Promise<void>;
  }

  insert(rows: readonly UsageRow[]): Promise<void> {
    return this.call({ op: 'insert', rows }) as Promise<void>;
  }

  summarize(query: UsageQuery): Promise<UsageSummary[]> {
    return this.call({ op: 'summarize', query }) as Promise<UsageSummary[]>;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.gone === undefined) await this.call({ op: 'close' }).catch(() => {});
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private call(request: { op: SqliteRequest['op']; rows?: readonly UsageRow[]; query?: UsageQuery }): Promise<unknown> {
    if (this.gone !== undefined) return Promise.reject(this.gone);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, ...request });
    });
  }

  private end(error: Error): void {
    this.gone ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
