// Cancellation and back-pressure: a client that goes away stops the upstream work at once (the
// upstream socket closes), a client that leaves mid-body never causes an upstream request, and a
// slow reader still gets every event, in order.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstreamOptions, type MockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse, readUntilEvents } from '../helpers/sse.ts';

/** Upper bound for "the upstream socket closed promptly": generous, the machine is noisy. */
const CLOSE_WITHIN_MS = 1000;

async function setup(t: TestContext, options: MockUpstreamOptions = {}, idleMs = 10_000): Promise<{ mock: MockUpstream; gateway: TestGateway }> {
  const mock = await startMockUpstream(options);
  t.after(() => mock.close());
  const gateway = await startTestGateway({
    providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], timeouts: { connectMs: 2000, firstByteMs: 10_000, idleMs, totalMs: 0 } }],
  });
  t.after(() => gateway.close());
  return { mock, gateway };
}

const chatBody = (stream: boolean) => JSON.stringify({ model: 'mock-gpt', stream, messages: [{ role: 'user', content: 'hi' }] });

/** Starts a POST over a fresh connection; the caller decides when to read or destroy. */
function startPost(gateway: TestGateway, body: string): { outgoing: http.ClientRequest; response: Promise<http.IncomingMessage> } {
  const outgoing = http.request(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    outgoing.on('response', resolve);
    outgoing.on('error', reject);
  });
  outgoing.end(body);
  return { outgoing, response };
}

function logLines(gateway: TestGateway): Record<string, unknown>[] {
  return gateway.logText().split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), 'condition not reached');
}

async function waitForAccessLog(gateway: TestGateway, match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (let i = 0; i < 300; i++) {
    const line = logLines(gateway).find((entry) => entry.msg === 'request' && match(entry));
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`no matching access log line; have:\n${gateway.logText()}`);
}

test('a client that aborts mid-stream closes the upstream socket promptly', async (t) => {
  const deltas = Array.from({ length: 100 }, (_, i) => ` w${i}`);
  const { mock, gateway } = await setup(t, { streamDeltas: deltas, streamIntervalMs: 50 });
  const { outgoing, response } = startPost(gateway, chatBody(true));
  outgoing.on('error', () => {});
  const incoming = await response;
  assert.equal(incoming.statusCode, 200);
  const received = await readUntilEvents(incoming, 3);
  const abortedAt = Date.now();
  outgoing.destroy();
  const closedAt = await mock.socketClosed(0);
  assert.ok(closedAt - abortedAt <= CLOSE_WITHIN_MS, `upstream socket closed ${closedAt - abortedAt} ms after the client left`);
  assert.ok(!received.includes('[DONE]'));
  const line = await waitForAccessLog(gateway, (entry) => entry.stream === true);
  assert.equal(line.aborted, true);
  assert.equal(line.status, 200, 'the status the client got before it left');
  assert.equal(mock.requests.length, 1, 'no retry after a client abort');
});

test('a client that aborts a non-streaming request while the upstream thinks closes the upstream socket', async (t) => {
  const { mock, gateway } = await setup(t, { script: () => ({ kind: 'delay', ms: 5000 }) });
  const { outgoing, response } = startPost(gateway, chatBody(false));
  response.catch(() => {});
  outgoing.on('error', () => {});
  await mock.waitForRequests(1);
  const abortedAt = Date.now();
  outgoing.destroy();
  const closedAt = await mock.socketClosed(0);
  assert.ok(closedAt - abortedAt <= CLOSE_WITHIN_MS, `upstream socket closed ${closedAt - abortedAt} ms after the client left`);
  const line = await waitForAccessLog(gateway, () => true);
  assert.equal(line.aborted, true);
  assert.equal(line.status, 499, 'logged as nginx logs a client that left before the answer');
  assert.equal(line.stream, false);
});

test('a client that sends headers and part of the body, then disconnects, causes no upstream request', async (t) => {
  const { mock, gateway } = await setup(t);
  const socket = net.connect(gateway.port, '127.0.0.1');
  t.after(() => socket.destroy());
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const body = chatBody(false);
  socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`);
  socket.write(body.slice(0, 20));
  // Leave only once the gateway has the request in hand (it is reading the body).
  await until(() => gateway.gateway.inflight === 1);
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the partial body arrive too
  socket.destroy();
  const line = await waitForAccessLog(gateway, () => true);
  assert.equal(line.aborted, true);
  assert.equal(mock.requests.length, 0);
  assert.equal(mock.openSockets(), 0, 'not even a connection was opened upstream');

  // The gateway is unaffected: the next request is the first one the upstream sees.
  const reply = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(reply.status, 200);
  await reply.text();
  assert.equal(mock.requests.length, 1);
  assert.equal(mock.requests[0]!.rawBody.toString('utf8'), body);
});

async function readSlowly(gateway: TestGateway, pauseMs: number): Promise<string> {
  const { response } = startPost(gateway, chatBody(true));
  const incoming = await response;
  assert.equal(incoming.statusCode, 200);
  // Stop reading for a while so the gateway's socket buffer fills and back-pressure reaches the
  // upstream, then read in small sips.
  incoming.pause();
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
  const decoder = new TextDecoder();
  let text = '';
  let chunks = 0;
  for await (const chunk of incoming) {
    text += decoder.decode(chunk as Buffer, { stream: true });
    if (++chunks <= 20) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return text + decoder.decode();
}

function assertEveryDelta(text: string, deltas: readonly string[]): void {
  const events = parseSse(text);
  assert.ok(!events.some((event) => JSON.parse(event.data === '[DONE]' ? '{}' : event.data).error !== undefined), 'no error event');
  assert.equal(events.at(-1)!.data, '[DONE]');
  const contents = events.slice(0, -1)
    .map((event) => JSON.parse(event.data).choices[0]?.delta?.content)
    .filter((content): content is string => typeof content === 'string' && content.length > 0);
  assert.equal(contents.length, deltas.length);
  for (let i = 0; i < deltas.length; i++) assert.equal(contents[i], deltas[i], `event ${i}`);
}

// ~3.5 MB: more than the loopback socket buffers absorb, so the gateway's writes do back up.
const bigDeltas = Array.from({ length: 2000 }, (_, i) => `<${i}>${'x'.repeat(1500)}`);

test('a client that reads a large stream slowly still gets every event, in order', async (t) => {
  const { gateway } = await setup(t, { streamDeltas: bigDeltas });
  assertEveryDelta(await readSlowly(gateway, 300), bigDeltas);
});

test('a slow reader is not mistaken for an idle upstream (paused longer than idleMs)', async (t) => {
  const { gateway } = await setup(t, { streamDeltas: bigDeltas }, 300);
  assertEveryDelta(await readSlowly(gateway, 1500), bigDeltas);
});
