// PostgreSQL usage store (`storage.url`): a small pool (the recorder writes one batch at a time),
// one multi-row INSERT per batch, the table created on first use. Connection and query timeouts
// bound every call, so a database that hangs makes the recorder drop rows, not pile them up.
import type { Pool } from 'pg';
import { ADDED_COLUMNS, COLUMNS, groupSql, orderSql, safeDatabaseUrl, SUMS_SQL, summaryOf, valuesOf, type UsageQuery, type UsageRow, type UsageStore, type UsageSummary } from './usage-store.ts';

export const POSTGRES_TABLE = 'switchyard_usage';

const SCHEMA = `CREATE TABLE IF NOT EXISTS ${POSTGRES_TABLE} (
  time timestamptz NOT NULL,
  request_id text NOT NULL,
  key_id text NOT NULL,
  surface text NOT NULL,
  model_asked text NOT NULL,
  provider text NOT NULL,
  model text NOT NULL,
  fallback text NOT NULL,
  status smallint NOT NULL,
  stream boolean NOT NULL,
  attempts smallint NOT NULL,
  input_tokens bigint,
  output_tokens bigint,
  cached_tokens bigint,
  cache_write_tokens bigint,
  reasoning_tokens bigint,
  cost_usd double precision,
  duration_ms double precision NOT NULL
);
CREATE INDEX IF NOT EXISTS ${POSTGRES_TABLE}_time ON ${POSTGRES_TABLE} (time);
${ADDED_COLUMNS.map((column) => `ALTER TABLE ${POSTGRES_TABLE} ADD COLUMN IF NOT EXISTS ${column.name} ${column.postgres}`).join(';\n')}`;

// Two processes creating the table (or adding a column) at once: one of them loses with one of these; the table exists.
const ALREADY_CREATED = new Set(['23505', '42P07', '42701']);

export class PostgresUsageStore implements UsageStore {
  readonly kind = 'postgres';
  readonly location: string;
  private readonly url: string;
  private pool: Pool | undefined = undefined;
  private schema: Promise<void> | undefined = undefined;
  private closed = false;

  constructor(url: string) {
    this.url = url;
    this.location = safeDatabaseUrl(url);
  }

  async ready(): Promise<void> {
    await this.connect();
  }

  async insert(rows: readonly UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    const pool = await this.connect();
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (const row of rows) {
      const base = values.length;
      const rowValues: unknown[] = valuesOf(row);
      rowValues[0] = new Date(row.time);
      values.push(...rowValues);
      tuples.push(`(${COLUMNS.map((_, i) => `$${base + i + 1}`).join(', ')})`);
    }
    await pool.query(`INSERT INTO ${POSTGRES_TABLE} (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`, values);
  }

  async prune(before: number, limit: number): Promise<number> {
    const pool = await this.connect();
    const result = await pool.query(`DELETE FROM ${POSTGRES_TABLE} WHERE ctid IN (SELECT ctid FROM ${POSTGRES_TABLE} WHERE time < $1 LIMIT $2)`, [new Date(before), limit]);
    return result.rowCount ?? 0;
  }

  async summarize(query: UsageQuery): Promise<UsageSummary[]> {
    const pool = await this.connect();
    const group = groupSql(query.groupBy, "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
    const result = await pool.query(
      `SELECT ${group} AS grp, ${SUMS_SQL} FROM ${POSTGRES_TABLE} WHERE time >= $1 AND time < $2 GROUP BY grp ${orderSql(query.groupBy)}`,
      [new Date(query.from), new Date(query.to)],
    );
    return result.rows.map((row) => summaryOf(row as Record<string, unknown>));
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.end();
  }

  private async connect(): Promise<Pool> {
    if (this.closed) throw new Error('the usage database is closed');
    if (this.pool === undefined) {
      const { default: pg } = await import('pg');
      this.pool = new pg.Pool({
        connectionString: this.url,
        max: 2,
        connectionTimeoutMillis: 5000,
        query_timeout: 15_000,
        idleTimeoutMillis: 10_000,
        allowExitOnIdle: true,
      });
      // an idle connection the server dropped: the next query reconnects; nothing to crash over
      this.pool.on('error', () => {});
    }
    const pool = this.pool;
    this.schema ??= this.createTable(pool).catch((error: unknown) => {
      this.schema = undefined;
      throw error;
    });
    await this.schema;
    return pool;
  }

  private async createTable(pool: Pool): Promise<void> {
    try {
      await pool.query(SCHEMA);
    } catch (error) {
      if (!ALREADY_CREATED.has((error as { code?: string }).code ?? '')) throw error;
    }
  }
}
