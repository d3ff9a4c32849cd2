// SQLite usage store (node:sqlite), on the main thread: rows arrive in batches (every second, or
// 64 at a time) and one batch is one short transaction of multi-row INSERTs — about 4 µs of CPU a
// row as bench/micro/usage-insert.ts measures it (5 µs with an array and a statement per row; of
// the 4, binding the 23 values takes about 1 µs and the time index about 1 µs): the same CPU a
// worker thread would spend, without the ~45 MB a second V8 isolate costs. Summaries are read in
// slices, so a range of millions of rows never holds the event loop for long. WAL lets `--workers N`
// processes share one file; a write lock held by another process is waited for at most
// BUSY_TIMEOUT_MS (the holder's transaction takes milliseconds), after which the batch fails and
// the recorder reports it, rather than the event loop stalling.
import { mkdirSync } from 'node:fs';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { dirname } from 'node:path';
import { UsageSummaryMerge } from './usage-summary-merge.ts';
import { ADDED_COLUMNS, COLUMNS, groupSql, orderSql, SUMS_SQL, summaryOf, type UsageGroup, type UsageQuery, type UsageRow, type UsageStore, type UsageSummary } from './usage-store.ts';

const BUSY_TIMEOUT_MS = 200;
/** Rows per INSERT statement: the recorder's batch; the rest of a batch goes in halves, quarters, … */
const INSERT_ROWS = 64;
/** Rows a summary scans per macrotask (see bench/micro/usage-summary.ts for what a slice holds the thread). */
const SLICE_ROWS = 1024;

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

/** A prepared INSERT of `size` rows and the array its values are filled into, batch after batch. */
class RowsInsert {
  readonly statement: StatementSync;
  readonly values: (string | number | null)[];

  constructor(database: DatabaseSync, size: number) {
    const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
    this.statement = database.prepare(`INSERT INTO usage (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: size }, () => tuple).join(', ')}`);
    this.values = new Array<string | number | null>(size * COLUMNS.length).fill(null);
  }
}

/** The database itself, synchronous. */
export class SqliteUsageDatabase {
  private readonly database: DatabaseSync;
  /** One INSERT per number of rows: INSERT_ROWS and the powers of two below it. */
  private readonly inserts = new Map<number, RowsInsert>();
  private readonly summaries = new Map<UsageGroup, StatementSync>();
  private pruneStatement: StatementSync | undefined = undefined;
  /** The database file. */
  readonly file: string;
  /** The summaries' own connection, opened with the first. */
  private reader: DatabaseSync | undefined = undefined;
  private readonly sliceSummaries = new Map<UsageGroup, StatementSync>();
  private sliceEdge: StatementSync | undefined = undefined;
  /** The summary being read, the next one waits for it. */
  private reading: Promise<unknown> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
    mkdirSync(dirname(file), { recursive: true });
    this.database = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      this.database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      this.database.exec(SCHEMA);
      migrate(this.database);
      this.inserts.set(1, new RowsInsert(this.database, 1));
    } catch (error) {
      this.database.close();
      throw error;
    }
  }

  /** One transaction per batch: one lock and one WAL append for up to hundreds of rows. */
  insert(rows: readonly UsageRow[]): void {
    this.database.exec('BEGIN IMMEDIATE');
    try {
      for (let at = 0; at < rows.length;) {
        let size = INSERT_ROWS;
        while (size > rows.length - at) size >>= 1;
        this.insertRows(rows, at, size);
        at += size;
      }
      this.database.exec('COMMIT');
    } catch (error) {
      if (this.database.isTransaction) this.database.exec('ROLLBACK');
      throw error;
    }
  }

  /** `size` rows from `from` in one statement, their values (in COLUMNS order) in the statement's own array, no array per row. */
  private insertRows(rows: readonly UsageRow[], from: number, size: number): void {
    let insert = this.inserts.get(size);
    if (insert === undefined) {
      insert = new RowsInsert(this.database, size);
      this.inserts.set(size, insert);
    }
    const values = insert.values;
    let at = 0;
    for (let i = from; i < from + size; i++) {
      const row = rows[i]!;
      values[at++] = row.time;
      values[at++] = row.requestId;
      values[at++] = row.keyId;
      values[at++] = row.surface;
      values[at++] = row.modelAsked;
      values[at++] = row.provider;
      values[at++] = row.model;
      values[at++] = row.fallback;
      values[at++] = row.status;
      values[at++] = row.stream ? 1 : 0;
      values[at++] = row.attempts;
      values[at++] = row.inputTokens;
      values[at++] = row.outputTokens;
      values[at++] = row.cachedTokens;
      values[at++] = row.cacheWriteTokens;
      values[at++] = row.reasoningTokens;
      values[at++] = row.costUsd;
      values[at++] = row.durationMs;
      values[at++] = row.subscription === true ? 1 : 0;
      values[at++] = row.reportedCostUsd ?? null;
      values[at++] = row.cached === true ? 1 : 0;
      values[at++] = row.team ?? '';
      values[at++] = row.route ?? '';
    }
    insert.statement.run(...values);
  }

  /** The summary in one statement: the thread is held for the whole scan of the range. */
  summarize(query: UsageQuery): UsageSummary[] {
    return this.summaryStatement(this.database, this.summaries, query.groupBy).all(query.from, query.to).map((row) => summaryOf(row as Record<string, unknown>));
  }

  /**
   * The same summary, a slice of at most `rowsPerSlice` rows per macrotask, so a range of millions
   * of rows (today at start-up, a month's budget, a dashboard's query) never holds the event loop
   * for more than a slice's scan. The slices are read in one read transaction on a connection of
   * their own: they see the database as it was at the first, like the single statement, while the
   * batches go on being written. Summaries run one at a time.
   */
  summarizeInSlices(query: UsageQuery, rowsPerSlice = SLICE_ROWS): Promise<UsageSummary[]> {
    const run = this.reading.then(() => this.readInSlices(query, rowsPerSlice));
    this.reading = run.catch(() => {});
    return run;
  }

  private async readInSlices(query: UsageQuery, rowsPerSlice: number): Promise<UsageSummary[]> {
    if (!(query.from < query.to)) return [];
    this.reader ??= new DatabaseSync(this.file, { readOnly: true, timeout: BUSY_TIMEOUT_MS });
    const reader = this.reader;
    this.sliceEdge ??= reader.prepare('SELECT time FROM usage WHERE time >= ? AND time < ? ORDER BY time LIMIT 1 OFFSET ?');
    const edge = this.sliceEdge;
    const statement = this.summaryStatement(reader, this.sliceSummaries, query.groupBy);
    const merge = new UsageSummaryMerge();
    reader.exec('BEGIN');
    try {
      for (let start = query.from; start < query.to;) {
        // the slice ends at its (rowsPerSlice + 1)th row's time; one millisecond at least, whatever rows it holds
        const next = edge.get(start, query.to, rowsPerSlice) as { time: number } | undefined;
        const end = next === undefined ? query.to : Math.max(next.time, start + 1);
        merge.add(statement.all(start, end) as Record<string, unknown>[]);
        start = end;
        if (start < query.to) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      if (reader.isOpen && reader.isTransaction) reader.exec('COMMIT');
    }
    return merge.rows(query.groupBy).map(summaryOf);
  }

  private summaryStatement(database: DatabaseSync, cache: Map<UsageGroup, StatementSync>, groupBy: UsageGroup): StatementSync {
    let statement = cache.get(groupBy);
    if (statement === undefined) {
      const group = groupSql(groupBy, "strftime('%Y-%m-%d', time / 1000, 'unixepoch')");
      statement = database.prepare(`SELECT ${group} AS grp, ${SUMS_SQL} FROM usage WHERE time >= ? AND time < ? GROUP BY grp ${orderSql(groupBy)}`);
      cache.set(groupBy, statement);
    }
    return statement;
  }

  /** One bounded DELETE (rows by the time index), so a large backlog never holds the thread long. */
  prune(before: number, limit: number): number {
    this.pruneStatement ??= this.database.prepare('DELETE FROM usage WHERE rowid IN (SELECT rowid FROM usage WHERE time < ? LIMIT ?)');
    return Number(this.pruneStatement.run(before, limit).changes);
  }

  close(): void {
    if (this.reader?.isOpen === true) this.reader.close();
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
      return this.open().summarizeInSlices(query);
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
