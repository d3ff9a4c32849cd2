// A client that leaves stops everything the runner was doing for it: a back-off timer (no second
// request), a media download before the first dispatch (no request at all), an attempt waiting for
// its first byte, a stream being forwarded or translated (the upstream socket closes promptly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestGateway } from '../helpers/gateway.ts';
import type { Behavior } from '../helpers/mock-upstream.ts';
import { ANTHROPIC_HEADERS, chatBody, chunk, FAST_RETRY, openaiProvider, sleep, startGatewayFor, startMocks, status } from '../helpers/resilience.ts';
import { parseSse, readUntilEvents } from '../helpers/sse.ts';

const T = { timeout: 15_000 };
/** Upper bound for "the upstream socket closed promptly": generous, the machine is noisy. */
const CLOSE_WITHIN_MS = 1000;

/** Starts a POST over a fresh connection; the caller decides when to read or destroy. */
function startPost(gateway: TestGateway, path: string, body: unknown, headers: Record<string, string> = {}): { outgoing: http.ClientRequest; response: Promise<http.IncomingMessage> } {
  const text = JSON.stringify(body);
  const outgoing = http.request(`${gateway.url}${path}`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers },
  });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    outgoing.on('response', resolve);
    outgoing.on('error', reject);
  });
  response.catch(() => {});
  outgoing.on('error', () => {});
  outgoing.end(text);
  return { outgoing, response };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await sleep(5);
  assert.ok(condition(), what);
}

async function accessLine(gateway: TestGateway): Promise<Record<string, unknown>> {
  for (let i = 0; i < 300; i++) {
    const line = gateway.logText().split('\n').filter((entry) => entry.length > 0).map((entry) => JSON.parse(entry) as Record<string, unknown>).find((entry) => entry.msg === 'request');
    if (line !== undefined) return line;
    await sleep(10);
  }
  assert.fail(`no access log line; have:\n${gateway.logText()}`);
}

test('a client that leaves during a back-off wait: the retry is never sent', T, async (t) => {
  const { up } = await startMocks(t, { up: () => status(429, 'Rate limit reached.', { 'retry-after': '1' }) });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', up)],
    models: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 2000 } }],
  });
  const { outgoing } = startPost(gateway, '/v1/chat/completions', chatBody('a', { stream: true }));
  await up.waitForRequests(1);
  await sleep(100);
  outgoing.destroy();
  await until(() => gateway.gateway.inflight === 0, 'the request is over');
  const line = await accessLine(gateway);
  assert.equal(line.aborted, true);
  await sleep(1300); // past the Retry-After
  assert.equal(up.requests.length, 1, 'no retry for a client that left');
});

test('a client that leaves while its image is being downloaded (before the first dispatch): no upstream request at all', T, async (t) => {
  const mediaSockets: Socket[] = [];
  let mediaRequests = 0;
  const media = http.createServer(() => { mediaRequests++; }); // never answers
  media.on('connection', (socket) => mediaSockets.push(socket));
  await new Promise<void>((resolve) => media.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { media.closeAllConnections(); media.close(() => resolve()); }));
  const imageUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}/cat.png`;

  const { google } = await startMocks(t, { google: () => ({ kind: 'default' }) });
  const gateway = await startGatewayFor(t, {
    allowPrivateMedia: true,
    providers: [{ name: 'google', dialect: 'gemini', baseUrl: `${google.url}/v1beta`, apiKeys: ['g-key'], auth: { header: 'x-goog-api-key', prefix: '' }, models: ['gemini-x'] }],
    models: [{ name: 'a', targets: [{ provider: 'google', model: 'gemini-x' }], retry: FAST_RETRY }],
  });
  const { outgoing } = startPost(gateway, '/v1/chat/completions', chatBody('a', {
    messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: imageUrl } }] }],
  }));
  await until(() => mediaRequests === 1, 'the gateway started the download');
  const socket = mediaSockets[0]!;
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
  const abortedAt = Date.now();
  outgoing.destroy();
  const closedAt = await closed;
  assert.ok(closedAt - abortedAt <= CLOSE_WITHIN_MS, `the download stopped ${closedAt - abortedAt} ms after the client left`);
  await sleep(200);
  assert.equal(google.requests.length, 0, 'never dispatched');
  assert.equal(google.openSockets(), 0, 'not even a connection');
});

test('a client that leaves while the attempt waits for its first byte: the upstream socket closes, nothing is retried', T, async (t) => {
  const { up } = await startMocks(t, { up: () => ({ kind: 'no-response' }) });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('p', up)],
    models: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry: FAST_RETRY, timeouts: { firstByteMs: 5000 } }],
  });
  const { outgoing } = startPost(gateway, '/v1/chat/completions', chatBody('a', { stream: true }));
  await up.waitForRequests(1);
  const abortedAt = Date.now();
  outgoing.destroy();
  const closedAt = await up.socketClosed(0);
  assert.ok(closedAt - abortedAt <= CLOSE_WITHIN_MS, `upstream socket closed ${closedAt - abortedAt} ms after the client left`);
  await sleep(200);
  assert.equal(up.requests.length, 1);
});

const slowStream = (): Behavior => ({ kind: 'stream', events: Array.from({ length: 100 }, (_, i) => chunk(` w${i}`)), intervalMs: 50 });

for (const surface of ['openai', 'anthropic'] as const) {
  test(`a client that leaves mid-stream (${surface === 'openai' ? 'passed through' : 'translated to Anthropic'}): the upstream socket closes within ${CLOSE_WITHIN_MS} ms, no retry`, T, async (t) => {
    const { up } = await startMocks(t, { up: () => slowStream() });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('p', up)],
      models: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry: FAST_RETRY }],
    });
    const { outgoing, response } = surface === 'openai'
      ? startPost(gateway, '/v1/chat/completions', chatBody('a', { stream: true }))
      : startPost(gateway, '/v1/messages', { model: 'a', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }, ANTHROPIC_HEADERS);
    const incoming = await response;
    assert.equal(incoming.statusCode, 200);
    const received = await readUntilEvents(incoming, 4);
    const abortedAt = Date.now();
    outgoing.destroy();
    const closedAt = await up.socketClosed(0);
    assert.ok(closedAt - abortedAt <= CLOSE_WITHIN_MS, `upstream socket closed ${closedAt - abortedAt} ms after the client left`);
    const line = await accessLine(gateway);
    assert.equal(line.aborted, true);
    await sleep(100);
    assert.equal(up.requests.length, 1, 'no retry after a client abort');
  });
}
