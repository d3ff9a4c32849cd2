// The key tables in PostgreSQL (`storage.url`), beside `switchyard_usage`: a small pool of their
// own, the tables created on first use, each change one transaction.
import type { Pool, PoolClient } from 'pg';
import {
  AUDIT_COLUMNS, AUDIT_TABLE, auditFromRow, DuplicateNameError, KEY_COLUMNS, keyFromRow, KEYS_TABLE, keyValues, REVISION_TABLE, TEAM_COLUMNS, teamFromRow,
  TEAMS_TABLE, teamValues, upsertSql, type AuditEntry, type KeyChange, type KeyDatabase, type KeySnapshot,
} from './key-database.ts';
import { safeDatabaseUrl } from './usage-store.ts';

const SCHEMA = `CREATE TABLE IF NOT EXISTS ${KEYS_TABLE} (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  team text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  expires_at bigint,
  disabled boolean NOT NULL DEFAULT false,
  limits text NOT NULL DEFAULT '{}',
  metadata text NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS ${TEAMS_TABLE} (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  limits text NOT NULL DEFAULT '{}',
  metadata text NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (
  time bigint NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  detail text NOT NULL
);
CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_time ON ${AUDIT_TABLE} (time);
CREATE TABLE IF NOT EXISTS ${REVISION_TABLE} (id integer PRIMARY KEY CHECK (id = 1), revision bigint NOT NULL);
INSERT INTO ${REVISION_TABLE} (id, revision) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;`;

// Two processes creating the tables at once: one of them loses with one of these; the tables exist.
const ALREADY_CREATED = new Set(['23505', '42P07', '42701']);
const UNIQUE_VIOLATION = '23505';
const mark = (position: number) => `$${position}`;

export class PostgresKeyDatabase implements KeyDatabase {
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

  async load(): Promise<KeySnapshot> {
    return this.transaction(async (client) => {
      const keys = await client.query(`SELECT ${KEY_COLUMNS.join(', ')} FROM ${KEYS_TABLE} ORDER BY created_at, id`);
      const teams = await client.query(`SELECT ${TEAM_COLUMNS.join(', ')} FROM ${TEAMS_TABLE} ORDER BY created_at, id`);
      const revision = await client.query(`SELECT revision FROM ${REVISION_TABLE} WHERE id = 1`);
      return {
        keys: keys.rows.map((row) => keyFromRow(row as Record<string, unknown>)),
        teams: teams.rows.map((row) => teamFromRow(row as Record<string, unknown>)),
        revision: Number((revision.rows[0] as { revision?: unknown } | undefined)?.revision ?? 0),
      };
    });
  }

  async revision(): Promise<number> {
    const pool = await this.connect();
    const result = await pool.query(`SELECT revision FROM ${REVISION_TABLE} WHERE id = 1`);
    return Number((result.rows[0] as { revision?: unknown } | undefined)?.revision ?? 0);
  }

  async write(change: KeyChange, audit: AuditEntry): Promise<number> {
    try {
      return await this.transaction(async (client) => {
        switch (change.kind) {
          case 'put-key':
            await client.query(upsertSql(KEYS_TABLE, KEY_COLUMNS, mark), keyValues(change.key));
            break;
          case 'delete-key':
            await client.query(`DELETE FROM ${KEYS_TABLE} WHERE id = $1`, [change.id]);
            break;
          case 'put-team':
            await client.query(upsertSql(TEAMS_TABLE, TEAM_COLUMNS, mark), teamValues(change.team));
            break;
          case 'delete-team':
            await client.query(`DELETE FROM ${TEAMS_TABLE} WHERE id = $1`, [change.id]);
            break;
          case 'audit':
            break;
        }
        await client.query(`INSERT INTO ${AUDIT_TABLE} (${AUDIT_COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5)`, [audit.time, audit.actor, audit.action, audit.target, audit.detail]);
        // other processes read everything again when the revision moves: an audit row alone does not move it
        const result = change.kind === 'audit'
          ? await client.query(`SELECT revision FROM ${REVISION_TABLE} WHERE id = 1`)
          : await client.query(`UPDATE ${REVISION_TABLE} SET revision = revision + 1 WHERE id = 1 RETURNING revision`);
        return Number((result.rows[0] as { revision?: unknown } | undefined)?.revision ?? 0);
      });
    } catch (error) {
      const failure = error as { code?: string; constraint?: string };
      if (failure.code === UNIQUE_VIOLATION && (failure.constraint ?? '').endsWith('name_key')) throw new DuplicateNameError('the name is taken');
      throw error;
    }
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    const pool = await this.connect();
    const result = await pool.query(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM ${AUDIT_TABLE} ORDER BY time DESC LIMIT $1`, [limit]);
    return result.rows.map((row) => auditFromRow(row as Record<string, unknown>));
  }

  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.end();
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
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

  private async connect(): Promise<Pool> {
    if (this.closed) throw new Error('the key database is closed');
    if (this.pool === undefined) {
      const { default: pg } = await import('pg');
      this.pool = new pg.Pool({ connectionString: this.url, max: 2, connectionTimeoutMillis: 5000, query_timeout: 15_000, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
      this.pool.on('error', () => {});
    }
    const pool = this.pool;
    this.schema ??= pool.query(SCHEMA).then(() => undefined, (error: unknown) => {
      if (!ALREADY_CREATED.has((error as { code?: string }).code ?? '')) {
        this.schema = undefined;
        throw error;
      }
    });
    await this.schema;
    return pool;
  }
}
