// The management API's operations side through a real gateway and scripted loopback upstreams:
// providers (state per key and model from the health book, cooldowns cleared so routing uses the
// target again, the connectivity test of HTTP and agent-CLI providers), the ring of recent
// requests (bounded, filtered, one by id with its attempts and bodies), and the remaining limits
// of a key and its team as requests spend them. Auth as for the key endpoints; no answer holds a
// secret (checked on the raw text of every answer).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentCliProvider, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { call as jsonCall, type CallOptions, type Reply } from '../helpers/json-call.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { FakeAgentCli } from '../helpers/fake-agent-cli.ts';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import type { TargetHealth } from '../../src/state/health.ts';

const ADMIN_KEY = 'admin-ops-secret-0123456789';
const CLIENT_KEY = 'sk-client-ops-0123456789';
const PROVIDER_KEY = 'sk-provider-secret-abcdefghijkl-1111';
const OTHER_PROVIDER_KEY = 'sk-provider-secret-mnopqrstuvwx-2222';
const T = { timeout: 30_000 };


/** Every answer's raw text, scanned for secrets at the end. */
const answers: string[] = [];
const secrets = [ADMIN_KEY, CLIENT_KEY, PROVIDER_KEY, OTHER_PROVIDER_KEY];

function call(target: { url: string }, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  return jsonCall(target, method, path, options, answers);
}

function chat(target: { url: string }, key: string | undefined, model = 'mock-gpt', id?: string): Promise<Reply> {
  return call(target, 'POST', '/v1/chat/completions', {
    body: { model, messages: [{ role: 'user', content: 'hi' }] },
    ...(key !== undefined ? { key } : {}),
    ...(id !== undefined ? { headers: { 'x-request-id': id } } : {}),
  });
}

function assertNoSecret(text: string): void {
  for (const secret of secrets) assert.ok(!text.includes(secret), `a secret leaked: ${text.slice(0, 300)}`);
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail('the condition was not reached');
}

const chatPath = (path: string) => path.includes('/chat/completions');

after(() => {
  for (const text of answers) assertNoSecret(text);
});

describe('providers', () => {
  let mock: MockUpstream;
  let gateway: TestGateway;
  let refuseKey = true;
  let listStatus = 200;

  before(async () => {
    mock = await startMockUpstream({
      script: (request) => {
        if (chatPath(request.path) && refuseKey) return { kind: 'json', status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } } };
        if (request.path.startsWith('/v1/models') && listStatus !== 200) return { kind: 'json', status: listStatus, body: { error: { message: 'no', type: 'invalid_request_error' } } };
        return { kind: 'default' };
      },
    });
    gateway = await startTestGateway({
      providers: [
        { name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], apiKeys: [PROVIDER_KEY, OTHER_PROVIDER_KEY] },
        // nothing listens on port 1: the test cannot connect
        { name: 'dead', baseUrl: 'http://127.0.0.1:1/v1', models: ['gone'] },
      ],
      keys: [CLIENT_KEY],
      adminKeys: [ADMIN_KEY],
      storage: { path: mkdtempSync(join(tmpdir(), 'switchyard-ops-')) },
    });
  });

  after(async () => {
    await gateway?.close();
    await mock?.close();
  });

  test('only admin keys; client keys are refused', T, async () => {
    // (a wrong key counts towards the per-address throttle, 5 a minute: four here)
    for (const path of ['/v0/management/providers', '/v0/management/providers/main', '/v0/management/requests', '/v0/management/requests/some-id']) {
      assert.equal((await call(gateway, 'GET', path)).status, 401);
    }
    assert.equal((await call(gateway, 'GET', '/v0/management/providers', { key: CLIENT_KEY })).status, 401);
    assert.equal((await call(gateway, 'GET', '/v0/management/requests', { key: CLIENT_KEY })).status, 401);
    assert.equal((await call(gateway, 'POST', '/v0/management/providers/main/cooldowns/clear', { key: CLIENT_KEY })).status, 401);
    assert.equal((await call(gateway, 'POST', '/v0/management/providers/main/test', { key: CLIENT_KEY })).status, 401);
  });

  test('each key (masked) and model with its state; a refused key cools down until a clear puts it back', T, async () => {
    // both keys are refused upstream: each cools down for half an hour
    assert.equal((await chat(gateway, CLIENT_KEY)).status, 401);
    const listed = await call(gateway, 'GET', '/v0/management/providers', { key: ADMIN_KEY });
    assert.equal(listed.status, 200, listed.text);
    assert.equal(listed.headers.get('cache-control'), 'no-store');
    const main = listed.json().data.find((provider: any) => provider.name === 'main');
    assert.equal(main.type, 'openai');
    assert.equal(main.state, 'down');
    assert.equal(main.keys.length, 2);
    assert.deepEqual(main.keys.map((key: any) => key.masked), ['sk-…1111', 'sk-…2222']);
    for (const key of main.keys) {
      assert.match(key.id, /^[0-9a-f]{8}$/);
      const target = key.models[0];
      assert.equal(target.model, 'mock-gpt');
      assert.equal(target.state, 'cooling');
      assert.equal(target.reason, 'auth');
      assert.ok(Date.parse(target.cooldown_until) > Date.now() + 60_000);
      assert.equal(target.last_error.status, 401);
      assert.equal(typeof target.last_error.class, 'string');
      assert.ok(!Number.isNaN(Date.parse(target.last_error.at)));
      assert.equal(target.error_rate, 1);
    }
    // no request has gone to it yet
    assert.equal(listed.json().data.find((provider: any) => provider.name === 'dead').state, 'unused');
    assertNoSecret(listed.text);

    // while cooling, nothing reaches the upstream
    const seen = mock.requests.filter((request) => chatPath(request.path)).length;
    assert.notEqual((await chat(gateway, CLIENT_KEY)).status, 200);
    assert.equal(mock.requests.filter((request) => chatPath(request.path)).length, seen);

    // the key is fixed upstream; clearing one key's cooldown lets routing use that key again
    refuseKey = false;
    const firstKey: string = main.keys[0].id;
    const unknownModel = await call(gateway, 'POST', '/v0/management/providers/main/cooldowns/clear', { key: ADMIN_KEY, body: { model: 'nope' } });
    assert.equal(unknownModel.status, 404, unknownModel.text);
    const unknownKey = await call(gateway, 'POST', '/v0/management/providers/main/cooldowns/clear', { key: ADMIN_KEY, body: { key: 'ffffffff' } });
    assert.equal(unknownKey.status, 400, unknownKey.text);
    assert.equal((await call(gateway, 'POST', '/v0/management/providers/nowhere/cooldowns/clear', { key: ADMIN_KEY })).status, 404);
    const cleared = await call(gateway, 'POST', '/v0/management/providers/main/cooldowns/clear', { key: ADMIN_KEY, body: { key: firstKey, model: 'mock-gpt' } });
    assert.equal(cleared.status, 200, cleared.text);
    assert.deepEqual(cleared.json().targets, [{ key: firstKey, model: 'mock-gpt', was: 'cooling', reason: 'auth' }]);
    assert.equal(cleared.json().audited, true);
    const answered = await chat(gateway, CLIENT_KEY);
    assert.equal(answered.status, 200, answered.text);
    const sent = mock.requests.filter((request) => chatPath(request.path));
    assert.equal(sent.length, seen + 1);
    assert.equal(sent.at(-1)!.headers.authorization, `Bearer ${PROVIDER_KEY}`);
    const after = (await call(gateway, 'GET', '/v0/management/providers/main', { key: ADMIN_KEY })).json();
    assert.equal(after.state, 'degraded');
    assert.equal(after.keys[0].models[0].state, 'healthy');
    assert.equal(after.keys[1].models[0].state, 'cooling');

    // the clear is in the audit log, by the admin key, with no secret
    const audit = await call(gateway, 'GET', '/v0/management/audit', { key: ADMIN_KEY });
    const entry = audit.json().data[0];
    assert.equal(entry.action, 'provider.cooldowns.clear');
    assert.equal(entry.target, 'main');
    assert.match(entry.actor, /^admin-[0-9a-f]{8}$/);
    assert.deepEqual(entry.detail, { key: firstKey, model: 'mock-gpt', cleared: 1 });
    assertNoSecret(audit.text);
  });

  test('an ejected target shows as ejected, then half-open; a clear without a body brings every target back', T, async () => {
    const now = Date.now();
    const targets = [...gateway.gateway.runtime.health.all()].filter((entry) => entry.provider === 'main') as TargetHealth[];
    targets[0]!.eject(now, DEFAULT_COOLDOWNS, 'consecutive-failures');
    let main = (await call(gateway, 'GET', '/v0/management/providers/main', { key: ADMIN_KEY })).json();
    const states = main.keys.map((key: any) => key.models[0].state).sort();
    assert.deepEqual(states, ['cooling', 'ejected']);
    const ejected = main.keys.flatMap((key: any) => key.models).find((target: any) => target.state === 'ejected');
    assert.equal(ejected.ejected_by, 'consecutive-failures');
    targets[0]!.eject(now - DEFAULT_COOLDOWNS.ejectMs - 1, DEFAULT_COOLDOWNS, 'consecutive-failures');
    main = (await call(gateway, 'GET', '/v0/management/providers/main', { key: ADMIN_KEY })).json();
    assert.ok(main.keys.some((key: any) => key.models[0].state === 'half-open'));

    const cleared = await call(gateway, 'POST', '/v0/management/providers/main/cooldowns/clear', { key: ADMIN_KEY });
    assert.equal(cleared.status, 200, cleared.text);
    assert.deepEqual(cleared.json().targets.map((target: any) => target.was).sort(), ['cooling', 'half-open']);
    main = (await call(gateway, 'GET', '/v0/management/providers/main', { key: ADMIN_KEY })).json();
    assert.equal(main.state, 'healthy');
    assert.ok(main.keys.every((key: any) => key.models[0].state === 'healthy'));
    for (let i = 0; i < 2; i++) assert.equal((await chat(gateway, CLIENT_KEY)).status, 200);
    assert.ok(mock.requests.filter((request) => chatPath(request.path)).some((request) => request.headers.authorization === `Bearer ${OTHER_PROVIDER_KEY}`), 'the second key is used again');
  });

  test('the connectivity test: the model list through the provider\'s own endpoint, success and failure', T, async () => {
    const ok = await call(gateway, 'POST', '/v0/management/providers/main/test', { key: ADMIN_KEY });
    assert.equal(ok.status, 200, ok.text);
    const result = ok.json();
    assert.equal(result.ok, true);
    assert.equal(result.status, 200);
    assert.equal(result.method, 'list-models');
    assert.equal(result.models, 2);
    assert.equal(typeof result.latency_ms, 'number');
    assert.match(result.key, /^[0-9a-f]{8}$/);
    const listing = mock.requests.filter((request) => request.path.startsWith('/v1/models')).at(-1)!;
    assert.equal(listing.headers.authorization, `Bearer ${PROVIDER_KEY}`, 'the provider\'s own auth goes with it');

    // the second key, by index
    const second = await call(gateway, 'POST', '/v0/management/providers/main/test', { key: ADMIN_KEY, body: { key: 1 } });
    assert.equal(second.json().ok, true);
    assert.equal(mock.requests.filter((request) => request.path.startsWith('/v1/models')).at(-1)!.headers.authorization, `Bearer ${OTHER_PROVIDER_KEY}`);

    listStatus = 401;
    const refused = (await call(gateway, 'POST', '/v0/management/providers/main/test', { key: ADMIN_KEY })).json();
    listStatus = 200;
    assert.equal(refused.ok, false);
    assert.equal(refused.status, 401);
    assert.match(refused.error, /401/);

    const dead = (await call(gateway, 'POST', '/v0/management/providers/dead/test', { key: ADMIN_KEY, body: { timeout_ms: 2000 } })).json();
    assert.equal(dead.ok, false);
    assert.equal(dead.status, null);
    assert.equal(dead.key, null);
    assert.equal(typeof dead.error, 'string');

    const bad = await call(gateway, 'POST', '/v0/management/providers/main/test', { key: ADMIN_KEY, body: { timeout_ms: -5 } });
    assert.equal(bad.status, 400);
    assert.equal((await call(gateway, 'POST', '/v0/management/providers/nowhere/test', { key: ADMIN_KEY })).status, 404);
    // the test is not traffic: the book is unchanged by a failed one
    const main = (await call(gateway, 'GET', '/v0/management/providers/main', { key: ADMIN_KEY })).json();
    assert.equal(main.state, 'healthy');
  });
});

test('the connectivity test of an agent CLI asks its driver, spending no turn', T, async () => {
  const cli = new FakeAgentCli();
  const gateway = await startTestGateway({
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'] })],
    agentCliDrivers: new Map([['claude-code', cli.factory]]),
  });
  try {
    const reply = await call(gateway, 'POST', '/v0/management/providers/claude/test');
    assert.equal(reply.status, 200, reply.text);
    const result = reply.json();
    assert.equal(result.ok, true);
    assert.equal(result.method, 'agent-cli');
    assert.equal(result.status, null);
    assert.equal(result.models, 2);
    assert.equal(typeof result.agent_cli, 'object');
    assert.equal(cli.turns.length, 0);
    const listed = (await call(gateway, 'GET', '/v0/management/providers')).json();
    assert.equal(listed.data[0].type, 'claude-code');
    assert.equal(typeof listed.data[0].agent_cli, 'object');
  } finally {
    await gateway.close();
  }
});

describe('recent requests', () => {
  let mock: MockUpstream;
  let failing: MockUpstream;
  let gateway: TestGateway;

  before(async () => {
    mock = await startMockUpstream();
    failing = await startMockUpstream({ script: () => ({ kind: 'json', status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } }) });
    gateway = await startTestGateway({
      providers: [
        { name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'gpt-4o'], apiKeys: [PROVIDER_KEY] },
        { name: 'bad', baseUrl: `${failing.url}/v1`, models: ['mock-gpt'] },
      ],
      models: [{ name: 'primary', targets: [{ provider: 'bad', model: 'mock-gpt' }], fallbacks: ['main:mock-gpt'], retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 } }],
      keys: [CLIENT_KEY],
      // no admin keys: the management API answers loopback callers
      recentRequests: 3,
      bodies: { maxBytes: 4096, keep: 10 },
    });
  });

  after(async () => {
    await gateway?.close();
    await mock?.close();
    await failing?.close();
  });

  test('a bounded ring, newest first, filtered; one by id with attempts and bodies; unknown ids 404', T, async () => {
    assert.equal((await chat(gateway, CLIENT_KEY, 'mock-gpt', 'req-1')).status, 200);
    assert.equal((await chat(gateway, CLIENT_KEY, 'gpt-4o', 'req-2')).status, 200);
    // management calls are not recorded: they would crowd out the traffic they inspect
    assert.equal((await call(gateway, 'GET', '/v0/management/requests')).status, 200);
    assert.equal((await chat(gateway, CLIENT_KEY, 'no-such-model', 'req-3')).status, 404);
    assert.equal((await chat(gateway, CLIENT_KEY, 'primary', 'req-4')).status, 200);

    const list = await until(() => call(gateway, 'GET', '/v0/management/requests'), (reply) => reply.json().data[0]?.id === 'req-4');
    assert.equal(list.json().capacity, 3);
    assert.equal(list.json().kept, 3);
    assert.deepEqual(list.json().data.map((entry: any) => entry.id), ['req-4', 'req-3', 'req-2']);
    const [fallback, missing, plain] = list.json().data;
    assert.equal(plain.model, 'gpt-4o');
    assert.equal(plain.provider, 'main');
    assert.equal(plain.status, 200);
    assert.equal(plain.key.id.length > 0, true);
    assert.equal(plain.error, null);
    assert.equal(typeof plain.duration_ms, 'number');
    assert.equal(typeof plain.ttft_ms, 'number');
    assert.equal(typeof plain.tokens.input, 'number');
    assert.equal(plain.cached, false);
    assert.equal(missing.status, 404);
    assert.match(missing.error.code, /MODEL_NOT_FOUND/);
    assert.equal(missing.error.class, 'client-error');
    assert.equal(fallback.model, 'primary');
    assert.equal(fallback.provider, 'main');
    assert.equal(fallback.fallback, 'main:mock-gpt');
    assert.equal(fallback.attempts, 2);
    assert.equal(fallback.failed_attempts, 1);

    const ids = async (query: string) => (await call(gateway, 'GET', `/v0/management/requests?${query}`)).json().data.map((entry: any) => entry.id);
    assert.deepEqual(await ids('model=gpt-4o'), ['req-2']);
    assert.deepEqual(await ids('model=main:mock-gpt'), ['req-4']);
    assert.deepEqual(await ids('status=4xx'), ['req-3']);
    assert.deepEqual(await ids('status=error'), ['req-3']);
    assert.deepEqual(await ids('status=200'), ['req-4', 'req-2']);
    assert.deepEqual(await ids('provider=main&limit=1'), ['req-4']);
    assert.deepEqual(await ids(`key=${plain.key.id}`), ['req-4', 'req-3', 'req-2']);
    assert.deepEqual(await ids('key=someone-else'), []);
    assert.equal((await call(gateway, 'GET', '/v0/management/requests?status=teapot')).status, 400);
    assert.equal((await call(gateway, 'GET', '/v0/management/requests?limit=0')).status, 400);

    const detail = await call(gateway, 'GET', '/v0/management/requests/req-4');
    assert.equal(detail.status, 200, detail.text);
    const one = detail.json();
    assert.deepEqual(one.attempt_log, [
      { provider: 'bad', model: 'mock-gpt', status: 503, outcome: 'failed' },
      { provider: 'main', model: 'mock-gpt', status: 200, outcome: 'answered' },
    ]);
    assert.equal(one.body_capture, 'kept');
    assert.match(one.bodies.request.body, /"primary"/);
    assert.equal(one.bodies.request.headers.authorization, undefined, 'credential headers are never kept');
    assert.match(one.bodies.response.body, /chat\.completion/);
    assertNoSecret(detail.text);

    // forgotten by the ring (it keeps 3) but still held by body capture
    const older = await call(gateway, 'GET', '/v0/management/requests/req-1');
    assert.equal(older.status, 200, older.text);
    assert.equal(older.json().attempt_log, null);
    assert.match(older.json().bodies.request.body, /mock-gpt/);

    const unknown = await call(gateway, 'GET', '/v0/management/requests/no-such-id');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json().error.message, /No recent request with id 'no-such-id'/);
  });

  test('recording off says so', T, async () => {
    const off = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], recentRequests: 0 });
    try {
      assert.equal((await chat(off, undefined)).status, 200);
      const reply = await call(off, 'GET', '/v0/management/requests');
      assert.equal(reply.status, 404);
      assert.match(reply.json().error.message, /logging\.recent_requests: 0/);
    } finally {
      await off.close();
    }
  });

  test('beyond loopback without admin keys, the operations endpoints are refused too', T, async () => {
    const open = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], server: { host: '0.0.0.0' } as never, keys: [CLIENT_KEY] });
    try {
      const url = open.url.replace('0.0.0.0', '127.0.0.1');
      for (const path of ['/v0/management/providers', '/v0/management/requests']) assert.equal((await call({ url }, 'GET', path)).status, 403);
    } finally {
      await open.close();
    }
  });
});

test('remaining limits of a key and its team change as requests spend them', T, async () => {
  const mock = await startMockUpstream();
  const gateway = await startTestGateway({
    providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }],
    adminKeys: [ADMIN_KEY],
    storage: { path: mkdtempSync(join(tmpdir(), 'switchyard-ops-')) },
    prices: [{ model: 'mock-gpt', price: { input: 1000, output: 1000 } }],
  });
  try {
    assert.equal((await call(gateway, 'POST', '/v0/management/teams', { key: ADMIN_KEY, body: { name: 'ops', rpm: 100, budget: { usd: 50, period: 'month' } } })).status, 201);
    const created = await call(gateway, 'POST', '/v0/management/keys', { key: ADMIN_KEY, body: { name: 'worker', team: 'ops', rpm: 10, tpm: 100000, max_concurrent: 2, budget: { usd: 5, period: 'day' } } });
    assert.equal(created.status, 201, created.text);
    const secret: string = created.json().key;
    secrets.push(secret);
    // the one answer that holds it
    answers.splice(answers.indexOf(created.text), 1);
    const usage = async () => (await call(gateway, 'GET', '/v0/management/keys/worker/usage', { key: ADMIN_KEY })).json().remaining;

    const before = await usage();
    assert.deepEqual(before.key.rpm, { limit: 10, used: 0, remaining: 10, resets_at: before.key.rpm.resets_at });
    assert.ok(Date.parse(before.key.rpm.resets_at) > Date.now() - 1000);
    assert.equal(before.key.tpm.used, 0);
    assert.deepEqual(before.key.max_concurrent, { limit: 2, in_use: 0 });
    assert.equal(before.key.budget.usd, 5);
    assert.equal(before.key.budget.period, 'day');
    assert.equal(before.key.budget.spent_usd, 0);
    assert.equal(before.key.budget.remaining_usd, 5);
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    assert.equal(before.key.budget.resets_at, midnight.toISOString());
    assert.equal(before.team.scope, 'team');
    assert.equal(before.team.name, 'ops');
    assert.equal(before.team.rpm.limit, 100);
    assert.equal(before.team.budget.period, 'month');

    let last: Reply | undefined;
    for (let i = 0; i < 2; i++) {
      last = await chat(gateway, secret);
      assert.equal(last.status, 200, last.text);
    }
    // tokens and spend are settled once each response has closed
    const now = await until(usage, (remaining) => remaining.key.budget.spent_usd > 0 && remaining.key.tpm.used > 0 && remaining.team.budget.spent_usd > 0);
    assert.equal(now.key.rpm.used, 2);
    assert.equal(now.key.rpm.remaining, 8);
    assert.equal(String(now.key.rpm.remaining), last!.headers.get('x-ratelimit-remaining-requests'), 'the same count the headers give');
    assert.ok(now.key.tpm.remaining < 100000);
    assert.ok(now.key.budget.remaining_usd < 5);
    assert.equal(now.key.budget.held_usd, 0);
    assert.equal(now.key.max_concurrent.in_use, 0);
    assert.equal(now.team.rpm.used, 2);

    const team = await call(gateway, 'GET', '/v0/management/teams/ops/usage', { key: ADMIN_KEY });
    assert.equal(team.status, 200, team.text);
    assert.equal(team.json().remaining.scope, 'team');
    assert.equal(team.json().remaining.rpm.used, 2);
    assert.equal(team.json().remaining.budget.spent_usd, now.team.budget.spent_usd);
    assertNoSecret(team.text);
  } finally {
    await gateway.close();
    await mock.close();
  }
});
