// The key tables in SQLite (node:sqlite), in the usage database's file: a connection of their own
// (WAL lets it share the file with the usage store and with other worker processes). Changes are
// rare (the management API), so every call is synchronous and short.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  AUDIT_COLUMNS, AUDIT_TABLE, auditFromRow, DuplicateNameError, KEY_COLUMNS, keyFromRow, KEYS_TABLE, keyValues, REVISION_TABLE, TEAM_COLUMNS, teamFromRow,
  TEAMS_TABLE, teamValues, upsertSql, type AuditEntry, type KeyChange, type KeyDatabase, type KeySnapshot,
} from './key-database.ts';

const BUSY_TIMEOUT_MS = 2000;

const SCHEMA = `CREATE TABLE IF NOT EXISTS ${KEYS_TABLE} (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  team TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER,
  disabled INTEGER NOT NULL DEFAULT 0,
  limits TEXT NOT NULL DEFAULT '{}',
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS ${TEAMS_TABLE} (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  limits TEXT NOT NULL DEFAULT '{}',
  metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS ${AUDIT_TABLE} (
  time INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ${AUDIT_TABLE}_time ON ${AUDIT_TABLE} (time);
CREATE TABLE IF NOT EXISTS ${REVISION_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
INSERT OR IGNORE INTO ${REVISION_TABLE} (id, revision) VALUES (1, 0);`;

const mark = (position: number) => `?${position}`;

export class SqliteKeyDatabase implements KeyDatabase {
  readonly kind = 'sqlite';
  readonly location: string;
  private readonly database: DatabaseSync;

  constructor(file: string) {
    this.location = file;
    mkdirSync(dirname(file), { recursive: true });
    this.database = new DatabaseSync(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      this.database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      // created once: a start (of every worker) then only reads, never waits for the write lock
      const created = this.database.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '${REVISION_TABLE}'`).get();
      if (created === undefined) this.database.exec(SCHEMA);
    } catch (error) {
      this.database.close();
      throw error;
    }
  }

  load(): Promise<KeySnapshot> {
    return attempt(() => {
      this.database.exec('BEGIN');
      try {
        const keys = this.database.prepare(`SELECT ${KEY_COLUMNS.join(', ')} FROM ${KEYS_TABLE} ORDER BY created_at, id`).all().map((row) => keyFromRow(row as Record<string, unknown>));
        const teams = this.database.prepare(`SELECT ${TEAM_COLUMNS.join(', ')} FROM ${TEAMS_TABLE} ORDER BY created_at, id`).all().map((row) => teamFromRow(row as Record<string, unknown>));
        return { keys, teams, revision: this.readRevision() };
      } finally {
        this.database.exec('COMMIT');
      }
    });
  }

  revision(): Promise<number> {
    return attempt(() => this.readRevision());
  }

  write(change: KeyChange, audit: AuditEntry): Promise<number> {
    return attempt(() => {
      this.database.exec('BEGIN IMMEDIATE');
      try {
        switch (change.kind) {
          case 'put-key': {
            const values = keyValues(change.key);
            values[8] = change.key.disabled ? 1 : 0;
            this.database.prepare(upsertSql(KEYS_TABLE, KEY_COLUMNS, mark)).run(...(values as (string | number | null)[]));
            break;
          }
          case 'delete-key':
            this.database.prepare(`DELETE FROM ${KEYS_TABLE} WHERE id = ?`).run(change.id);
            break;
          case 'put-team':
            this.database.prepare(upsertSql(TEAMS_TABLE, TEAM_COLUMNS, mark)).run(...teamValues(change.team));
            break;
          case 'delete-team':
            this.database.prepare(`DELETE FROM ${TEAMS_TABLE} WHERE id = ?`).run(change.id);
            break;
        }
        this.database.prepare(`INSERT INTO ${AUDIT_TABLE} (${AUDIT_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?)`).run(audit.time, audit.actor, audit.action, audit.target, audit.detail);
        this.database.exec(`UPDATE ${REVISION_TABLE} SET revision = revision + 1 WHERE id = 1`);
        const revision = this.readRevision();
        this.database.exec('COMMIT');
        return revision;
      } catch (error) {
        if (this.database.isTransaction) this.database.exec('ROLLBACK');
        if (/UNIQUE constraint failed: \w+\.name/.test((error as Error).message)) throw new DuplicateNameError('the name is taken');
        throw error;
      }
    });
  }

  record(audit: AuditEntry): Promise<void> {
    return attempt(() => {
      this.database.prepare(`INSERT INTO ${AUDIT_TABLE} (${AUDIT_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?)`).run(audit.time, audit.actor, audit.action, audit.target, audit.detail);
    });
  }

  audit(limit: number): Promise<AuditEntry[]> {
    return attempt(() => this.database.prepare(`SELECT ${AUDIT_COLUMNS.join(', ')} FROM ${AUDIT_TABLE} ORDER BY time DESC, rowid DESC LIMIT ?`).all(limit)
      .map((row) => auditFromRow(row as Record<string, unknown>)));
  }

  close(): Promise<void> {
    if (this.database.isOpen) this.database.close();
    return Promise.resolve();
  }

  private readRevision(): number {
    const row = this.database.prepare(`SELECT revision FROM ${REVISION_TABLE} WHERE id = 1`).get() as { revision: number } | undefined;
    return Number(row?.revision ?? 0);
  }
}

function attempt<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
