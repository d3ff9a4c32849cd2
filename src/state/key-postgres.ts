// The key tables in PostgreSQL (`storage.url`), beside `switchyard_usage`: a small pool of their
// own, the tables created on first use, each change one transaction.
import {
  AUDIT_COLUMNS, AUDIT_TABLE, auditFromRow, DuplicateNameError, KEY_COLUMNS, keyFromRow, KEYS_TABLE, keyValues, REVISION_TABLE, TEAM_COLUMNS, teamFromRow,
  TEAMS_TABLE, teamValues, upsertSql, type AuditEntry, type KeyChange, type KeyDatabase, type KeySnapshot,
} from './key-database.ts';
import { PostgresPool } from './postgres-pool.ts';

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

const UNIQUE_VIOLATION = '23505';
const mark = (position: number) => `$${position}`;

export class PostgresKeyDatabase implements KeyDatabase {
  readonly kind = 'postgres';
  readonly location: string;
  private readonly pool: PostgresPool;

  constructor(url: string) {
    this.pool = new PostgresPool(url, SCHEMA, 'key database');
    this.location = this.pool.location;
  }

  async load(): Promise<KeySnapshot> {
    return this.pool.transaction(async (client) => {
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
    const pool = await this.pool.connect();
    const result = await pool.query(`SELECT revision FROM ${REVISION_TABLE} WHERE id = 1`);
    return Number((result.rows[0] as { revision?: unknown } | undefined)?.revision ?? 0);
  }

  async write(change: KeyChange, audit: AuditEntry): Promise<number> {
    try {
      return await this.pool.transaction(async (client) => {
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
        }
        await client.query(`INSERT INTO ${AUDIT_TABLE} (${AUDIT_COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5)`, [audit.time, audit.actor, audit.action, audit.target, audit.detail]);
        const result = await client.query(`UPDATE ${REVISION_TABLE} SET revision = revision + 1 WHERE id = 1 RETURNING revision`);
        return Number((result.rows[0] as { revision?: unknown } | undefined)?.revision ?? 0);
      });
    } catch (error) {
      const failure = error as { code?: string; constraint?: string };
      if (failure.code === UNIQUE_VIOLATION && (failure.constraint ?? '').endsWith('name_key')) throw new DuplicateNameError('the name is taken');
      throw error;
    }
  }

  async record(audit: AuditEntry): Promise<void> {
    const pool = await this.pool.connect();
    await pool.query(`INSERT INTO ${AUDIT_TABLE} (${AUDIT_COLUMNS.join(', ')}) VALUES ($1, $2, $3, $4, $5)`, [audit.time, audit.actor, audit.action, audit.target, audit.detail]);
  }

  async audit(limit: number): Promise<AuditEntry[]> {
    const pool = await this.pool.connect();
    const result = await pool.query(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM ${AUDIT_TABLE} ORDER BY time DESC LIMIT $1`, [limit]);
    return result.rows.map((row) => auditFromRow(row as Record<string, unknown>));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
