// What the management API accepts for a key or a team, checked whole before anything is stored:
// unknown fields, limits that are not positive integers, negative or inverted budgets, model
// entries that name nothing, names taken or malformed — each a 400 naming the field.
import { invalidRequest } from '../canonical/errors.ts';
import { describe, isObject, type JsonObject } from '../util/json-value.ts';
import type { Budget, BudgetPeriod, CacheSettings, Limits } from './policy.ts';

/** Limits in the API's (and the database's) shape. */
export interface LimitsDocument {
  models?: string[];
  rpm?: number;
  tpm?: number;
  max_concurrent?: number;
  budget?: { usd: number; period: BudgetPeriod; soft_usd?: number };
  /** A key's exact-response cache (keys only; not a limit, kept beside them). */
  cache?: { ttl_s: number; per_key?: boolean };
}

/** Says why a model entry of an allow-list names nothing this gateway serves, or undefined when it does. */
export type ModelCheck = (entry: string) => string | undefined;

export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'week', 'month', 'total'];
const LIMIT_FIELDS = ['models', 'rpm', 'tpm', 'max_concurrent', 'budget'] as const;
/** The stored settings of a key: its limits and its cache (a team has limits only). */
const SETTING_FIELDS = [...LIMIT_FIELDS, 'cache'] as const;
const KEY_FIELDS = new Set<string>(['name', 'team', 'expires_at', 'disabled', 'metadata', ...SETTING_FIELDS]);
const TEAM_FIELDS = new Set<string>(['name', 'metadata', ...LIMIT_FIELDS]);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const MODELS_MAX = 256;
const MODEL_ENTRY_MAX = 512;
/** Metadata is the operator's notes, not a document store. */
export const METADATA_MAX_BYTES = 4096;

/** A field of a PATCH: absent (unchanged), null (cleared) or a value. */
export type Patch<T> = T | null | undefined;

export interface KeyInput {
  name?: string;
  team: Patch<string>;
  expiresAt: Patch<number>;
  disabled?: boolean;
  metadata: Patch<JsonObject>;
  limits: Partial<Record<keyof LimitsDocument, unknown>>;
}

export interface TeamInput {
  name?: string;
  metadata: Patch<JsonObject>;
  limits: Partial<Record<keyof LimitsDocument, unknown>>;
}

function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalidRequest(`${field} must be a positive integer, not ${typeof value === 'number' ? value : describe(value)}.`, field);
  }
  return value;
}

function usd(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1e9) {
    throw invalidRequest(`${field} must be a positive amount of USD, not ${typeof value === 'number' ? value : describe(value)}.`, field);
  }
  return value;
}

export function checkName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw invalidRequest(`${field} must be 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit; got ${typeof value === 'string' ? `'${value.slice(0, 80)}'` : describe(value)}.`, field);
  }
  if (value.startsWith('vk-') || value.startsWith('team-')) throw invalidRequest(`${field} may not start with 'vk-' or 'team-' (ids do).`, field);
  return value;
}

function budgetOf(value: unknown): NonNullable<LimitsDocument['budget']> {
  if (!isObject(value)) throw invalidRequest(`budget must be an object such as {"usd": 10, "period": "day"}, not ${describe(value)}.`, 'budget');
  for (const field of Object.keys(value)) {
    if (field !== 'usd' && field !== 'period' && field !== 'soft_usd') throw invalidRequest(`budget.${field} is not a budget field (usd, period, soft_usd).`, `budget.${field}`);
  }
  const amount = usd(value.usd, 'budget.usd');
  const period = value.period ?? 'month';
  if (typeof period !== 'string' || !(BUDGET_PERIODS as readonly string[]).includes(period)) {
    throw invalidRequest(`budget.period must be one of ${BUDGET_PERIODS.join(', ')}, not ${typeof period === 'string' ? `'${period}'` : describe(period)}.`, 'budget.period');
  }
  const budget: NonNullable<LimitsDocument['budget']> = { usd: amount, period: period as BudgetPeriod };
  if (value.soft_usd !== undefined && value.soft_usd !== null) {
    const soft = usd(value.soft_usd, 'budget.soft_usd');
    if (soft >= amount) throw invalidRequest(`budget.soft_usd (${soft}) must be below budget.usd (${amount}): it is the warning before the hard limit.`, 'budget.soft_usd');
    budget.soft_usd = soft;
  }
  return budget;
}

function cacheOf(value: unknown): NonNullable<LimitsDocument['cache']> {
  if (!isObject(value)) throw invalidRequest(`cache must be an object such as {"ttl_s": 3600}, not ${describe(value)}.`, 'cache');
  for (const field of Object.keys(value)) {
    if (field !== 'ttl_s' && field !== 'per_key') throw invalidRequest(`cache.${field} is not a cache field (ttl_s, per_key).`, `cache.${field}`);
  }
  const cache: NonNullable<LimitsDocument['cache']> = { ttl_s: positiveInteger(value.ttl_s, 'cache.ttl_s') };
  if (value.per_key !== undefined && value.per_key !== null) {
    if (typeof value.per_key !== 'boolean') throw invalidRequest(`cache.per_key must be true or false, not ${describe(value.per_key)}.`, 'cache.per_key');
    cache.per_key = value.per_key;
  }
  return cache;
}

function modelsOf(value: unknown, check: ModelCheck): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidRequest(`models must be a non-empty list of model names, aliases, provider:model or globs (gpt-*), not ${describe(value)}; leave it out for every model.`, 'models');
  if (value.length > MODELS_MAX) throw invalidRequest(`models holds ${value.length} entries; at most ${MODELS_MAX} (use globs).`, 'models');
  const models: string[] = [];
  for (const [index, entry] of value.entries()) {
    if (typeof entry !== 'string' || entry.trim() === '' || entry.length > MODEL_ENTRY_MAX) throw invalidRequest(`models[${index}] must be a non-empty model name, not ${describe(entry)}.`, `models[${index}]`);
    const problem = check(entry);
    if (problem !== undefined) throw invalidRequest(`models[${index}]: ${problem}`, `models[${index}]`);
    if (!models.includes(entry)) models.push(entry);
  }
  return models;
}

/** Reads the limit fields (and a key's cache) of a body (present ones only; null clears in a PATCH). */
function limitFields(body: JsonObject): Partial<Record<keyof LimitsDocument, unknown>> {
  const fields: Partial<Record<keyof LimitsDocument, unknown>> = {};
  for (const field of SETTING_FIELDS) if (field in body) fields[field] = body[field];
  return fields;
}

/** Applies checked limit fields over `base` (a stored document): what the key or team will hold. */
export function mergeLimits(base: LimitsDocument, fields: Partial<Record<keyof LimitsDocument, unknown>>, check: ModelCheck): LimitsDocument {
  const next: LimitsDocument = { ...base };
  for (const field of SETTING_FIELDS) {
    if (!(field in fields)) continue;
    const value = fields[field];
    if (value === null) {
      delete next[field];
      continue;
    }
    switch (field) {
      case 'models': next.models = modelsOf(value, check); break;
      case 'rpm': next.rpm = positiveInteger(value, 'rpm'); break;
      case 'tpm': next.tpm = positiveInteger(value, 'tpm'); break;
      case 'max_concurrent': next.max_concurrent = positiveInteger(value, 'max_concurrent'); break;
      case 'budget': next.budget = budgetOf(value); break;
      case 'cache': next.cache = cacheOf(value); break;
    }
  }
  return next;
}

function metadataOf(value: unknown): Patch<JsonObject> {
  if (value === undefined || value === null) return value;
  if (!isObject(value)) throw invalidRequest(`metadata must be a JSON object, not ${describe(value)}.`, 'metadata');
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > METADATA_MAX_BYTES) throw invalidRequest(`metadata is ${bytes} bytes as JSON; at most ${METADATA_MAX_BYTES}.`, 'metadata');
  return value;
}

function bodyObject(body: unknown, fields: ReadonlySet<string>, what: string): JsonObject {
  if (!isObject(body)) throw invalidRequest(`The body must be a JSON object describing the ${what}, not ${describe(body)}.`);
  for (const field of Object.keys(body)) {
    if (!fields.has(field)) throw invalidRequest(`Unknown field '${field.slice(0, 80)}' for a ${what}; known fields: ${[...fields].join(', ')}.`, field);
  }
  return body;
}

/** A key's body (create: `name` required; PATCH: every field optional, null clears). */
export function parseKeyInput(body: unknown, mode: 'create' | 'update', now: number): KeyInput {
  const object = bodyObject(body, KEY_FIELDS, 'key');
  if (mode === 'create' && object.name === undefined) throw invalidRequest('name is required: a unique name for the key, such as "ci-bot".', 'name');
  const input: KeyInput = { team: undefined, expiresAt: undefined, metadata: metadataOf(object.metadata), limits: limitFields(object) };
  if (object.name !== undefined) input.name = checkName(object.name);
  if (object.team !== undefined) input.team = object.team === null ? null : checkName(object.team, 'team');
  if (object.disabled !== undefined) {
    if (typeof object.disabled !== 'boolean') throw invalidRequest(`disabled must be true or false, not ${describe(object.disabled)}.`, 'disabled');
    input.disabled = object.disabled;
  }
  if (object.expires_at !== undefined && object.expires_at !== null) {
    const text = object.expires_at;
    const at = typeof text === 'string' ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(at)) throw invalidRequest(`expires_at must be an ISO 8601 date-time such as "2027-01-31T00:00:00Z", not ${typeof text === 'string' ? `'${text.slice(0, 80)}'` : describe(text)}.`, 'expires_at');
    if (at <= now) throw invalidRequest(`expires_at (${new Date(at).toISOString()}) is in the past; to stop a key now, disable or delete it.`, 'expires_at');
    input.expiresAt = at;
  } else if (object.expires_at === null) input.expiresAt = null;
  return input;
}

export function parseTeamInput(body: unknown, mode: 'create' | 'update'): TeamInput {
  const object = bodyObject(body, TEAM_FIELDS, 'team');
  if (mode === 'create' && object.name === undefined) throw invalidRequest('name is required: a unique name for the team, such as "platform".', 'name');
  const input: TeamInput = { metadata: metadataOf(object.metadata), limits: limitFields(object) };
  if (object.name !== undefined) input.name = checkName(object.name);
  return input;
}

/** The stored document as the policy's Limits; undefined when it sets nothing. */
export function limitsOf(document: LimitsDocument): Limits | undefined {
  const limits: { -readonly [K in keyof Limits]: Limits[K] } = {};
  if (document.models !== undefined) limits.models = Object.freeze([...document.models]);
  if (document.rpm !== undefined) limits.rpm = document.rpm;
  if (document.tpm !== undefined) limits.tpm = document.tpm;
  if (document.max_concurrent !== undefined) limits.maxConcurrent = document.max_concurrent;
  if (document.budget !== undefined) {
    const budget: Budget = document.budget.soft_usd !== undefined
      ? { usd: document.budget.usd, period: document.budget.period, softUsd: document.budget.soft_usd }
      : { usd: document.budget.usd, period: document.budget.period };
    limits.budget = Object.freeze(budget);
  }
  return Object.keys(limits).length === 0 ? undefined : Object.freeze(limits);
}

/** The stored cache setting as the policy's; undefined when the key has none. */
export function cacheSettingsOf(document: LimitsDocument): CacheSettings | undefined {
  const cache = document.cache;
  if (cache === undefined || typeof cache.ttl_s !== 'number' || cache.ttl_s <= 0) return undefined;
  return Object.freeze({ ttlSeconds: cache.ttl_s, perKey: cache.per_key === true });
}

/** A stored JSON column, read back; a damaged one reads as empty rather than stopping the gateway. */
export function parseDocument<T extends object>(text: string): T {
  try {
    const value: unknown = JSON.parse(text);
    return (isObject(value) ? value : {}) as T;
  } catch {
    return {} as T;
  }
}
