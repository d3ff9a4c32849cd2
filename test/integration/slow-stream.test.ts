// A slow but live stream is never cut: only silence longer than idle_ms counts, whatever the
// stream's total length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

test('a token every 300 ms for 3 s passes through a 700 ms idle timeout whole', { timeout: 15_000 }, async (t) => {
  const pieces = Array.from({ length: 10 }, (_, i) => `w${i} `);
  const events = [
    ...pieces.map((content) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta: { content }, finish_reason: null }] })),
    JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    '[DONE]',
  ];
  const mock = await startMockUpstream({ script: () => ({ kind: 'stream', events, intervalMs: 300 }) });
  t.after(() => mock.close());
  const gateway = await startTestGateway({
    providers: [{ name: 'slow', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], timeouts: { connectMs: 1000, firstByteMs: 700, idleMs: 700, totalMs: 0 } }],
  });
  t.after(() => gateway.close());
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 200);
  const received = parseSse(await response.text());
  assert.equal(received.at(-1)!.data, '[DONE]');
  const text = received.slice(0, -1).map((event) => (JSON.parse(event.data) as { choices: { delta: { content?: string } }[] }).choices[0]!.delta.content ?? '').join('');
  assert.equal(text, pieces.join(''));
  assert.equal(mock.requests.length, 1);
});
