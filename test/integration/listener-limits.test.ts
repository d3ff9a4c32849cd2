// What a client can hold without sending anything useful: connections that never finish their
// headers are closed and, at the connection cap, replaced by new ones, so /healthz keeps answering
// under a flood; an upload that stalls is cut with 408, while an answer that streams for longer
// than the request timeout is not (Node's requestTimeout covers receiving the request only).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { ServerConfig } from '../../src/config/types.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { assertCleanOpenAIStream, chunk, finishChunk, openaiStreamText, post } from '../helpers/resilience.ts';

const PIECES = Array.from({ length: 25 }, (_, i) => `p${i} `);

async function start(t: TestContext, server: Partial<ServerConfig>): Promise<{ gateway: TestGateway; mock: MockUpstream }> {
  // a stream of 25 events 100 ms apart: longer than the request timeout below
  const mock = await startMockUpstream({ script: () => ({ kind: 'stream', events: [...PIECES.map(chunk), finishChunk(), '[DONE]'], intervalMs: 100 }) });
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'p', baseUrl: `${mock.url}/v1`, models: ['*'] }], server });
  t.after(() => gateway.close());
  return { gateway, mock };
}

interface RawClient {
  socket: net.Socket;
  /** Everything the server sent. */
  received(): string;
  closed: Promise<void>;
}

/** A raw connection that writes `text` once connected, and keeps what comes back. */
function rawClient(port: number, text: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (data: Buffer) => chunks.push(data));
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(text);
      resolve({ socket, received: () => Buffer.concat(chunks).toString('utf8'), closed });
    });
    socket.once('error', reject);
  });
}

const streamBody = { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] };

test('a flood of half-open connections past the cap: /healthz answers, a running stream finishes, the flood is closed', async (t) => {
  const { gateway, mock } = await start(t, { headersTimeoutMs: 1000, requestTimeoutMs: 2000, maxConnections: 50 });
  const stream = post(gateway, '/v1/chat/completions', streamBody);
  await mock.waitForRequests(1);
  const flood: RawClient[] = [];
  for (let i = 0; i < 300; i++) flood.push(await rawClient(gateway.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '));
  for (let i = 0; i < 3; i++) {
    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
  }
  const open = await new Promise<number>((resolve, reject) => gateway.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
  assert.ok(open <= 50, `${open} connections open, over the cap of 50`);
  // every half-open connection is closed: evicted at the cap, or cut by the headers timeout
  await Promise.all(flood.map((client) => client.closed));
  for (const client of flood) assert.ok(client.received() === '' || client.received().startsWith('HTTP/1.1 408'), client.received());
  assert.equal(openaiStreamText(assertCleanOpenAIStream(await stream)), PIECES.join(''), 'the stream, busy at the cap, was never evicted');
});

test('an upload that stalls is cut with 408, while an answer streaming for longer than the request timeout is not', async (t) => {
  const { gateway } = await start(t, { headersTimeoutMs: 500, requestTimeoutMs: 1000 });
  const stream = post(gateway, '/v1/chat/completions', streamBody);
  const body = JSON.stringify(streamBody);
  const slow = await rawClient(gateway.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
  await slow.closed;
  assert.match(slow.received(), /^HTTP\/1\.1 408 /);
  assert.equal(openaiStreamText(assertCleanOpenAIStream(await stream)), PIECES.join(''));
  assert.ok(gateway.logs.some((line) => line.msg === 'request' && line.aborted === true && line.status === 408 && line.attempts === 0), 'the cut upload is logged as aborted with the 408 it got, nothing sent upstream');
  // and a connection that sends nothing at all is closed by the headers timeout
  const silent = await rawClient(gateway.port, '');
  await silent.closed;
});

test('idle keep-alive connections are not cut by the short headers timeout', async (t) => {
  const { gateway } = await start(t, { headersTimeoutMs: 300, requestTimeoutMs: 600, keepAliveTimeoutMs: 10_000 });
  const client = await rawClient(gateway.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const open = (): boolean => !client.socket.destroyed && client.socket.readyState === 'open';
  // idle for several headers timeouts, then a second request on the same connection
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.ok(open(), 'still open');
  client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  await client.closed;
  assert.equal(client.received().match(/HTTP\/1\.1 200 OK/g)?.length, 2, client.received());
});
