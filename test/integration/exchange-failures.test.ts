// A model name outside Latin-1 is echoed safely (percent-encoded) in the response headers, and an
// exception inside an exchange — here forced where a bad header used to throw, in writeHead, and
// in the middle of a stream — always ends the response: a 500 in the caller's dialect before the
// head, an error event inside a stream, never a reset or a hang, never counted against the
// provider, and the access log says what the client got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerResponse } from 'node:http';
import { accessLine, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const NAMES = ['模型', 'a😀b'];

/** Pass-through: OpenAI chat to an OpenAI provider; translated: Anthropic messages to it. */
const PATHS = [
  { kind: 'pass-through', path: '/v1/chat/completions', body: (model: string, stream: boolean) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] }) },
  { kind: 'translated', path: '/v1/messages', body: (model: string, stream: boolean) => ({ model, stream, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }) },
] as const;

function send(gateway: TestGateway, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000),
  });
}

/** Every (key, model) target of provider `main` with its failure count. */
async function failures(gateway: TestGateway): Promise<number> {
  const providers = await (await fetch(`${gateway.url}/v1/providers`)).json() as { data: { name: string; targets: { failures: number; consecutive_failures: number }[] }[] };
  return providers.data.find((provider) => provider.name === 'main')!.targets.reduce((sum, target) => sum + target.failures + target.consecutive_failures, 0);
}

/** Checks a body is a complete answer: JSON, or a stream with its dialect's end and no error. */
function assertComplete(kind: string, stream: boolean, text: string): void {
  if (!stream) {
    const body = JSON.parse(text) as { choices?: unknown[]; content?: unknown[] };
    assert.ok(Array.isArray(kind === 'translated' ? body.content : body.choices), text);
    return;
  }
  const events = parseSse(text);
  if (kind === 'translated') assert.equal(events.at(-1)?.event, 'message_stop', text);
  else assert.equal(events.at(-1)?.data, '[DONE]', text);
  assert.ok(!text.includes('"error"'), text);
}

test('a model name outside Latin-1 gets a well-formed answer, its header percent-encoded, streamed or not, passed through or translated', { timeout: 30_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: [] }] });
  t.after(() => gateway.close());
  for (const name of NAMES) {
    for (const { kind, path, body } of PATHS) {
      for (const stream of [false, true]) {
        const label = `${name} ${kind} ${stream ? 'streamed' : 'whole'}`;
        const response = await send(gateway, path, body(`main:${name}`, stream), { 'x-request-id': `names-${mock.requests.length}` });
        assert.equal(response.status, 200, label);
        const header = response.headers.get('x-switchyard-model')!;
        assert.match(header, /^[\x21-\x7e]+$/, 'visible ASCII only');
        assert.equal(decodeURIComponent(header), name, label);
        assertComplete(kind, stream, await response.text());
        const line = await accessLine(gateway, response.headers.get('x-request-id')!);
        assert.equal(line.status, 200, label);
        assert.equal(line.error, undefined, label);
      }
    }
  }
  assert.equal(await failures(gateway), 0, 'nothing counted against the provider');
});

test('an upstream header value outside visible ASCII is passed on percent-encoded', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({
    script: () => ({ kind: 'raw', status: 200, body: '{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[]}', headers: { 'content-type': 'application/json; profile=caf\u00e9' } }),
  });
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
  t.after(() => gateway.close());
  const response = await send(gateway, '/v1/chat/completions', { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(response.status, 200);
  // whatever the bytes decoded to, the client gets them percent-encoded, in visible ASCII
  assert.match(response.headers.get('content-type')!, /^application\/json; profile=caf(%[0-9A-F]{2})+$/);
  assert.equal(JSON.parse(await response.text()).id, 'x');
});

/**
 * Makes the gateway's own code throw for requests carrying `x-test-throw`: `head` on the first
 * head written for them (where a bad header value used to throw), `write` on their second body
 * write (inside a stream, after the head).
 */
function injectThrows(t: { after: (fn: () => void) => void }): void {
  const prototype = ServerResponse.prototype;
  const writeHead = prototype.writeHead;
  const write = prototype.write;
  const heads = new WeakSet<ServerResponse>();
  const writes = new WeakMap<ServerResponse, number>();
  const mode = (response: ServerResponse) => response.req?.headers['x-test-throw'];
  prototype.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (mode(this) === 'head' && !heads.has(this)) {
      heads.add(this);
      throw new TypeError('injected: writeHead threw');
    }
    return (writeHead as (...rest: unknown[]) => ServerResponse).apply(this, args);
  } as typeof prototype.writeHead;
  prototype.write = function (this: ServerResponse, ...args: unknown[]) {
    if (mode(this) === 'write') {
      const count = (writes.get(this) ?? 0) + 1;
      writes.set(this, count);
      if (count === 2) throw new TypeError('injected: write threw');
    }
    return (write as (...rest: unknown[]) => boolean).apply(this, args);
  } as typeof prototype.write;
  t.after(() => {
    prototype.writeHead = writeHead;
    prototype.write = write;
  });
}

test('an exception in an exchange always ends the response, in the caller\'s dialect, without blaming the provider', { timeout: 30_000 }, async (t) => {
  injectThrows(t);
  const mock = await startMockUpstream({ streamDeltas: ['one', ' two', ' three', ' four'] });
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
  t.after(() => gateway.close());
  let n = 0;
  for (const { kind, path, body } of PATHS) {
    // before the head: a 500 in the dialect's error shape, streamed or not
    for (const stream of [false, true]) {
      const label = `${kind} ${stream ? 'streamed' : 'whole'}, throw at the head`;
      const id = `throw-head-${n++}`;
      const response = await send(gateway, path, body('mock-gpt', stream), { 'x-test-throw': 'head', 'x-request-id': id });
      assert.equal(response.status, 500, label);
      const error = await response.json() as { type?: string; error?: { message?: string; type?: string } };
      if (kind === 'translated') assert.equal(error.type, 'error', label);
      assert.match(error.error?.message ?? '', /Internal gateway error/, label);
      const line = await accessLine(gateway, id);
      assert.equal(line.status, 500, `${label}: the access log says what the client got`);
      assert.equal(line.error, 'SWY_ERR_GATEWAY_INTERNAL', label);
    }
    // inside a stream: the events so far, then the dialect's error event (the gateway's, not the provider's)
    const label = `${kind} streamed, throw mid-stream`;
    const id = `throw-write-${n++}`;
    const response = await send(gateway, path, body('mock-gpt', true), { 'x-test-throw': 'write', 'x-request-id': id });
    assert.equal(response.status, 200, label);
    const text = await response.text();
    const events = parseSse(text);
    const last = JSON.parse(events.at(-1)!.data) as { type?: string; error?: { message?: string } };
    if (kind === 'translated') assert.equal(events.at(-1)!.event, 'error', label);
    assert.match(last.error?.message ?? '', /Internal gateway error/, label);
    assert.doesNotMatch(text, /Provider 'main'/, `${label}: the provider is not blamed`);
    const line = await accessLine(gateway, id);
    assert.equal(line.status, 200, label);
    assert.equal(line.error, 'SWY_ERR_GATEWAY_INTERNAL', label);
  }
  assert.equal(await failures(gateway), 0, 'the gateway\'s own failures never count against the provider');
  const scrape = await gateway.metrics.scrape();
  assert.doesNotMatch(scrape, /switchyard_upstream_attempts_total\{provider="main",outcome="error"\} [1-9]/, 'nor as failed attempts');
  // and the next request is answered as usual
  const next = await send(gateway, '/v1/chat/completions', { model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(next.status, 200);
  await next.arrayBuffer();
});
