// What a reload changes, for its log line: names of providers and aliases added, removed or
// changed (with the settings that changed), client keys as counts, auth on/off, the other sections
// by name, and the settings that wait for a restart. Never a value: keys, URLs and headers may be
// secrets, so only names and counts leave this file.
import type { GatewayConfig } from './types.ts';

export interface NamedChanges {
  added: string[];
  removed: string[];
  /** `name (setting, setting)`. */
  changed: string[];
}

export interface ConfigDiff {
  providers: NamedChanges;
  aliases: NamedChanges;
  /** Present when the set of client keys changed. */
  clientKeys?: { before: number; after: number; added: number; removed: number };
  /** Present when client authentication was turned on or off. */
  auth?: 'on' | 'off';
  /** Other settings applied by the reload, e.g. `routing`, `prices`, `server.body_limit`. */
  applied: string[];
  /** Settings that changed in the file but only take effect after a restart. */
  restartNeeded: string[];
}

/** Server settings a reload applies; every other `server.*` key is read when the listener starts. */
const LIVE_SERVER_KEYS = new Set(['bodyLimitBytes', 'drainTimeoutMs', 'allowedHosts', 'cors']);
/** Snapshot names that differ from the file's. */
const FILE_NAMES: Record<string, string> = { bodyLimitBytes: 'body_limit', dialect: 'type', preset: 'type', discoverIntervalMs: 'discover_interval_s' };
/** Sections built into the runtime on every reload. */
const LIVE_SECTIONS = ['routing', 'media', 'prices'] as const;
/** Sections read once at start. */
const START_SECTIONS = ['logging', 'storage', 'tracing', 'state'] as const;

export function diffConfig(before: GatewayConfig, after: GatewayConfig): ConfigDiff {
  const diff: ConfigDiff = {
    providers: diffNamed(before.providers, after.providers),
    aliases: diffNamed(before.models, after.models),
    applied: [],
    restartNeeded: [],
  };
  const keysBefore = new Set(before.auth.keys);
  const keysAfter = new Set(after.auth.keys);
  const added = [...keysAfter].filter((key) => !keysBefore.has(key)).length;
  const removed = [...keysBefore].filter((key) => !keysAfter.has(key)).length;
  if (added > 0 || removed > 0) diff.clientKeys = { before: keysBefore.size, after: keysAfter.size, added, removed };
  if (keysBefore.size === 0 && keysAfter.size > 0) diff.auth = 'on';
  if (keysBefore.size > 0 && keysAfter.size === 0) diff.auth = 'off';
  if (before.auth.allowUnauthenticated !== after.auth.allowUnauthenticated) diff.applied.push('auth.allow_unauthenticated');
  // names, teams and limits (secrets compared as part of the entries, never shown)
  if (!same(before.auth.clients ?? [], after.auth.clients ?? []) || !same(before.auth.teams ?? [], after.auth.teams ?? [])) diff.applied.push('auth limits');
  if (before.auth.tpmDefaultMaxTokens !== after.auth.tpmDefaultMaxTokens) diff.applied.push('auth.tpm_default_max_tokens');
  if (!same(before.auth.onStoreFailure, after.auth.onStoreFailure)) diff.applied.push('auth.on_store_failure');

  for (const key of changedKeys(before.server, after.server)) {
    (LIVE_SERVER_KEYS.has(key) ? diff.applied : diff.restartNeeded).push(`server.${fileName(key)}`);
  }
  for (const section of LIVE_SECTIONS) if (!same(before[section], after[section])) diff.applied.push(section);
  for (const section of START_SECTIONS) if (!same(before[section], after[section])) diff.restartNeeded.push(section);
  return diff;
}

/** One line: `providers +b -a ~c (base_url); aliases +fast; client keys 2 → 3; auth on; routing; after a restart: server.port`. */
export function summarizeDiff(diff: ConfigDiff): string {
  const parts: string[] = [];
  const named = (label: string, changes: NamedChanges) => {
    const items = [...changes.added.map((name) => `+${name}`), ...changes.removed.map((name) => `-${name}`), ...changes.changed.map((name) => `~${name}`)];
    if (items.length > 0) parts.push(`${label} ${items.join(' ')}`);
  };
  named('providers', diff.providers);
  named('aliases', diff.aliases);
  if (diff.clientKeys !== undefined) {
    const { before, after, added, removed } = diff.clientKeys;
    parts.push(before === after ? `client keys ${after} (${added} replaced)` : `client keys ${before} → ${after}`);
  }
  if (diff.auth !== undefined) parts.push(`client authentication ${diff.auth}`);
  if (diff.applied.length > 0) parts.push(diff.applied.join(', '));
  if (diff.restartNeeded.length > 0) parts.push(`changed but waiting for a restart: ${diff.restartNeeded.join(', ')}`);
  return parts.length === 0 ? 'no setting changed' : parts.join('; ');
}

/** The diff as log fields (snake_case, only what changed). */
export function diffFields(diff: ConfigDiff): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  const named = (changes: NamedChanges) => Object.fromEntries(Object.entries(changes).filter(([, names]) => names.length > 0));
  if (!isEmpty(diff.providers)) fields.providers = named(diff.providers);
  if (!isEmpty(diff.aliases)) fields.aliases = named(diff.aliases);
  if (diff.clientKeys !== undefined) fields.client_keys = diff.clientKeys;
  if (diff.auth !== undefined) fields.auth = diff.auth;
  if (diff.applied.length > 0) fields.applied = diff.applied;
  if (diff.restartNeeded.length > 0) fields.restart_needed = diff.restartNeeded;
  return fields;
}

function isEmpty(changes: NamedChanges): boolean {
  return changes.added.length === 0 && changes.removed.length === 0 && changes.changed.length === 0;
}

function diffNamed<T extends { name: string }>(before: readonly T[], after: readonly T[]): NamedChanges {
  const old = new Map(before.map((item) => [item.name, item]));
  const fresh = new Map(after.map((item) => [item.name, item]));
  const changes: NamedChanges = { added: [], removed: [], changed: [] };
  for (const [name, item] of fresh) {
    const previous = old.get(name);
    if (previous === undefined) changes.added.push(name);
    else {
      const keys = [...new Set(changedKeys(previous, item).flatMap((key) => nestedKeys(previous, item, key)).map(fileName))];
      if (keys.length > 0) changes.changed.push(`${name} (${keys.join(', ')})`);
    }
  }
  for (const name of old.keys()) if (!fresh.has(name)) changes.removed.push(name);
  return changes;
}

/** An agent CLI's settings sit in one object: its changed keys are named one by one, as in the file. */
function nestedKeys(before: object, after: object, key: string): string[] {
  if (key !== 'agentCli') return [key];
  const a = (before as Record<string, unknown>)[key];
  const b = (after as Record<string, unknown>)[key];
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? changedKeys(a, b) : ['type'];
}

function changedKeys(before: object, after: object): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => !same(a[key], b[key]));
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `keepAliveTimeoutMs` → `keep_alive_timeout_ms`, or the file's own name where it differs. */
function fileName(key: string): string {
  return FILE_NAMES[key] ?? key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
