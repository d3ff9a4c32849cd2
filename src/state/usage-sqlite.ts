// SQLite usage store (node:sqlite), on the main thread: rows arrive in batches (every second, or
// 64 at a time) and one batch is one short transaction — about 1 µs a row, the same CPU a worker
// thread would spend, without the ~45 MB a second V8 isolate costs. WAL lets `--workers N`
// processes share one file; a write lock held by another process is waited for at most
// BUSY_TIMEOUT_MS (the holder's transaction takes milliseconds), after which the batch fails and
// the recorder reports it, rather than the event loop stalling.
import { mkdirSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { dirname } from 'node:path';
import { ADDED_COLUMNS, COLUMNS, groupSql, orderSql, SUMS_SQL, summaryOf, valuesOf, type UsageGroup, type UsageQuery, type UsageRow, type UsageStore, type UsageSummary } from './usage-store.ts';

const BUSY_TIMEOUT_MS = 200;

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

/** Adds the columns a database made by an earlier version lacks (another process may be doing the same). */
function migrate(database: DatabaseSync): void {
  const present = new Set((database.prepare('PRAGMA table_info(usage)').all() as { name: string }[]).map((column) => column.name));
  for (const column of ADDED_COLUMNS) {
    if (present.has(column.name)) continue;
    try {
      database.exec(`ALTER TABLE usage ADD COLUMN ${column.name} ${column.sqlite}`);
    } catch (error) {
      if (!/duplicate column/i.test((error as Error).message)) throw error;
    }
  }
}

/** The database itself, synchronous. */
export class SqliteUsageDatabase {
  private readonly database: DatabaseSync;
  private readonly insertStatement: StatementSync;
  private readonly summaries = new Map<UsageGroup, StatementSync>();
  private pruneStatement: StatementSync | undefined = undefined;

  constructor(file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.database = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      this.database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      this.database.exec(SCHEMA);
      migrate(this.database);
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
        values[18] = row.subscription === true ? 1 : 0;
        values[20] = row.cached === true ? 1 : 0;
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

  /** One bounded DELETE (rows by the time index), so a large backlog never holds the thread long. */
  prune(before: number, limit: number): number {
    this.pruneStatement ??= this.database.prepare('DELETE FROM usage WHERE rowid IN (SELECT rowid FROM usage WHERE time < ? LIMIT ?)');
    return Number(this.pruneStatement.run(before, limit).changes);
  }

  close(): void {
    if (this.database.isOpen) this.database.close();
  }
}

/** The store as the gateway uses it: the database behind the UsageStore's promise interface. */
export class SqliteUsageStore implements UsageStore {
  readonly kind = 'sqlite';
  readonly location: string;
  private database: SqliteUsageDatabase | undefined = undefined;
  private failure: Error | undefined = undefined;

  constructor(file: string) {
    this.location = file;
    try {
      this.database = new SqliteUsageDatabase(file);
    } catch (error) {
      this.failure = new Error(`cannot open ${file}: ${(error as Error).message}`);
    }
  }

  ready(): Promise<void> {
    return this.failure !== undefined ? Promise.reject(this.failure) : Promise.resolve();
  }

  insert(rows: readonly UsageRow[]): Promise<void> {
    try {
      this.open().insert(rows);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  summarize(query: UsageQuery): Promise<UsageSummary[]> {
    try {
      return Promise.resolve(this.open().summarize(query));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  prune(before: number, limit: number): Promise<number> {
    try {
      return Promise.resolve(this.open().prune(before, limit));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  close(): Promise<void> {
    this.database?.close();
    this.database = undefined;
    this.failure ??= new Error('the usage database is closed');
    return Promise.resolve();
  }

  private open(): SqliteUsageDatabase {
    if (this.database === undefined) throw this.failure!;
    return this.database;
  }
}
