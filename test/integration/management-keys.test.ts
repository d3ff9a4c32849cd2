// Virtual keys through a real gateway: created through the management API (the secret shown once),
// used on the model endpoints, listed, changed, disabled (401 after), rotated (the old secret 401,
// the new one works) and deleted; who may use the management API (admin keys only; loopback
// without them; failed attempts throttled); the audit log; and the keys across a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.ts';
import { call } from '../helpers/json-call.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const ADMIN_KEY = 'admin-secret-0123456789';
const CLIENT_KEY = 'sk-client-0123456789';
const T = { timeout: 30_000 };



const chatBody = { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] };
const chat = (target: { url: string }, key: string | undefined, model = 'mock-gpt') => call(target, 'POST', '/v1/chat/completions', { body: { ...chatBody, model }, ...(key !== undefined ? { key } : {}) });

let mock: MockUpstream;
const secrets: string[] = [];

function options(state: string, extra: Partial<TestGatewayOptions> = {}): TestGatewayOptions {
  return {
    providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'gpt-4o'] }],
    models: [{ name: 'fast', targets: [{ provider: 'main', model: 'mock-gpt' }] }],
    storage: { path: state },
    ...extra,
  };
}

function assertNoSecret(text: string): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked: ${text.slice(0, 300)}`);
}

before(async () => {
  mock = await startMockUpstream();
});

after(async () => {
  await mock?.close();
});

describe('the lifecycle of a virtual key', () => {
  let state: string;
  let gateway: TestGateway;

  before(async () => {
    state = mkdtempSync(join(tmpdir(), 'switchyard-keys-'));
    gateway = await startTestGateway(options(state, { keys: [CLIENT_KEY], adminKeys: [ADMIN_KEY] }));
  });

  after(async () => {
    await gateway?.close();
  });

  test('create → use → list/get → patch → disable → rotate → delete; never a secret but once', T, async () => {
    const created = await call(gateway, 'POST', '/v0/management/keys', {
      key: ADMIN_KEY,
      body: { name: 'ci-bot', models: ['gpt-*', 'fast'], rpm: 60, tpm: 100000, max_concurrent: 4, budget: { usd: 10, period: 'day' }, expires_at: '2099-01-01T00:00:00Z', metadata: { owner: 'ci' } },
    });
    assert.equal(created.status, 201, created.text);
    const body = created.json();
    assert.match(body.id, /^vk-[0-9a-f]{16}$/);
    assert.match(body.key, /^sy-[A-Za-z0-9_-]{43}$/);
    assert.equal(Object.keys(body)[0], 'id');
    assert.equal(Object.keys(body)[1], 'key');
    assert.equal(body.name, 'ci-bot');
    assert.deepEqual(body.models, ['gpt-*', 'fast']);
    assert.deepEqual(body.budget, { usd: 10, period: 'day' });
    assert.equal(body.expires_at, '2099-01-01T00:00:00.000Z');
    assert.equal(body.key_prefix, `${body.key.slice(0, 7)}…`);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const secret: string = body.key;
    const id: string = body.id;
    secrets.push(secret);

    // the key works on the model endpoints, as does the config's client key; no key at all does not
    assert.equal((await chat(gateway, secret, 'fast')).status, 200);
    // its allow-list holds: a model outside it is refused (403, naming the key)
    const outside = await chat(gateway, secret, 'mock-gpt');
    assert.equal(outside.status, 403, outside.text);
    assert.match(outside.text, /ci-bot/);
    assert.equal((await chat(gateway, CLIENT_KEY)).status, 200);
    assert.equal((await chat(gateway, undefined)).status, 401);
    assert.equal((await chat(gateway, 'sy-not-a-key')).status, 401);
    // its policy reached the request: the access log names it by id
    assert.ok(gateway.logs.some((line) => line.key === id), 'the access line names the key by its id');

    const list = await call(gateway, 'GET', '/v0/management/keys', { key: ADMIN_KEY });
    assert.equal(list.status, 200);
    assert.equal(list.json().data.length, 1);
    assert.equal(list.json().data[0].id, id);
    assert.equal(list.json().data[0].key, undefined);
    assertNoSecret(list.text);
    const byName = await call(gateway, 'GET', '/v0/management/keys/ci-bot', { key: ADMIN_KEY });
    assert.equal(byName.status, 200);
    assert.equal(byName.json().id, id);
    assertNoSecret(byName.text);

    const patched = await call(gateway, 'PATCH', `/v0/management/keys/${id}`, { key: ADMIN_KEY, body: { rpm: 120, budget: null, models: ['main:*'] } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json().rpm, 120);
    assert.equal(patched.json().budget, undefined);
    assert.deepEqual(patched.json().models, ['main:*']);
    assert.equal(patched.json().tpm, 100000);

    const disabled = await call(gateway, 'PATCH', `/v0/management/keys/${id}`, { key: ADMIN_KEY, body: { disabled: true } });
    assert.equal(disabled.status, 200);
    const refused = await chat(gateway, secret);
    assert.equal(refused.status, 401);
    assert.equal(refused.json().error.code, 'swy_err_auth_key_disabled');
    assert.match(refused.json().error.message, /ci-bot.*disabled/);
    assertNoSecret(refused.text);
    assert.equal((await call(gateway, 'PATCH', `/v0/management/keys/${id}`, { key: ADMIN_KEY, body: { disabled: false } })).status, 200);
    assert.equal((await chat(gateway, secret, 'main:mock-gpt')).status, 200);

    const rotated = await call(gateway, 'POST', `/v0/management/keys/${id}/rotate`, { key: ADMIN_KEY });
    assert.equal(rotated.status, 200, rotated.text);
    const fresh: string = rotated.json().key;
    secrets.push(fresh);
    assert.notEqual(fresh, secret);
    assert.equal(rotated.json().id, id);
    assert.equal((await chat(gateway, secret)).status, 401);
    assert.equal((await chat(gateway, fresh, 'main:mock-gpt')).status, 200);

    const usage = await call(gateway, 'GET', `/v0/management/keys/${id}/usage`, { key: ADMIN_KEY });
    assert.equal(usage.status, 200, usage.text);
    assert.deepEqual(Object.keys(usage.json().usage), ['day', 'week', 'month', 'total']);
    // three answered and the one its allow-list refused
    assert.equal(usage.json().usage.total.requests, 4);
    assert.equal(usage.json().usage.day.requests, 4);
    // what the key has left now (its limits as patched: rpm 120, tpm 100000, 4 in flight, no budget; no team)
    const remaining = usage.json().remaining;
    assert.equal(remaining.team, null);
    assert.equal(remaining.key.id, id);
    assert.equal(remaining.key.rpm.limit, 120);
    assert.equal(remaining.key.rpm.used, 3, 'the three admitted requests count; the one its allow-list refused does not');
    assert.equal(remaining.key.rpm.remaining, 117);
    assert.equal(remaining.key.tpm.limit, 100000);
    assert.deepEqual(remaining.key.max_concurrent, { limit: 4, in_use: 0 });
    assert.equal(remaining.key.budget, null);

    const deleted = await call(gateway, 'DELETE', `/v0/management/keys/${id}`, { key: ADMIN_KEY });
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json().deleted, true);
    assert.equal((await chat(gateway, fresh)).status, 401);
    assert.equal((await call(gateway, 'GET', `/v0/management/keys/${id}`, { key: ADMIN_KEY })).status, 404);

    // every change is in the audit log, by the admin key's id, with no secret
    const audit = await call(gateway, 'GET', '/v0/management/audit', { key: ADMIN_KEY });
    assert.equal(audit.status, 200);
    const actions = audit.json().data.map((entry: any) => entry.action).reverse();
    assert.deepEqual(actions, ['key.create', 'key.update', 'key.update', 'key.update', 'key.rotate', 'key.delete']);
    assert.ok(audit.json().data.every((entry: any) => /^admin-[0-9a-f]{8}$/.test(entry.actor) && entry.target === id));
    assertNoSecret(audit.text);
    assert.ok(!audit.text.includes(ADMIN_KEY));
    assertNoSecret(gateway.logText());
    assert.ok(!gateway.logText().includes(ADMIN_KEY));
  });

  test('teams: limits every member key carries; a team with keys is not deleted', T, async () => {
    const team = await call(gateway, 'POST', '/v0/management/teams', { key: ADMIN_KEY, body: { name: 'platform', rpm: 600, budget: { usd: 100, period: 'month', soft_usd: 80 } } });
    assert.equal(team.status, 201, team.text);
    assert.match(team.json().id, /^team-/);
    const key = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: { name: 'member', team: 'platform' } });
    assert.equal(key.status, 201, key.text);
    assert.equal(key.json().team, 'platform');
    secrets.push(key.json().key);
    const entry = gateway.keys!.find((await import('../../src/governance/key-secret.ts')).secretHash(key.json().key))!;
    assert.deepEqual(entry.policy, { id: key.json().id, name: 'member', source: 'store', team: 'platform', teamLimits: { rpm: 600, budget: { usd: 100, period: 'month', softUsd: 80 } } });
    assert.ok(Object.isFrozen(entry.policy));
    const conflict = await call(gateway, 'DELETE', '/v0/management/teams/platform', { key: ADMIN_KEY });
    assert.equal(conflict.status, 409);
    assert.match(conflict.json().error.message, /member/);
    assert.equal((await call(gateway, 'PATCH', '/v0/management/teams/platform', { key: ADMIN_KEY, body: { rpm: 300 } })).json().rpm, 300);
    assert.equal(gateway.keys!.find((await import('../../src/governance/key-secret.ts')).secretHash(key.json().key))!.policy!.teamLimits!.rpm, 300);
    assert.equal((await call(gateway, 'DELETE', '/v0/management/keys/member', { key: ADMIN_KEY })).status, 200);
    assert.equal((await call(gateway, 'DELETE', '/v0/management/teams/platform', { key: ADMIN_KEY })).status, 200);
  });

  test('bad input is a 400 naming the field', T, async () => {
    const bad = async (body: unknown, pattern: RegExp) => {
      const reply = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body });
      assert.equal(reply.status, 400, `${JSON.stringify(body)}: ${reply.text}`);
      assert.match(reply.json().error.message, pattern);
    };
    await bad({ models: ['gpt-*'] }, /name is required/);
    await bad({ name: 'x', rpm: -1 }, /rpm must be a positive integer/);
    await bad({ name: 'x', rpm: 1.5 }, /rpm must be a positive integer/);
    await bad({ name: 'x', budget: { usd: -5, period: 'day' } }, /budget.usd must be a positive amount/);
    await bad({ name: 'x', budget: { usd: 5, period: 'year' } }, /budget.period must be one of day, week, month, total/);
    await bad({ name: 'x', budget: { usd: 5, period: 'day', soft_usd: 6 } }, /soft_usd \(6\) must be below/);
    await bad({ name: 'x', colour: 'red' }, /Unknown field 'colour'/);
    await bad({ name: 'x', models: ['no-such-model'] }, /'no-such-model' is no alias/);
    await bad({ name: 'x', models: ['nowhere:*'] }, /provider 'nowhere', which is not configured/);
    await bad({ name: 'x', expires_at: '2001-01-01T00:00:00Z' }, /in the past/);
    await bad({ name: 'x', team: 'ghosts' }, /No team named 'ghosts'/);
    await bad({ name: 'x', metadata: { blob: 'x'.repeat(5000) } }, /metadata is \d+ bytes/);
    await bad({ name: 'has space' }, /name must be/);
    await bad('[1]', /must be a JSON object/);
    const malformed = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: '{"name":' });
    assert.equal(malformed.status, 400);
    const plain = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: '{"name":"x"}', headers: { 'content-type': 'text/plain' } });
    assert.equal(plain.status, 415);
    assert.equal((await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: { name: 'dup' } })).status, 201);
    await bad({ name: 'dup' }, /named 'dup' exists already/);
    // valid entries: an alias, provider:model, a listed model, globs
    const good = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: { name: 'good', models: ['fast', 'main:mock-gpt', 'gpt-4o', 'claude-*', 'main:*'] } });
    assert.equal(good.status, 201, good.text);
    secrets.push(good.json().key);
    // an allow-list does not stop authentication: a model outside it is the enforcement's (admit) business
  });

  test('who may use the management API', T, async () => {
    // a client key (config or store) is not an admin key
    const client = await call(gateway, 'GET', '/v0/management/keys', { key: CLIENT_KEY });
    assert.equal(client.status, 401);
    assert.match(client.json().error.message, /admin/);
    assert.equal((await call(gateway, 'GET', '/v0/management/keys')).status, 401);
    // and an admin key is not a client key
    assert.equal((await chat(gateway, ADMIN_KEY)).status, 401);
    // wrong admin keys are throttled per address after 5 failures, even the right key then
    for (let i = 0; i < 4; i++) assert.equal((await call(gateway, 'GET', '/v0/management/keys', { key: `wrong-${i}` })).status, 401);
    const throttled = await call(gateway, 'GET', '/v0/management/keys', { key: ADMIN_KEY });
    assert.equal(throttled.status, 429, throttled.text);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
    assert.equal((await chat(gateway, CLIENT_KEY)).status, 200, 'client traffic is not throttled');
  });
});

describe('without admin keys', () => {
  test('the management API answers on loopback, with the caller named loopback', T, async () => {
    const state = mkdtempSync(join(tmpdir(), 'switchyard-keys-'));
    const gateway = await startTestGateway(options(state));
    try {
      // no key anywhere: client authentication is off…
      assert.equal((await chat(gateway, undefined)).status, 200);
      const created = await call(gateway, 'POST', '/v0/management/keys', { body: { name: 'first' } });
      assert.equal(created.status, 201, created.text);
      secrets.push(created.json().key);
      // …until the store holds a key
      assert.equal((await chat(gateway, undefined)).status, 401);
      assert.equal((await chat(gateway, created.json().key)).status, 200);
      const audit = await call(gateway, 'GET', '/v0/management/audit');
      assert.equal(audit.json().data[0].actor, 'loopback');
    } finally {
      await gateway.close();
    }
  });

  test('a listener beyond loopback refuses it (403)', T, async () => {
    const state = mkdtempSync(join(tmpdir(), 'switchyard-keys-'));
    // bound to every address; reached through loopback, which is still not enough
    const gateway = await startTestGateway(options(state, { server: { host: '0.0.0.0' } as never, keys: [CLIENT_KEY] }));
    try {
      const url = gateway.url.replace('0.0.0.0', '127.0.0.1');
      const refused = await call({ url }, 'GET', '/v0/management/keys');
      assert.equal(refused.status, 403, refused.text);
      assert.match(refused.json().error.message, /admin keys/);
    } finally {
      await gateway.close();
    }
  });

  test('storage off: the key endpoints say why they cannot answer', T, async () => {
    const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
    try {
      const reply = await call(gateway, 'GET', '/v0/management/keys');
      assert.equal(reply.status, 503);
      assert.match(reply.json().error.message, /storage/);
    } finally {
      await gateway.close();
    }
  });
});

describe('persistence', () => {
  test('keys, teams and the audit log survive a restart (SQLite)', T, async () => {
    const state = mkdtempSync(join(tmpdir(), 'switchyard-keys-'));
    let gateway = await startTestGateway(options(state, { adminKeys: [ADMIN_KEY] }));
    let secret: string;
    try {
      assert.equal((await call(gateway, 'POST', '/v0/management/teams', { key: ADMIN_KEY, body: { name: 'ops', tpm: 5000 } })).status, 201);
      const created = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: { name: 'keeper', team: 'ops', rpm: 10 } });
      secret = created.json().key;
      secrets.push(secret);
      assert.equal((await chat(gateway, secret)).status, 200);
    } finally {
      await gateway.close();
    }
    gateway = await startTestGateway(options(state, { adminKeys: [ADMIN_KEY] }));
    try {
      assert.equal((await chat(gateway, secret)).status, 200);
      const list = await call(gateway, 'GET', '/v0/management/keys', { key: ADMIN_KEY });
      assert.equal(list.json().data[0].name, 'keeper');
      assert.equal(list.json().data[0].team, 'ops');
      assert.equal(list.json().data[0].rpm, 10);
      const audit = await call(gateway, 'GET', '/v0/management/audit', { key: ADMIN_KEY });
      assert.deepEqual(audit.json().data.map((entry: any) => entry.action), ['key.create', 'team.create']);
      assertNoSecret(gateway.logText());
    } finally {
      await gateway.close();
    }
  });

  test('a change made by another process is picked up', T, async () => {
    const state = mkdtempSync(join(tmpdir(), 'switchyard-keys-'));
    // a config key keeps client authentication on once the store is empty again
    const first = await startTestGateway(options(state, { adminKeys: [ADMIN_KEY], keys: [CLIENT_KEY] }));
    const second = await startTestGateway(options(state, { adminKeys: [ADMIN_KEY], keys: [CLIENT_KEY] }));
    try {
      const created = await call(first, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: { name: 'shared' } });
      secrets.push(created.json().key);
      await second.keys!.refresh();
      assert.equal((await chat(second, created.json().key)).status, 200);
      assert.equal((await call(second, 'DELETE', '/v0/management/keys/shared', { key: ADMIN_KEY })).status, 200);
      await first.keys!.refresh();
      assert.equal((await chat(first, created.json().key)).status, 401);
    } finally {
      await first.close();
      await second.close();
    }
  });

  const postgres = process.env.SWITCHYARD_TEST_POSTGRES_URL;
  test('keys survive a restart (PostgreSQL)', { ...T, skip: postgres === undefined ? 'SWITCHYARD_TEST_POSTGRES_URL is not set' : false }, async () => {
    const state = mkdtempSync(join(tmpdir(), 'switchyard-keys-'));
    const withPostgres = (): TestGatewayOptions => ({ ...options(state, { adminKeys: [ADMIN_KEY] }), storage: { url: postgres! } });
    let gateway = await startTestGateway(withPostgres());
    const name = `pg-${Date.now()}`;
    let secret: string;
    try {
      const created = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: { name, rpm: 5 } });
      assert.equal(created.status, 201, created.text);
      secret = created.json().key;
      secrets.push(secret);
    } finally {
      await gateway.close();
    }
    gateway = await startTestGateway(withPostgres());
    try {
      assert.equal((await chat(gateway, secret)).status, 200);
      assert.equal((await call(gateway, 'DELETE', `/v0/management/keys/${name}`, { key: ADMIN_KEY })).status, 200);
    } finally {
      await gateway.close();
    }
  });
});
