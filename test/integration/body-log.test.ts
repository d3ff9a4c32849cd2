// Optional body capture: one request inspected by its id — the request as received, the answer as
// the client got it (stream events included), capped, keys redacted, credential headers dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

const CLIENT = 'sk-bodylog-client-key-0123456789';
const PROVIDER = 'sk-bodylog-provider-key-9876543210';

async function setup(t: import('node:test').TestContext, bodies?: { maxBytes: number; keep: number }) {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({
    keys: [CLIENT],
    providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], apiKeys: [PROVIDER] }],
    ...(bodies !== undefined ? { bodies } : {}),
  });
  t.after(() => gateway.close());
  const auth = { authorization: `Bearer ${CLIENT}` };
  const chat = async (content: string, stream = false) => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ model: 'mock-gpt', stream, messages: [{ role: 'user', content }] }),
    });
    await response.text();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the close event records it
    return response.headers.get('x-request-id')!;
  };
  const inspect = async (id?: string) => {
    const response = await fetch(`${gateway.url}/v0/requests${id === undefined ? '' : `?id=${encodeURIComponent(id)}`}`, { headers: auth });
    return { status: response.status, body: await response.json() as any };
  };
  return { chat, inspect };
}

test('a captured request shows both bodies, with keys redacted and credential headers left out', { timeout: 10_000 }, async (t) => {
  const { chat, inspect } = await setup(t, { maxBytes: 64 * 1024, keep: 10 });
  const id = await chat(`my key is ${PROVIDER}, keep it safe`);
  const { status, body } = await inspect(id);
  assert.equal(status, 200);
  assert.equal(body.id, id);
  assert.equal(body.status, 200);
  assert.equal(body.provider, 'main');
  assert.match(body.request.body, /keep it safe/);
  assert.ok(!body.request.body.includes(PROVIDER), 'the provider key is redacted from the kept request');
  assert.equal(body.request.headers.authorization, undefined);
  assert.match(body.response.body, /"chat.completion"/);
  assert.equal(body.response.truncated, false);
  assert.ok(!JSON.stringify(body).includes(CLIENT));

  const streamed = await inspect(await chat('stream it', true));
  assert.match(streamed.body.response.body, /data: \[DONE\]/);
  assert.match(streamed.body.response.headers['content-type'], /^text\/event-stream/);

  const list = await inspect();
  assert.deepEqual(list.body.data.map((entry: { id: string }) => entry.id).slice(0, 1), [streamed.body.id]);
});

test('bodies are cut at max_bytes and only the last `keep` requests are kept', { timeout: 10_000 }, async (t) => {
  const { chat, inspect } = await setup(t, { maxBytes: 100, keep: 2 });
  const first = await chat('x'.repeat(500));
  const { body } = await inspect(first);
  assert.equal(body.request.truncated, true);
  assert.ok(body.request.bytes > 500);
  assert.equal(Buffer.byteLength(body.request.body), 100);
  await chat('two');
  await chat('three');
  assert.equal((await inspect(first)).status, 404, 'the oldest was forgotten');
});

test('with capture off, /v0/requests says so', { timeout: 10_000 }, async (t) => {
  const { chat, inspect } = await setup(t);
  const id = await chat('hi');
  const { status, body } = await inspect(id);
  assert.equal(status, 404);
  assert.match(body.error.message, /logging\.bodies/);
});
