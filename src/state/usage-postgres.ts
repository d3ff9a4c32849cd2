// PostgreSQL usage store (`storage.url`): a small pool (the recorder writes one batch at a time),
// one multi-row INSERT per batch, the table created on first use. Connection and query timeouts
// bound every call, so a database that hangs makes the recorder drop rows, not pile them up.
import { PostgresPool } from './postgres-pool.ts';
import { ADDED_COLUMNS, COLUMNS, groupSql, orderSql, SUMS_SQL, summaryOf, valuesOf, type UsageQuery, type UsageRow, type UsageStore, type UsageSummary } from './usage-store.ts';

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

export class PostgresUsageStore implements UsageStore {
  readonly kind = 'postgres';
  readonly location: string;
  private readonly pool: PostgresPool;

  constructor(url: string) {
    this.pool = new PostgresPool(url, SCHEMA, 'usage database');
    this.location = this.pool.location;
  }

  async ready(): Promise<void> {
    await this.pool.connect();
  }

  async insert(rows: readonly UsageRow[]): Promise<void> {
    if (rows.length === 0) return;
    const pool = await this.pool.connect();
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
    const pool = await this.pool.connect();
    const result = await pool.query(`DELETE FROM ${POSTGRES_TABLE} WHERE ctid IN (SELECT ctid FROM ${POSTGRES_TABLE} WHERE time < $1 LIMIT $2)`, [new Date(before), limit]);
    return result.rowCount ?? 0;
  }

  async summarize(query: UsageQuery): Promise<UsageSummary[]> {
    const pool = await this.pool.connect();
    const group = groupSql(query.groupBy, "to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
    const result = await pool.query(
      `SELECT ${group} AS grp, ${SUMS_SQL} FROM ${POSTGRES_TABLE} WHERE time >= $1 AND time < $2 GROUP BY grp ${orderSql(query.groupBy)}`,
      [new Date(query.from), new Date(query.to)],
    );
    return result.rows.map((row) => summaryOf(row as Record<string, unknown>));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
