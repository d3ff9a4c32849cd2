// A stream that fails at its very start — a 200 whose first event is the dialect's error event,
// as Anthropic does with overloaded_error — is a failed attempt, not an answer: it is tried
// again (the client sees one clean stream) or, when nothing else can answer, passed on as sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior } from '../helpers/mock-upstream.ts';
import { anthropicStream } from '../conformance/dialects/anthropic.ts';
import { parseSse } from '../helpers/sse.ts';
import type { ScenarioAnswer } from '../conformance/types.ts';

const overloaded = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}';

function messages(url: string): Promise<Response> {
  return fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-x', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

const answer: ScenarioAnswer = { text: 'Hello there.', finish: 'stop', usage: { input: 5, output: 3 } };

/** One Anthropic provider (model claude-x) behind the mock, two tries per request. */
function anthropicGateway(mockUrl: string): ReturnType<typeof startTestGateway> {
  return startTestGateway({
    providers: [{ name: 'anthropic', dialect: 'anthropic', baseUrl: `${mockUrl}/v1`, models: ['claude-x'], auth: { header: 'x-api-key', prefix: '' } }],
    routing: { retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 10 } },
  });
}

test('an Anthropic stream that opens with overloaded_error is retried; the client sees one clean stream', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({
    script: (_request, index): Behavior => index === 0
      ? { kind: 'stream', events: [overloaded] }
      : { kind: 'stream', events: anthropicStream(answer, 'claude-x') },
  });
  t.after(() => mock.close());
  const gateway = await anthropicGateway(mock.url);
  t.after(() => gateway.close());
  const response = await messages(gateway.url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  const events = parseSse(await response.text());
  const types = events.map((event) => event.event);
  assert.equal(types.filter((type) => type === 'message_start').length, 1);
  assert.ok(!types.includes('error'), 'the failed start never reached the client');
  assert.equal(types.at(-1), 'message_stop');
  assert.equal(mock.requests.length, 2);
});

test('when nothing else can answer, the error event is passed on as the provider sent it', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({ script: (): Behavior => ({ kind: 'stream', events: [overloaded] }) });
  t.after(() => mock.close());
  const gateway = await anthropicGateway(mock.url);
  t.after(() => gateway.close());
  const response = await messages(gateway.url);
  assert.equal(response.status, 200);
  const events = parseSse(await response.text());
  assert.deepEqual(events.map((event) => event.event), ['error']);
  assert.match(events[0]!.data, /overloaded_error/);
  assert.equal(mock.requests.length, 2);
});
