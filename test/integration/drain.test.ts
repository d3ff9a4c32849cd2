// Graceful shutdown: drain stops accepting connections at once, lets in-flight streams finish,
// and reports whether everything finished within the time allowed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstreamOptions } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const chatBody = JSON.stringify({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] });

/** Starts a stream and resolves once its first events have arrived; `rest` resolves with the whole text. */
async function startStream(gateway: TestGateway): Promise<{ rest: Promise<string> }> {
  const incoming = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const outgoing = http.request(`${gateway.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, resolve);
    outgoing.on('error', reject);
    outgoing.end(chatBody);
  });
  assert.equal(incoming.statusCode, 200);
  incoming.setEncoding('utf8');
  let text = '';
  const rest = new Promise<string>((resolve, reject) => {
    incoming.on('end', () => resolve(text));
    incoming.on('error', reject);
    incoming.on('aborted', () => reject(new Error('stream aborted')));
  });
  rest.catch(() => {});
  await new Promise<void>((resolve) => {
    incoming.on('data', (data: string) => {
      text += data;
      if (parseSse(text).length >= 2) resolve();
    });
  });
  return { rest };
}

function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function setup(t: TestContext, options: MockUpstreamOptions): Promise<TestGateway> {
  const mock = await startMockUpstream(options);
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
  t.after(() => gateway.close());
  return gateway;
}

test('drain lets an in-flight stream finish with [DONE], refuses new connections, resolves true', async (t) => {
  const deltas = Array.from({ length: 25 }, (_, i) => ` p${i}`);
  const gateway = await setup(t, { streamDeltas: deltas, streamIntervalMs: 30 });
  const { rest } = await startStream(gateway);

  const drained = gateway.drain(5000);
  assert.equal(await connectOutcome(gateway.port), 'ECONNREFUSED', 'no new connections once drain has started');

  const text = await rest;
  const events = parseSse(text);
  assert.equal(events.at(-1)!.data, '[DONE]');
  const content = events.slice(0, -1).map((event) => JSON.parse(event.data).choices[0]?.delta?.content ?? '').join('');
  assert.equal(content, deltas.join(''));
  assert.equal(await drained, true);
  assert.equal(gateway.server.listening, false);
});

test('drain resolves false when a stream outlives the timeout, and still shuts down', async (t) => {
  const chunk = JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta: { content: 'x' }, finish_reason: null }] });
  const gateway = await setup(t, { script: () => ({ kind: 'stream', events: [chunk, chunk], thenBehavior: 'stall' }) });
  const { rest } = await startStream(gateway);
  assert.equal(await gateway.drain(300), false);
  assert.equal(gateway.server.listening, false);
  // the stalled stream was cut when the drain gave up; it never got a [DONE]
  const outcome = await rest.then((text) => text, (error: Error) => error.message);
  assert.ok(!outcome.includes('[DONE]'));
});
