// Where the gateway's own keys last (issue #15): virtual keys (only a SHA-256 of each secret),
// teams, and the audit log of every change, in the same database as the usage rows — SQLite
// under the state directory by default, PostgreSQL with `storage.url`. The gateway reads the
// whole set once at start (keys are few) and answers from memory; this interface is only on the
// management API's path, never a request's. Every change is one transaction that also writes its
// audit row and bumps a revision counter, which the other processes and instances sharing the
// database poll to pick the change up.
import { join } from 'node:path';
import type { StorageConfig } from '../config/types.ts';
import { defaultStateDirectory, USAGE_DATABASE_FILE } from './usage-store.ts';

/** A key as stored: never the secret, only its digest and a short prefix to recognise it by. */
export interface StoredKey {
  id: string;
  name: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
  /** The secret's first characters (`sy-AbCd`), shown masked in lists. */
  prefix: string;
  team: string | null;
  /** Epoch ms. */
  createdAt: number;
  updatedAt: number;
  expiresAt: number | null;
  disabled: boolean;
  /** JSON text: the limits in the API's shape (`models`, `rpm`, `tpm`, `max_concurrent`, `budget`). */
  limits: string;
  /** JSON text: an object the operator attached (bounded). */
  metadata: string;
}

export interface StoredTeam {
  id: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  limits: string;
  metadata: string;
}

/** One change through the management API: who (an admin key's id), what, when; never a secret. */
export interface AuditEntry {
  /** Epoch ms. */
  time: number;
  /** `admin-xxxxxxxx` (an admin key's fingerprint), `loopback` (no admin keys), or `cli` (offline). */
  actor: string;
  /** `key.create`, `key.update`, `key.rotate`, `key.delete`, `team.create`, … */
  action: string;
  /** The key's or team's id. */
  target: string;
  /** JSON text: the fields set (limits, names, flags), never a secret. */
  detail: string;
}

export type KeyChange =
  | { kind: 'put-key'; key: StoredKey }
  | { kind: 'delete-key'; id: string }
  | { kind: 'put-team'; team: StoredTeam }
  | { kind: 'delete-team'; id: string };

export interface KeySnapshot {
  keys: StoredKey[];
  teams: StoredTeam[];
  revision: number;
}

export interface KeyDatabase {
  /** `sqlite` or `postgres`. */
  readonly kind: string;
  /** The file, or the URL without its password. */
  readonly location: string;
  /** Everything, with the revision it was read at. */
  load(): Promise<KeySnapshot>;
  /** The revision counter: changes when any process writes a change. */
  revision(): Promise<number>;
  /** Applies the change and records the audit row in one transaction; resolves with the new revision. */
  write(change: KeyChange, audit: AuditEntry): Promise<number>;
  /** The latest audit rows, newest first. */
  audit(limit: number): Promise<AuditEntry[]>;
  /** An audit row of a change made elsewhere than in the key tables (the config file). */
  record(audit: AuditEntry): Promise<void>;
  close(): Promise<void>;
}

/** A name (of a key or a team) that another row holds: the database's unique constraint said no. */
export class DuplicateNameError extends Error {}

export const KEY_COLUMNS = ['id', 'name', 'hash', 'prefix', 'team', 'created_at', 'updated_at', 'expires_at', 'disabled', 'limits', 'metadata'] as const;
export const TEAM_COLUMNS = ['id', 'name', 'created_at', 'updated_at', 'limits', 'metadata'] as const;
export const AUDIT_COLUMNS = ['time', 'actor', 'action', 'target', 'detail'] as const;

export function keyValues(key: StoredKey): (string | number | boolean | null)[] {
  return [key.id, key.name, key.hash, key.prefix, key.team, key.createdAt, key.updatedAt, key.expiresAt, key.disabled, key.limits, key.metadata];
}

export function teamValues(team: StoredTeam): (string | number)[] {
  return [team.id, team.name, team.createdAt, team.updatedAt, team.limits, team.metadata];
}

export function keyFromRow(row: Record<string, unknown>): StoredKey {
  return {
    id: String(row.id),
    name: String(row.name),
    hash: String(row.hash),
    prefix: String(row.prefix),
    team: row.team === null || row.team === undefined ? null : String(row.team),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    expiresAt: row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at),
    disabled: row.disabled === true || Number(row.disabled) === 1,
    limits: String(row.limits),
    metadata: String(row.metadata),
  };
}

export function teamFromRow(row: Record<string, unknown>): StoredTeam {
  return {
    id: String(row.id),
    name: String(row.name),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    limits: String(row.limits),
    metadata: String(row.metadata),
  };
}

export function auditFromRow(row: Record<string, unknown>): AuditEntry {
  return { time: Number(row.time), actor: String(row.actor), action: String(row.action), target: String(row.target), detail: String(row.detail) };
}

/** `INSERT … ON CONFLICT (id) DO UPDATE`, which SQLite and PostgreSQL both speak; `mark` writes the n-th placeholder (`?n`, `$n`). */
export function upsertSql(table: string, columns: readonly string[], mark: (position: number) => string): string {
  const placeholders = columns.map((_, index) => mark(index + 1)).join(', ');
  const updates = columns.filter((column) => column !== 'id' && column !== 'created_at').map((column) => `${column} = excluded.${column}`).join(', ');
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders}) ON CONFLICT (id) DO UPDATE SET ${updates}`;
}

/** The tables, by backend-neutral names. */
export const KEYS_TABLE = 'switchyard_keys';
export const TEAMS_TABLE = 'switchyard_teams';
export const AUDIT_TABLE = 'switchyard_audit';
export const REVISION_TABLE = 'switchyard_key_revision';

/** Opens the key tables in the usage store's database (the same file, or the same PostgreSQL database). */
export async function openKeyDatabase(config: StorageConfig, env: NodeJS.ProcessEnv = process.env): Promise<KeyDatabase> {
  if (config.url !== undefined) {
    const { PostgresKeyDatabase } = await import('./key-postgres.ts');
    return new PostgresKeyDatabase(config.url);
  }
  const { SqliteKeyDatabase } = await import('./key-sqlite.ts');
  return new SqliteKeyDatabase(join(config.path ?? defaultStateDirectory(env), USAGE_DATABASE_FILE));
}
