// Client keys: where they are accepted, what a missing or wrong key gets, which paths are public,
// and that a key never reaches the log (only its non-secret `key-xxxxxxxx` id does).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { startTestGateway, testConfig, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const CLIENT_KEY = 'sk-client-1';

let mock: MockUpstream;
let gateway: TestGateway;
let open: TestGateway;

before(async () => {
  mock = await startMockUpstream();
  const providers = [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }];
  gateway = await startTestGateway({ keys: [CLIENT_KEY], providers });
  open = await startTestGateway({ providers });
});

after(async () => {
  await gateway?.close();
  await open?.close();
  await mock?.close();
});

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

async function call(target: { url: string }, path: string, options: { body?: object; headers?: Record<string, string> } = {}): Promise<Reply> {
  const response = await fetch(`${target.url}${path}`, {
    method: options.body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

const chatBody = { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] };
const chat = (headers: Record<string, string> = {}, path = '/v1/chat/completions') => call(gateway, path, { body: chatBody, headers });

function logLines(target: { logText(): string }): Record<string, unknown>[] {
  return target.logText().split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Record<string, unknown>);
}

function assertUnauthorized(reply: Reply, code: string): void {
  assert.equal(reply.status, 401, reply.text);
  const body = reply.json();
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(body.error.code, code);
  assert.equal(body.error.type, 'invalid_request_error');
  assert.ok(!reply.text.includes(CLIENT_KEY));
}

test('no key gives 401 missing_api_key, and nothing goes upstream', async () => {
  const before = mock.requests.length;
  const reply = await chat();
  assertUnauthorized(reply, 'missing_api_key');
  assert.match(reply.json().error.message, /Authorization: Bearer/);
  assertUnauthorized(await call(gateway, '/v1/models'), 'missing_api_key');
  assertUnauthorized(await call(gateway, '/v1/models/mock-gpt'), 'missing_api_key');
  // a non-Bearer Authorization is not a key
  assertUnauthorized(await chat({ authorization: `Basic ${Buffer.from(`user:${CLIENT_KEY}`).toString('base64')}` }), 'missing_api_key');
  assert.equal(mock.requests.length, before);
});

test('a wrong key gives 401 invalid_api_key', async () => {
  const before = mock.requests.length;
  assertUnauthorized(await chat({ authorization: 'Bearer sk-client-2' }), 'invalid_api_key');
  assertUnauthorized(await chat({ 'x-api-key': 'sk-client-' }), 'invalid_api_key');
  assertUnauthorized(await chat({ 'x-goog-api-key': `${CLIENT_KEY}x` }), 'invalid_api_key');
  assertUnauthorized(await chat({}, '/v1/chat/completions?key=nope'), 'invalid_api_key');
  assertUnauthorized(await call(gateway, '/v1/models', { headers: { authorization: 'Bearer wrong' } }), 'invalid_api_key');
  assert.equal(mock.requests.length, before);
});

test('the key is accepted as Authorization: Bearer, x-api-key, x-goog-api-key and ?key=', async () => {
  for (const [label, headers, path] of [
    ['Bearer', { authorization: `Bearer ${CLIENT_KEY}` }, undefined],
    ['bearer (any case)', { authorization: `bearer ${CLIENT_KEY}` }, undefined],
    ['x-api-key', { 'x-api-key': CLIENT_KEY }, undefined],
    ['x-goog-api-key', { 'x-goog-api-key': CLIENT_KEY }, undefined],
    ['?key=', {}, `/v1/chat/completions?key=${CLIENT_KEY}`],
  ] as const) {
    const reply = await chat(headers, path);
    assert.equal(reply.status, 200, `${label}: ${reply.text}`);
    assert.equal(reply.json().object, 'chat.completion');
  }
  const models = await call(gateway, '/v1/models', { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
  assert.equal(models.status, 200);
});

test('the client key is not forwarded upstream', async () => {
  const before = mock.requests.length;
  assert.equal((await chat({ authorization: `Bearer ${CLIENT_KEY}`, 'x-api-key': CLIENT_KEY })).status, 200);
  await mock.waitForRequests(before + 1);
  const received = mock.requests[before]!;
  assert.ok(!JSON.stringify(received.headers).includes(CLIENT_KEY));
  assert.ok(!received.path.includes(CLIENT_KEY));
  assert.equal(received.path, '/v1/chat/completions', 'the query string (?key=) is not forwarded either');
});

test('?key= is not forwarded upstream in the path', async () => {
  const before = mock.requests.length;
  assert.equal((await chat({}, `/v1/chat/completions?key=${CLIENT_KEY}`)).status, 200);
  await mock.waitForRequests(before + 1);
  assert.equal(mock.requests[before]!.path, '/v1/chat/completions');
});

test('/healthz and /readyz need no key', async () => {
  const health = await call(gateway, '/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(health.json(), { status: 'ok' });
  const ready = await call(gateway, '/readyz');
  assert.equal(ready.status, 200);
  assert.equal(ready.json().status, 'ready');
  // and a wrong key does not make them fail
  assert.equal((await call(gateway, '/healthz', { headers: { authorization: 'Bearer wrong' } })).status, 200);
});

test('the key never appears in the log, and the access log names it by a key-xxxxxxxx id', async () => {
  await chat({ authorization: `Bearer ${CLIENT_KEY}` }, '/v1/chat/completions?trace=1');
  await chat({}, `/v1/chat/completions?key=${CLIENT_KEY}&x=1`);
  await chat({ authorization: `Bearer ${CLIENT_KEY}-wrong` });
  const text = gateway.logText();
  assert.ok(text.length > 0);
  assert.ok(!text.includes(CLIENT_KEY), 'the client key is never logged');
  const accepted = logLines(gateway).filter((line) => line.msg === 'request' && line.status === 200 && line.path === '/v1/chat/completions');
  assert.ok(accepted.length >= 2);
  const ids = new Set(accepted.map((line) => line.key));
  assert.equal(ids.size, 1, 'one key, one id');
  const [id] = ids;
  assert.match(String(id), /^key-[0-9a-f]{8}$/);
  const rejected = logLines(gateway).filter((line) => line.msg === 'request' && line.status === 401);
  assert.ok(rejected.length > 0);
  for (const line of rejected) {
    assert.equal(line.key, undefined, 'a rejected request has no key id');
    assert.ok(['SWY_ERR_AUTH_MISSING_KEY', 'SWY_ERR_AUTH_INVALID_KEY'].includes(String(line.error)), String(line.error));
  }
});

test('with the production logger too, the access log carries the key id (not a censored value)', async (t) => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      callback();
    },
  });
  const config = testConfig({ keys: [CLIENT_KEY], providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
  const running: RunningGateway = await startGateway({ config, logger: createLogger(config.logging, sink), discover: false });
  t.after(() => running.close());
  const reply = await call(running, '/v1/chat/completions', { body: chatBody, headers: { authorization: `Bearer ${CLIENT_KEY}` } });
  assert.equal(reply.status, 200);
  let access: Record<string, unknown> | undefined;
  for (let i = 0; i < 100 && access === undefined; i++) {
    access = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request');
    if (access === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(access, 'access log line written');
  assert.ok(!lines.join('\n').includes(CLIENT_KEY));
  assert.match(String(access.key), /^key-[0-9a-f]{8}$/);
});

test('without keys configured, any or no Authorization header is accepted', async () => {
  const variants: Record<string, string>[] = [{}, { authorization: 'Bearer anything-at-all' }, { authorization: 'Basic Zm9vOmJhcg==' }, { 'x-api-key': 'whatever' }];
  for (const headers of variants) {
    const reply = await call(open, '/v1/chat/completions', { body: chatBody, headers });
    assert.equal(reply.status, 200, JSON.stringify(headers));
  }
  assert.equal((await call(open, '/v1/models')).status, 200);
  const line = logLines(open).find((entry) => entry.msg === 'request');
  assert.ok(line);
  assert.equal(line.key, undefined, 'no key id without client keys');
});
