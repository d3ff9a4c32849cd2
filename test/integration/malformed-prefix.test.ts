// After the commit point, a read that holds good events followed by a broken one forwards the good
// events first, then ends the stream with the dialect's error event — nothing the provider sent
// whole is lost, and the stream still never ends cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

test('good events in the same read as a malformed one still reach the client before the error', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({
    script: () => ({
      kind: 'chunks', contentType: 'text/event-stream', intervalMs: 30,
      chunks: [chunk('Hello'), chunk(' there') + chunk(' friend') + 'data: {"choices": [\n\n' + chunk(' never')],
    }),
  });
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
  t.after(() => gateway.close());
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 200);
  const events = parseSse(await response.text()).map((event) => JSON.parse(event.data) as { choices?: { delta: { content?: string } }[]; error?: { message: string } });
  const text = events.flatMap((event) => event.choices?.map((choice) => choice.delta.content ?? '') ?? []).join('');
  assert.equal(text, 'Hello there friend', 'the whole events before the broken one were forwarded, nothing after it');
  assert.match(events.at(-1)!.error?.message ?? '', /malformed stream event/);
  assert.equal(mock.requests.length, 1, 'after the commit: no retry');
});
