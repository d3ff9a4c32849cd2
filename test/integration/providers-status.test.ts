// GET /v1/providers and /v0/status: every provider and (key, model) with its health, never a key;
// active health checks take a provider out of rotation and bring it back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import { startTestGateway, testConfig } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

const KEY = 'sk-status-secret-key-0123456789';

async function chat(url: string, model: string): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

async function waitFor(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('condition not reached in time');
}

test('GET /v1/providers lists targets with state, latency and error rate, and no key', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({
    providers: [
      { name: 'main', baseUrl: `${mock.url}/v1?api-version=secret`, models: ['mock-gpt'], apiKeys: [KEY] },
      { name: 'idle', baseUrl: `${mock.url}/v1`, models: ['other'] },
    ],
  });
  t.after(() => gateway.close());
  assert.equal((await chat(gateway.url, 'mock-gpt')).status, 200);
  const response = await fetch(`${gateway.url}/v1/providers`);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.ok(!text.includes(KEY), 'the key never appears');
  assert.ok(!text.includes('api-version=secret'), 'the base URL query is not shown');
  const body = JSON.parse(text) as { data: { name: string; state: string; keys: number; targets: Record<string, unknown>[] }[] };
  const main = body.data.find((provider) => provider.name === 'main')!;
  assert.equal(main.state, 'healthy');
  assert.equal(main.keys, 1);
  assert.equal(main.targets.length, 1);
  const target = main.targets[0]!;
  assert.equal(target.model, 'mock-gpt');
  assert.match(String(target.key), /^[0-9a-f]{8}$/);
  assert.equal(target.state, 'healthy');
  assert.equal(target.requests, 1);
  assert.equal(target.error_rate, 0);
  assert.equal(typeof target.latency_ms, 'number');
  assert.equal(body.data.find((provider) => provider.name === 'idle')!.state, 'unused');

  const status = await (await fetch(`${gateway.url}/v0/status`)).json() as { status: string; providers: unknown[]; in_flight: number };
  assert.equal(status.status, 'ok');
  assert.equal(status.providers.length, 2);
});

test('a failing target shows as cooling down with its last error and when it comes back', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({ script: () => ({ kind: 'json', status: 401, body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } } }) });
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], apiKeys: [KEY] }] });
  t.after(() => gateway.close());
  assert.equal((await chat(gateway.url, 'mock-gpt')).status, 401);
  const body = await (await fetch(`${gateway.url}/v1/providers`)).json() as { data: { state: string; targets: Record<string, any>[] }[] };
  const provider = body.data[0]!;
  assert.equal(provider.state, 'down');
  const target = provider.targets[0]!;
  assert.equal(target.state, 'cooling');
  assert.equal(target.reason, 'auth');
  assert.ok(Date.parse(target.cooldown_until) > Date.now() + 60_000, 'an auth failure cools the key down for long');
  assert.equal(target.last_error.status, 401);
  assert.equal(target.error_rate, 1);
  // while cooling, the key is not used: the same refusal is repeated without a request upstream
  const seen = mock.requests.length;
  const again = await chat(gateway.url, 'mock-gpt');
  assert.equal(again.status, 401);
  assert.equal(again.headers.get('x-switchyard-cooldown'), 'true');
  assert.equal(mock.requests.length, seen);
});

for (const panic of [false, true]) {
  test(`an active health check takes a provider out of rotation and brings it back when it passes (${panic ? 'its only target is still tried: panic' : 'panic off: 429'})`, { timeout: 15_000 }, async (t) => {
    let healthy = false;
    const mock = await startMockUpstream({
      script: (request) => (request.method === 'GET' && !healthy ? { kind: 'json', status: 503, body: { error: { message: 'down' } } } : { kind: 'default' }),
    });
    t.after(() => mock.close());
    const gateway = await startTestGateway({
      providers: [{ name: 'checked', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], healthCheck: { intervalMs: 100, timeoutMs: 1000 } }],
      ...(panic ? {} : { routing: { cooldowns: { ...DEFAULT_COOLDOWNS, panicThresholdPercent: 0 } } }),
    });
    t.after(() => gateway.close());
    const providers = async () => (await (await fetch(`${gateway.url}/v1/providers`)).json() as { data: { health_check: { ok: boolean } | null; targets: Record<string, unknown>[] }[] }).data[0]!;
    await waitFor(async () => (await providers()).health_check?.ok === false);
    const posts = () => mock.requests.filter((request) => request.method === 'POST').length;
    const first = await chat(gateway.url, 'mock-gpt');
    if (panic) {
      assert.equal(first.status, 200, 'the only target is out of rotation, but a model is never left unanswerable by ejection');
      assert.equal(posts(), 1);
    } else {
      assert.equal(first.status, 429, 'the only target is out of rotation: 429 with Retry-After');
      assert.ok(Number(first.headers.get('retry-after')) >= 1);
      assert.equal(posts(), 0, 'no request reached the provider while it was down');
    }
    healthy = true;
    await waitFor(async () => (await providers()).health_check?.ok === true);
    const served = await chat(gateway.url, 'mock-gpt');
    assert.equal(served.status, 200);
    assert.equal(posts(), panic ? 2 : 1);
  });
}

test('/v0/status reports the config version: the same for the same config, a new one after a reload that changes it', { timeout: 10_000 }, async (t) => {
  const upstream = await startMockUpstream();
  t.after(() => upstream.close());
  const options = { providers: [{ name: 'main', baseUrl: `${upstream.url}/v1`, apiKeys: [KEY], models: ['gpt-4o'] }] };
  const gateway = await startTestGateway(options);
  t.after(() => gateway.close());
  const twin = await startTestGateway(options);
  t.after(() => twin.close());
  const versionOf = async (url: string) => ((await (await fetch(`${url}/v0/status`)).json()) as { config_version: string }).config_version;
  const version = await versionOf(gateway.url);
  assert.match(version, /^[0-9a-f]{12}$/);
  assert.equal(await versionOf(twin.url), version, 'two instances on the same config report the same version');
  await gateway.reload(testConfig({ ...options, models: [{ name: 'fast', targets: [{ provider: 'main', model: 'gpt-4o' }] }] }));
  assert.notEqual(await versionOf(gateway.url), version);
});
