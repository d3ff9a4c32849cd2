// The connection the PostgreSQL stores (`storage.url`) share the shape of: a small pool of their
// own, opened on first use (the `pg` module is loaded only then), bounded by connection and query
// timeouts, and the store's tables created once before the first query. Two processes creating
// them at once: one loses with a duplicate error, and the tables exist all the same.
import type { Pool, PoolClient } from 'pg';
import { safeDatabaseUrl } from './usage-store.ts';

const ALREADY_CREATED = new Set(['23505', '42P07', '42701']);

export class PostgresPool {
  /** The URL without its password, for logs. */
  readonly location: string;
  private readonly url: string;
  private readonly schemaSql: string;
  /** Names the store in the error a closed pool throws (`the key database is closed`). */
  private readonly label: string;
  private pool: Pool | undefined = undefined;
  private schema: Promise<void> | undefined = undefined;
  private closed = false;

  constructor(url: string, schemaSql: string, label: string) {
    this.url = url;
    this.schemaSql = schemaSql;
    this.label = label;
    this.location = safeDatabaseUrl(url);
  }

  /** The pool, once the tables exist; a failed creation is tried again on the next call. */
  async connect(): Promise<Pool> {
    if (this.closed) throw new Error(`the ${this.label} is closed`);
    if (this.pool === undefined) {
      const { default: pg } = await import('pg');
      this.pool = new pg.Pool({ connectionString: this.url, max: 2, connectionTimeoutMillis: 5000, query_timeout: 15_000, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
      // an idle connection the server dropped: the next query reconnects; nothing to crash over
      this.pool.on('error', () => {});
    }
    const pool = this.pool;
    this.schema ??= pool.query(this.schemaSql).then(() => undefined, (error: unknown) => {
      if (ALREADY_CREATED.has((error as { code?: string }).code ?? '')) return;
      this.schema = undefined;
      throw error;
    });
    await this.schema;
    return pool;
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const pool = await this.connect();
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.end();
  }
}
