// The gateway's own keys in memory: read whole from the database at start (keys are few), so a
// request's key is a Map lookup by its digest, never a query. Changes go to the database first
// (one transaction with the audit row), then into the index at once; changes made by another
// process or instance sharing the database are picked up by polling its revision counter.
import { ErrorCode, GatewayError, invalidRequest } from '../canonical/errors.ts';
import type { JsonObject } from '../util/json-value.ts';
import { DuplicateNameError, type AuditEntry, type KeyChange, type KeyDatabase, type StoredKey, type StoredTeam } from '../state/key-database.ts';
import { cacheSettingsOf, limitsOf, mergeLimits, parseDocument, type KeyInput, type LimitsDocument, type ModelCheck, type TeamInput } from './key-input.ts';
import { maskedSecret, newId, newSecret, secretHash, secretPrefix } from './key-secret.ts';
import type { KeyPolicy } from './policy.ts';
import { enforces } from './key-policies.ts';

/** What authentication reads for a store key: built when the index is, one stable shape. */
export class StoreKeyEntry {
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
  /** Epoch ms; 0 = never. */
  readonly expiresAt: number;
  /** Frozen; undefined when neither the key nor its team sets a limit and the key has no cache. */
  readonly policy: KeyPolicy | undefined;

  constructor(key: StoredKey, team: StoredTeam | undefined) {
    this.id = key.id;
    this.name = key.name;
    this.disabled = key.disabled;
    this.expiresAt = key.expiresAt ?? 0;
    const settings = parseDocument<LimitsDocument>(key.limits);
    const limits = limitsOf(settings);
    const teamLimits = team === undefined ? undefined : limitsOf(parseDocument<LimitsDocument>(team.limits));
    const cache = cacheSettingsOf(settings);
    this.policy = limits === undefined && teamLimits === undefined && cache === undefined ? undefined : Object.freeze({
      id: key.id,
      name: key.name,
      source: 'store' as const,
      ...(team !== undefined ? { team: team.name } : {}),
      ...(limits !== undefined ? { limits } : {}),
      ...(teamLimits !== undefined ? { teamLimits } : {}),
      ...(cache !== undefined ? { cache } : {}),
      ...(key.expiresAt !== null ? { expiresAt: key.expiresAt } : {}),
    });
  }
}

/** A key as the management API shows it: the secret only as a masked prefix. */
export interface KeyView extends LimitsDocument {
  id: string;
  name: string;
  key_prefix: string;
  team: string | null;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  disabled: boolean;
  metadata: JsonObject;
}

export interface TeamView extends LimitsDocument {
  id: string;
  name: string;
  created_at: string;
  updated_at: string;
  metadata: JsonObject;
  keys: number;
}

/** What a change returns: the view, and the secret when one was made (create, rotate). */
export interface KeyResult {
  view: KeyView;
  secret?: string;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function notFound(what: 'key' | 'team', idOrName: string): GatewayError {
  return new GatewayError(ErrorCode.routeNotFound, `No ${what} with id or name '${idOrName.slice(0, 80)}'.`, { status: 404, origin: 'downstream', errorClass: 'client-error' });
}

function duplicate(what: 'key' | 'team', name: string): GatewayError {
  return invalidRequest(`A ${what} named '${name}' exists already; names are unique.`, 'name');
}

export interface KeyStoreOptions {
  /** Told when a poll or a load fails (the index keeps what it had). */
  onError?: (error: Error) => void;
}

/** Told after every change of the index (a load, a poll that found changes, a change made here). */
export type KeyStoreListener = (store: KeyStore) => void;

export class KeyStore {
  readonly database: KeyDatabase;
  private keys = new Map<string, StoredKey>();
  private teams = new Map<string, StoredTeam>();
  private byHash = new Map<string, StoreKeyEntry>();
  /** Bumped at every rebuild of the index: authentication forgets what it remembered. */
  generation = 0;
  /** Some key (or its team) has limits: the limit handlers are compiled while so. */
  limited = false;
  /** Some key has a cache setting: the response cache's handlers are compiled while so. */
  cached = false;
  /** The database was read at least once. */
  loaded = false;
  private revision = -1;
  /** Writes one at a time, so a check (a name taken) and its write see the same index. */
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined = undefined;
  private polling = false;
  private readonly onError: (error: Error) => void;

  constructor(database: KeyDatabase, options: KeyStoreOptions = {}) {
    this.database = database;
    this.onError = options.onError ?? (() => {});
  }

  /** Keys in the store (disabled and expired ones included): any turns client authentication on. */
  get size(): number {
    return this.keys.size;
  }

  /** The key whose secret has this digest (hex), if any. */
  find(hash: string): StoreKeyEntry | undefined {
    return this.byHash.get(hash);
  }

  async load(): Promise<void> {
    const snapshot = await this.database.load();
    this.keys = new Map(snapshot.keys.map((key) => [key.id, key]));
    this.teams = new Map(snapshot.teams.map((team) => [team.id, team]));
    this.revision = snapshot.revision;
    this.loaded = true;
    this.rebuild();
  }

  /** Reads the store again when another process changed it. */
  async refresh(): Promise<void> {
    const revision = await this.database.revision();
    if (revision !== this.revision || !this.loaded) await this.load();
  }

  /** Polls the revision every `intervalMs` (unref'd: it never keeps the process up). */
  startRefresh(intervalMs: number): void {
    if (this.timer !== undefined || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      this.refresh().catch((error: unknown) => this.onError(error as Error)).finally(() => {
        this.polling = false;
      });
    }, intervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue.catch(() => {});
    await this.database.close();
  }

  private rebuild(): void {
    const byHash = new Map<string, StoreKeyEntry>();
    for (const key of this.keys.values()) byHash.set(key.hash, new StoreKeyEntry(key, key.team === null ? undefined : this.teams.get(key.team)));
    this.byHash = byHash;
    this.limited = false;
    this.cached = false;
    for (const entry of byHash.values()) {
      if (enforces(entry.policy)) this.limited = true;
      if (entry.policy?.cache !== undefined) this.cached = true;
    }
    this.generation++;
    for (const listener of this.listeners) listener(this);
  }

  private readonly listeners: KeyStoreListener[] = [];

  /** Calls `listener` after every change of the index (budgets read their spend for new policies). */
  onChange(listener: KeyStoreListener): void {
    this.listeners.push(listener);
  }

  /** Every stored key's policy (undefined for a key without limits). */
  policies(): (KeyPolicy | undefined)[] {
    return [...this.byHash.values()].map((entry) => entry.policy);
  }

  // ----- reading ---------------------------------------------------------------------------------

  findKey(idOrName: string): StoredKey | undefined {
    const byId = this.keys.get(idOrName);
    if (byId !== undefined) return byId;
    for (const key of this.keys.values()) if (key.name === idOrName) return key;
    return undefined;
  }

  findTeam(idOrName: string): StoredTeam | undefined {
    const byId = this.teams.get(idOrName);
    if (byId !== undefined) return byId;
    for (const team of this.teams.values()) if (team.name === idOrName) return team;
    return undefined;
  }

  /** The policy of a stored key as authentication gives it (for the usage answer's remaining limits). */
  entryOf(key: StoredKey): StoreKeyEntry | undefined {
    return this.byHash.get(key.hash);
  }

  keyView(key: StoredKey): KeyView {
    return {
      id: key.id,
      name: key.name,
      key_prefix: maskedSecret(key.prefix),
      team: key.team === null ? null : this.teams.get(key.team)?.name ?? null,
      created_at: iso(key.createdAt),
      updated_at: iso(key.updatedAt),
      expires_at: key.expiresAt === null ? null : iso(key.expiresAt),
      disabled: key.disabled,
      ...parseDocument<LimitsDocument>(key.limits),
      metadata: parseDocument<JsonObject>(key.metadata),
    };
  }

  teamView(team: StoredTeam): TeamView {
    let keys = 0;
    for (const key of this.keys.values()) if (key.team === team.id) keys++;
    return {
      id: team.id,
      name: team.name,
      created_at: iso(team.createdAt),
      updated_at: iso(team.updatedAt),
      ...parseDocument<LimitsDocument>(team.limits),
      metadata: parseDocument<JsonObject>(team.metadata),
      keys,
    };
  }

  listKeys(): KeyView[] {
    return [...this.keys.values()].map((key) => this.keyView(key));
  }

  listTeams(): TeamView[] {
    return [...this.teams.values()].map((team) => this.teamView(team));
  }

  // ----- changing --------------------------------------------------------------------------------

  createKey(input: KeyInput, actor: string, check: ModelCheck, now = Date.now()): Promise<KeyResult> {
    return this.serially(async () => {
      const name = input.name!;
      if (this.findKey(name) !== undefined) throw duplicate('key', name);
      const team = this.teamFor(input.team);
      const secret = newSecret();
      const key: StoredKey = {
        id: newId('vk'),
        name,
        hash: secretHash(secret),
        prefix: secretPrefix(secret),
        team: team?.id ?? null,
        createdAt: now,
        updatedAt: now,
        expiresAt: input.expiresAt ?? null,
        disabled: input.disabled ?? false,
        limits: JSON.stringify(mergeLimits({}, input.limits, check)),
        metadata: JSON.stringify(input.metadata ?? {}),
      };
      await this.apply({ kind: 'put-key', key }, audit(actor, 'key.create', key.id, now, { name, team: team?.name, limits: JSON.parse(key.limits) as unknown, expires_at: key.expiresAt, disabled: key.disabled }));
      return { view: this.keyView(key), secret };
    });
  }

  updateKey(idOrName: string, input: KeyInput, actor: string, check: ModelCheck, now = Date.now()): Promise<KeyResult> {
    return this.serially(async () => {
      const current = this.findKey(idOrName);
      if (current === undefined) throw notFound('key', idOrName);
      if (input.name !== undefined && input.name !== current.name && this.findKey(input.name) !== undefined) throw duplicate('key', input.name);
      const team = input.team === undefined ? undefined : this.teamFor(input.team);
      const limits = mergeLimits(parseDocument<LimitsDocument>(current.limits), input.limits, check);
      const key: StoredKey = {
        ...current,
        name: input.name ?? current.name,
        team: input.team === undefined ? current.team : team?.id ?? null,
        updatedAt: now,
        expiresAt: input.expiresAt === undefined ? current.expiresAt : input.expiresAt,
        disabled: input.disabled ?? current.disabled,
        limits: JSON.stringify(limits),
        metadata: input.metadata === undefined ? current.metadata : JSON.stringify(input.metadata ?? {}),
      };
      const changed: JsonObject = {};
      if (key.name !== current.name) changed.name = key.name;
      if (key.team !== current.team) changed.team = team?.name ?? null;
      if (key.expiresAt !== current.expiresAt) changed.expires_at = key.expiresAt;
      if (key.disabled !== current.disabled) changed.disabled = key.disabled;
      if (key.limits !== current.limits) changed.limits = limits;
      if (key.metadata !== current.metadata) changed.metadata = true;
      await this.apply({ kind: 'put-key', key }, audit(actor, 'key.update', key.id, now, changed));
      return { view: this.keyView(key) };
    });
  }

  /** A new secret for the key; the old one stops working at once. */
  rotateKey(idOrName: string, actor: string, now = Date.now()): Promise<KeyResult> {
    return this.serially(async () => {
      const current = this.findKey(idOrName);
      if (current === undefined) throw notFound('key', idOrName);
      const secret = newSecret();
      const key: StoredKey = { ...current, hash: secretHash(secret), prefix: secretPrefix(secret), updatedAt: now };
      await this.apply({ kind: 'put-key', key }, audit(actor, 'key.rotate', key.id, now, { name: key.name }));
      return { view: this.keyView(key), secret };
    });
  }

  deleteKey(idOrName: string, actor: string, now = Date.now()): Promise<KeyView> {
    return this.serially(async () => {
      const current = this.findKey(idOrName);
      if (current === undefined) throw notFound('key', idOrName);
      await this.apply({ kind: 'delete-key', id: current.id }, audit(actor, 'key.delete', current.id, now, { name: current.name }));
      return this.keyView(current);
    });
  }

  createTeam(input: TeamInput, actor: string, check: ModelCheck, now = Date.now()): Promise<TeamView> {
    return this.serially(async () => {
      const name = input.name!;
      if (this.findTeam(name) !== undefined) throw duplicate('team', name);
      const team: StoredTeam = {
        id: newId('team'), name, createdAt: now, updatedAt: now,
        limits: JSON.stringify(mergeLimits({}, input.limits, check)),
        metadata: JSON.stringify(input.metadata ?? {}),
      };
      await this.apply({ kind: 'put-team', team }, audit(actor, 'team.create', team.id, now, { name, limits: JSON.parse(team.limits) as unknown }));
      return this.teamView(team);
    });
  }

  updateTeam(idOrName: string, input: TeamInput, actor: string, check: ModelCheck, now = Date.now()): Promise<TeamView> {
    return this.serially(async () => {
      const current = this.findTeam(idOrName);
      if (current === undefined) throw notFound('team', idOrName);
      if (input.name !== undefined && input.name !== current.name && this.findTeam(input.name) !== undefined) throw duplicate('team', input.name);
      const limits = mergeLimits(parseDocument<LimitsDocument>(current.limits), input.limits, check);
      const team: StoredTeam = {
        ...current,
        name: input.name ?? current.name,
        updatedAt: now,
        limits: JSON.stringify(limits),
        metadata: input.metadata === undefined ? current.metadata : JSON.stringify(input.metadata ?? {}),
      };
      const changed: JsonObject = {};
      if (team.name !== current.name) changed.name = team.name;
      if (team.limits !== current.limits) changed.limits = limits;
      if (team.metadata !== current.metadata) changed.metadata = true;
      await this.apply({ kind: 'put-team', team }, audit(actor, 'team.update', team.id, now, changed));
      return this.teamView(team);
    });
  }

  /** Refused (409) while keys belong to the team: their limits would change silently. */
  deleteTeam(idOrName: string, actor: string, now = Date.now()): Promise<TeamView> {
    return this.serially(async () => {
      const current = this.findTeam(idOrName);
      if (current === undefined) throw notFound('team', idOrName);
      const members = [...this.keys.values()].filter((key) => key.team === current.id).map((key) => key.name);
      if (members.length > 0) {
        throw new GatewayError(ErrorCode.conflict, `Team '${current.name}' still has ${members.length} key(s) (${members.slice(0, 5).join(', ')}${members.length > 5 ? ', …' : ''}): move or delete them first.`, {
          status: 409, origin: 'downstream', errorClass: 'client-error',
        });
      }
      await this.apply({ kind: 'delete-team', id: current.id }, audit(actor, 'team.delete', current.id, now, { name: current.name }));
      return this.teamView(current);
    });
  }

  audit(limit: number): Promise<AuditEntry[]> {
    return this.database.audit(limit);
  }

  /** Writes an audit row for a management action that changes no key or team (a provider's cooldown cleared, the config replaced). */
  async record(actor: string, action: string, target: string, detail: JsonObject, now = Date.now()): Promise<void> {
    try {
      await this.database.record(audit(actor, action, target, now, detail));
    } catch (error) {
      throw new GatewayError(ErrorCode.keyStoreUnavailable, `The audit log (${this.database.kind}) could not be written: ${(error as Error).message}`, { status: 503, origin: 'gateway', errorClass: 'none', cause: error });
    }
  }

  private teamFor(team: string | null | undefined): StoredTeam | undefined {
    if (team === undefined || team === null) return undefined;
    const found = this.findTeam(team);
    if (found === undefined) throw invalidRequest(`No team named '${team}': create it first (POST /v0/management/teams).`, 'team');
    return found;
  }

  /** Writes the change, then applies it to the index (the database said yes). */
  private async apply(change: KeyChange, entry: AuditEntry): Promise<void> {
    try {
      const revision = await this.database.write(change, entry);
      // another process's change in between: read everything again rather than miss it
      if (revision !== this.revision + 1) {
        await this.load();
        return;
      }
      this.revision = revision;
    } catch (error) {
      if (error instanceof DuplicateNameError) {
        // another process took the name since this one last read: read again, answer 400
        await this.load().catch(() => {});
        throw invalidRequest('That name was just taken by another change; names are unique.', 'name');
      }
      throw new GatewayError(ErrorCode.keyStoreUnavailable, `The key store (${this.database.kind}) could not be written: ${(error as Error).message}`, { status: 503, origin: 'gateway', errorClass: 'none', cause: error });
    }
    switch (change.kind) {
      case 'put-key': this.keys.set(change.key.id, change.key); break;
      case 'delete-key': this.keys.delete(change.id); break;
      case 'put-team': this.teams.set(change.team.id, change.team); break;
      case 'delete-team': this.teams.delete(change.id); break;
    }
    this.rebuild();
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }
}

function audit(actor: string, action: string, target: string, time: number, detail: JsonObject): AuditEntry {
  return { time, actor, action, target, detail: JSON.stringify(detail) };
}
