// The key store without a gateway: secrets (format, digest, mask), the validation of what the
// management API accepts, the index authentication reads (policies of keys and teams, disabled,
// expired, rotated), the audit rows, and ClientAuth over it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../src/canonical/errors.ts';
import { limitsOf, mergeLimits, parseKeyInput, parseTeamInput } from '../../src/governance/key-input.ts';
import { maskedSecret, newSecret, secretHash, secretPrefix } from '../../src/governance/key-secret.ts';
import { KeyStore } from '../../src/governance/key-store.ts';
import { ClientAuth } from '../../src/pipeline/auth.ts';
import { AdminAuth, MAX_FAILURES } from '../../src/pipeline/admin-auth.ts';
import { SqliteKeyDatabase } from '../../src/state/key-sqlite.ts';
import type { IncomingMessage } from 'node:http';

const anyModel = () => undefined;

function store(): KeyStore {
  return new KeyStore(new SqliteKeyDatabase(join(mkdtempSync(join(tmpdir(), 'switchyard-key-store-')), 'usage.db')));
}

function refusal(work: () => unknown, pattern: RegExp): void {
  assert.throws(work, (error: unknown) => error instanceof GatewayError && error.status === 400 && pattern.test(error.message));
}

test('secrets: sy- and 256 random bits, stored as SHA-256, shown as a prefix', () => {
  const secret = newSecret();
  assert.match(secret, /^sy-[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(secret.slice(3), 'base64url').length, 32);
  assert.notEqual(newSecret(), secret);
  assert.match(secretHash(secret), /^[0-9a-f]{64}$/);
  assert.equal(secretHash(secret), secretHash(secret));
  assert.equal(maskedSecret(secretPrefix(secret)), `${secret.slice(0, 7)}…`);
});

test('validation: every field checked, every problem named', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  const input = parseKeyInput({ name: 'ci-bot', rpm: 60, budget: { usd: 10, period: 'day', soft_usd: 8 }, expires_at: '2027-01-01T00:00:00Z' }, 'create', now);
  assert.equal(input.name, 'ci-bot');
  assert.equal(input.expiresAt, Date.parse('2027-01-01T00:00:00Z'));
  assert.deepEqual(mergeLimits({}, input.limits, anyModel), { rpm: 60, budget: { usd: 10, period: 'day', soft_usd: 8 } });
  refusal(() => parseKeyInput({}, 'create', now), /name is required/);
  refusal(() => parseKeyInput({ name: 'vk-1234' }, 'create', now), /may not start with 'vk-'/);
  refusal(() => parseKeyInput({ name: 'x', unknown: 1 }, 'create', now), /Unknown field 'unknown'/);
  refusal(() => parseKeyInput({ name: 'x', disabled: 'yes' }, 'create', now), /disabled must be true or false/);
  refusal(() => parseKeyInput({ name: 'x', expires_at: 'soon' }, 'create', now), /ISO 8601/);
  refusal(() => parseTeamInput({ name: 'x', expires_at: '2027-01-01' }, 'create'), /Unknown field 'expires_at'/);
  refusal(() => mergeLimits({}, { tpm: 0 }, anyModel), /tpm must be a positive integer/);
  refusal(() => mergeLimits({}, { max_concurrent: '4' }, anyModel), /max_concurrent must be a positive integer/);
  refusal(() => mergeLimits({}, { budget: { usd: 0, period: 'day' } }, anyModel), /budget.usd must be a positive amount/);
  refusal(() => mergeLimits({}, { budget: { usd: 5, period: 'day', hard: true } }, anyModel), /budget.hard is not a budget field/);
  refusal(() => mergeLimits({}, { models: [] }, anyModel), /non-empty list/);
  refusal(() => mergeLimits({}, { models: ['a', ''] }, anyModel), /models\[1\]/);
  refusal(() => mergeLimits({}, { models: ['bad'] }, (entry) => `'${entry}' is unknown`), /models\[0\]: 'bad' is unknown/);
  // a PATCH: null clears, absent keeps
  assert.deepEqual(mergeLimits({ rpm: 5, tpm: 9 }, { rpm: null }, anyModel), { tpm: 9 });
  assert.deepEqual(limitsOf({ rpm: 5, max_concurrent: 2, budget: { usd: 3, period: 'week', soft_usd: 1 } }), { rpm: 5, maxConcurrent: 2, budget: { usd: 3, period: 'week', softUsd: 1 } });
  assert.equal(limitsOf({}), undefined);
});

test('the index: policies with the team\'s limits, names unique, rotation and deletion at once', async () => {
  const keys = store();
  await keys.load();
  assert.equal(keys.size, 0);
  await keys.createTeam(parseTeamInput({ name: 'ops', tpm: 1000 }, 'create'), 'admin-1', anyModel);
  const created = await keys.createKey(parseKeyInput({ name: 'bot', team: 'ops', models: ['gpt-*'] }, 'create', Date.now()), 'admin-1', anyModel);
  const plain = await keys.createKey(parseKeyInput({ name: 'plain' }, 'create', Date.now()), 'admin-1', anyModel);
  const entry = keys.find(secretHash(created.secret!))!;
  assert.deepEqual(entry.policy, { id: created.view.id, name: 'bot', source: 'store', team: 'ops', limits: { models: ['gpt-*'] }, teamLimits: { tpm: 1000 } });
  assert.ok(Object.isFrozen(entry.policy) && Object.isFrozen(entry.policy!.limits) && Object.isFrozen(entry.policy!.limits!.models));
  assert.equal(keys.find(secretHash(plain.secret!))!.policy, undefined, 'no limits: no policy');
  await assert.rejects(keys.createKey(parseKeyInput({ name: 'bot' }, 'create', Date.now()), 'admin-1', anyModel), /named 'bot' exists already/);
  await assert.rejects(keys.updateKey('plain', parseKeyInput({ name: 'bot' }, 'update', Date.now()), 'admin-1', anyModel), /named 'bot' exists already/);

  const generation = keys.generation;
  const rotated = await keys.rotateKey('bot', 'admin-1');
  assert.ok(keys.generation > generation);
  assert.equal(keys.find(secretHash(created.secret!)), undefined);
  assert.equal(keys.find(secretHash(rotated.secret!))!.id, created.view.id);
  await keys.deleteKey(created.view.id, 'admin-1');
  assert.equal(keys.find(secretHash(rotated.secret!)), undefined);

  const audit = await keys.audit(10);
  assert.deepEqual(audit.map((row) => row.action), ['key.delete', 'key.rotate', 'key.create', 'key.create', 'team.create']);
  const text = JSON.stringify(audit);
  for (const secret of [created.secret!, plain.secret!, rotated.secret!]) {
    assert.ok(!text.includes(secret));
    assert.ok(!text.includes(secretHash(secret)), 'not even the digest');
  }
  // a second store on the same database reads the same keys
  const again = new KeyStore(keys.database);
  await again.load();
  assert.equal(again.find(secretHash(plain.secret!))!.name, 'plain');
  await keys.close();
});

test('ClientAuth over the store: disabled and expired keys are refused by name, the memory forgets changed keys', async () => {
  const keys = store();
  await keys.load();
  const auth = new ClientAuth(['sk-config'], [], keys);
  const headers = (key: string) => ({ authorization: `Bearer ${key}` });
  const created = await keys.createKey(parseKeyInput({ name: 'bot', rpm: 5 }, 'create', Date.now()), 'a', anyModel);
  const secret = created.secret!;
  const identity = auth.authenticate(headers(secret), '');
  assert.equal(identity.keyId, created.view.id);
  assert.equal(identity.policy!.limits!.rpm, 5);
  assert.equal(auth.authenticate(headers(secret), ''), identity, 'remembered');
  assert.equal(auth.authenticate(headers('sk-config'), '').policy, undefined);
  assert.match(auth.authenticate(headers('sk-config'), '').keyId, /^key-[0-9a-f]{8}$/);

  await keys.updateKey('bot', parseKeyInput({ disabled: true }, 'update', Date.now()), 'a', anyModel);
  assert.throws(() => auth.authenticate(headers(secret), ''), (error: GatewayError) => error.status === 401 && error.code === 'SWY_ERR_AUTH_KEY_DISABLED' && /'bot'.*disabled/.test(error.message) && !error.message.includes(secret));
  await keys.updateKey('bot', parseKeyInput({ disabled: false, expires_at: new Date(Date.now() + 50).toISOString() }, 'update', Date.now()), 'a', anyModel);
  assert.equal(auth.authenticate(headers(secret), '').keyId, created.view.id);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.throws(() => auth.authenticate(headers(secret), ''), (error: GatewayError) => error.status === 401 && error.code === 'SWY_ERR_AUTH_KEY_EXPIRED');
  assert.throws(() => auth.authenticate(headers('sy-guess'), ''), (error: GatewayError) => error.status === 401 && error.code === 'SWY_ERR_AUTH_INVALID_KEY');
  await keys.close();
});

test('ClientAuth: an empty store read and no config keys = no authentication on loopback; a store not read yet needs a key (503 for unknown keys)', async () => {
  const keys = store();
  const auth = new ClientAuth([], [], keys);
  assert.equal(auth.enabled, true);
  // not read yet: it may hold keys, so no caller gets in without one
  assert.throws(() => auth.authenticate({}, ''), (error: GatewayError) => error.status === 401);
  assert.throws(() => auth.authenticate({ authorization: 'Bearer sy-x' }, ''), (error: GatewayError) => error.status === 503);
  await keys.load();
  assert.equal(auth.authenticate({}, '').keyId, '', 'read and empty: open, as with no auth.keys');
  const withConfig = new ClientAuth(['sk-config'], [], keys);
  assert.throws(() => withConfig.authenticate({}, ''), (error: GatewayError) => error.status === 401);
  await keys.close();
});

test('ClientAuth on a listener that is not loopback: never open, even with no key anywhere', async () => {
  const keys = store();
  await keys.load();
  const exposed = new ClientAuth([], [], keys, false);
  assert.throws(() => exposed.authenticate({}, ''), (error: GatewayError) => error.status === 401);
  assert.throws(() => exposed.authenticate({ authorization: 'Bearer sy-guess' }, ''), (error: GatewayError) => error.status === 401);
  // no store at all (it could not be opened): still closed
  const storeless = new ClientAuth([], [], undefined, false);
  assert.equal(storeless.enabled, true);
  assert.throws(() => storeless.authenticate({}, ''), (error: GatewayError) => error.status === 401);
  await keys.close();
});

function requestFrom(address: string, key?: string): IncomingMessage {
  return { socket: { remoteAddress: address }, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } } as unknown as IncomingMessage;
}

test('AdminAuth: admin keys only, loopback rules without them, throttled per address', () => {
  const admin = new AdminAuth(['admin-key'], '127.0.0.1');
  assert.match(admin.authenticate(requestFrom('127.0.0.1', 'admin-key'), ''), /^admin-[0-9a-f]{8}$/);
  assert.throws(() => admin.authenticate(requestFrom('127.0.0.1'), ''), (error: GatewayError) => error.status === 401);
  const now = 1_000_000;
  for (let i = 0; i < MAX_FAILURES; i++) assert.throws(() => admin.authenticate(requestFrom('10.0.0.9', 'wrong'), '', now), (error: GatewayError) => error.status === 401);
  assert.throws(() => admin.authenticate(requestFrom('10.0.0.9', 'admin-key'), '', now + 1000), (error: GatewayError) => error.status === 429 && error.retryAfterSeconds === 59);
  assert.ok(admin.authenticate(requestFrom('10.0.0.8', 'admin-key'), '', now + 1000), 'another address is not throttled');
  assert.ok(admin.authenticate(requestFrom('10.0.0.9', 'admin-key'), '', now + 61_000), 'the window ends');

  const loopbackOnly = new AdminAuth([], '127.0.0.1');
  assert.equal(loopbackOnly.authenticate(requestFrom('127.0.0.1'), ''), 'loopback');
  assert.equal(loopbackOnly.authenticate(requestFrom('::ffff:127.0.0.1'), ''), 'loopback');
  assert.throws(() => loopbackOnly.authenticate(requestFrom('192.168.1.2'), ''), (error: GatewayError) => error.status === 403);
  const exposed = new AdminAuth([], '0.0.0.0');
  assert.throws(() => exposed.authenticate(requestFrom('127.0.0.1'), ''), (error: GatewayError) => error.status === 403 && /beyond loopback/.test(error.message));
});
