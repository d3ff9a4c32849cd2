import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { Value } from '@sinclair/typebox/value';
import { webhook, WebhookConfigSchema, type WebhookConfig, type WebhookSender } from '../../src/plugins/builtin/webhook.ts';
import type { CompletionSummary } from '../../src/plugins/api.ts';
import { fakePluginContext } from '../helpers/plugin-context.ts';

interface Received { headers: IncomingMessage['headers']; url: string; body: Record<string, unknown> }

/** A loopback server; `answer` decides each request's status (or holds it until released). */
async function hookServer(answer: (index: number, response: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => { text += chunk; });
    request.on('end', () => {
      received.push({ headers: request.headers, url: request.url ?? '', body: JSON.parse(text) as Record<string, unknown> });
      answer(received.length - 1, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/secret-path?token=t0ps3cret`;
  return { received, url, close: () => { server.closeAllConnections(); server.close(); } };
}

function summary(requestId: string): CompletionSummary {
  return {
    requestId, status: 200, keyId: 'k1', model: 'gpt-test', provider: 'openai', upstreamModel: 'gpt-test-1', stream: false, attempts: 1,
    usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.0001, durationMs: 12, firstByteMs: 5, cached: false, aborted: false, error: undefined,
  };
}

async function sender(config: WebhookConfig, logs: string[]): Promise<WebhookSender> {
  assert.ok(Value.Check(WebhookConfigSchema, config));
  return (await webhook.setup!(config, { dir: '', log: (message) => logs.push(message) })) as WebhookSender;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('delivers the summary with the static fields and headers; onComplete returns at once', async () => {
  const server = await hookServer((_, response) => response.end('ok'));
  const logs: string[] = [];
  const plugin = await sender({ url: server.url, headers: { authorization: 'Bearer hook-secret' }, fields: { environment: 'test', status: 'overridden?' } }, logs);
  try {
    const result = plugin.onComplete(fakePluginContext<WebhookConfig>(), summary('r1'));
    assert.equal(result, undefined, 'no promise for the caller to wait on');
    await until(() => plugin.stats.delivered === 1);
    const [hit] = server.received;
    assert.equal(hit!.url, '/hooks/secret-path?token=t0ps3cret');
    assert.equal(hit!.headers.authorization, 'Bearer hook-secret');
    assert.equal(hit!.headers['content-type'], 'application/json');
    assert.deepEqual(hit!.body, { environment: 'test', ...JSON.parse(JSON.stringify(summary('r1'))) }, 'summary fields win over static ones');
    assert.deepEqual(logs, []);
  } finally {
    await plugin.dispose();
    server.close();
  }
});

test('retries after a 500 and after a refused connection, with back-off; gives up after max_retries, logging once', async () => {
  const server = await hookServer((index, response) => { response.statusCode = index === 0 ? 500 : 200; response.end(); });
  const logs: string[] = [];
  const plugin = await sender({ url: server.url, backoff_ms: 5 }, logs);
  try {
    plugin.onComplete(fakePluginContext<WebhookConfig>(), summary('r1'));
    await until(() => plugin.stats.delivered === 1);
    assert.equal(server.received.length, 2);
    assert.deepEqual(server.received.map((hit) => hit.body.requestId), ['r1', 'r1']);
    assert.equal(plugin.stats.failed, 0);
  } finally {
    await plugin.dispose();
    server.close();
  }
  const down = await sender({ url: server.url, backoff_ms: 1, max_retries: 2, headers: { 'x-token': 'never-logged' } }, logs);
  down.onComplete(fakePluginContext<WebhookConfig>(), summary('a'));
  down.onComplete(fakePluginContext<WebhookConfig>(), summary('b'));
  await until(() => down.stats.failed === 2);
  await down.dispose();
  assert.equal(logs.length, 1, 'one line for the burst of failures');
  assert.match(logs[0]!, /could not be delivered to http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  assert.doesNotMatch(logs.join('\n'), /secret-path|t0ps3cret|never-logged/);
});

test('a 4xx other than 408/429 is final', async () => {
  const server = await hookServer((_, response) => { response.statusCode = 404; response.end(); });
  const logs: string[] = [];
  const plugin = await sender({ url: server.url, backoff_ms: 1 }, logs);
  try {
    plugin.onComplete(fakePluginContext<WebhookConfig>(), summary('r1'));
    await until(() => plugin.stats.failed === 1);
    assert.equal(server.received.length, 1);
    assert.match(logs[0]!, /status 404/);
  } finally {
    await plugin.dispose();
    server.close();
  }
});

test('the queue is bounded: the oldest summaries are dropped, counted and logged once per burst', async () => {
  const held: ServerResponse[] = [];
  const server = await hookServer((_, response) => held.push(response));
  const logs: string[] = [];
  const plugin = await sender({ url: server.url, concurrency: 1, max_queue: 3 }, logs);
  try {
    for (let i = 0; i < 10; i++) plugin.onComplete(fakePluginContext<WebhookConfig>(), summary(`r${i}`));
    assert.deepEqual(plugin.stats, { queued: 3, inFlight: 1, delivered: 0, failed: 0, dropped: 6 });
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /queue full \(3 summaries waiting/);
    // release each held answer as it arrives
    const release = setInterval(() => { for (const response of held.splice(0)) response.end(); }, 5);
    await until(() => plugin.stats.delivered === 4);
    clearInterval(release);
    assert.deepEqual(server.received.map((hit) => hit.body.requestId), ['r0', 'r7', 'r8', 'r9']);
    assert.match(logs[1]!, /6 summaries were dropped/);
  } finally {
    await plugin.dispose();
    server.close();
  }
});

test('dispose sends what it can within flush_timeout_ms, then stops and drops the rest; later summaries are ignored', async () => {
  const server = await hookServer(() => {}); // never answers
  const logs: string[] = [];
  const plugin = await sender({ url: server.url, concurrency: 1, flush_timeout_ms: 50 }, logs);
  plugin.onComplete(fakePluginContext<WebhookConfig>(), summary('r1'));
  plugin.onComplete(fakePluginContext<WebhookConfig>(), summary('r2'));
  await until(() => server.received.length === 1);
  await plugin.dispose();
  assert.deepEqual(plugin.stats, { queued: 0, inFlight: 0, delivered: 0, failed: 0, dropped: 2 });
  assert.match(logs.at(-1)!, /stopped with 2 summaries unsent/);
  plugin.onComplete(fakePluginContext<WebhookConfig>(), summary('r3'));
  assert.equal(plugin.stats.queued, 0);
  server.close();
});

test('dispose waits for a queue that drains in time', async () => {
  const server = await hookServer((_, response) => setTimeout(() => response.end(), 10));
  const logs: string[] = [];
  const plugin = await sender({ url: server.url, concurrency: 1, flush_timeout_ms: 5000 }, logs);
  for (let i = 0; i < 3; i++) plugin.onComplete(fakePluginContext<WebhookConfig>(), summary(`r${i}`));
  await plugin.dispose();
  assert.equal(plugin.stats.delivered, 3);
  assert.deepEqual(logs, []);
  server.close();
});

test('the schema wants an http(s) URL', () => {
  assert.equal(Value.Check(WebhookConfigSchema, { url: 'ftp://x' }), false);
  assert.equal(Value.Check(WebhookConfigSchema, { url: 'https://hooks.example.com/x', max_queue: 0 }), false);
});
