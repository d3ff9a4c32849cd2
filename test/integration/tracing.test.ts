// OpenTelemetry export: a span per request and per attempt, GenAI attributes, the caller's
// traceparent followed, delivered over OTLP/HTTP to a collector on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

interface OtlpSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes: { key: string; value: Record<string, unknown> }[] }

function attribute(span: OtlpSpan, key: string): unknown {
  const found = span.attributes.find((entry) => entry.key === key);
  if (found === undefined) return undefined;
  const value = found.value;
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue;
}

async function collector(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('a retried request exports one server span and one client span per attempt, under the caller\'s trace', { timeout: 20_000 }, async (t) => {
  const otlp = await collector();
  t.after(() => otlp.close());
  const mock = await startMockUpstream({ script: (_request, index) => (index === 0 ? { kind: 'json', status: 500, body: { error: { message: 'boom' } } } : { kind: 'default' }) });
  t.after(() => mock.close());
  const gateway = await startTestGateway({
    providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], apiKeys: ['sk-trace-provider-key-123456'] }],
    routing: { retry: { attempts: 2, backoffMs: 1, maxBackoffMs: 5 } },
    tracing: { endpoint: otlp.url, serviceName: 'switchyard-test', sampleRatio: 1, headers: {} },
  });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 200);
  await response.text();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the response's close event
  await gateway.close(); // flushes the span queue
  const server = otlp.spans.find((span) => span.kind === 2)!;
  assert.ok(server !== undefined, `a server span: ${JSON.stringify(otlp.spans.map((span) => span.name))}`);
  assert.equal(server.traceId, traceId);
  assert.equal(server.parentSpanId, '00f067aa0ba902b7');
  assert.equal(server.name, 'chat mock-gpt');
  assert.equal(attribute(server, 'gen_ai.operation.name'), 'chat');
  assert.equal(attribute(server, 'gen_ai.request.model'), 'mock-gpt');
  assert.equal(attribute(server, 'gen_ai.response.model'), 'mock-gpt');
  assert.equal(attribute(server, 'gen_ai.usage.input_tokens'), 1);
  assert.equal(attribute(server, 'switchyard.attempts'), 2);
  assert.equal(attribute(server, 'http.response.status_code'), 200);
  const attempts = otlp.spans.filter((span) => span.kind === 3);
  assert.equal(attempts.length, 2);
  for (const attempt of attempts) {
    assert.equal(attempt.traceId, traceId);
    assert.equal(attempt.parentSpanId, server.spanId);
    assert.equal(attribute(attempt, 'gen_ai.provider.name'), 'openai');
  }
  assert.deepEqual(attempts.map((attempt) => attribute(attempt, 'http.response.status_code')), [500, 200]);
  assert.equal(attribute(attempts[0]!, 'error.type'), 'SWY_ERR_UPSTREAM_STATUS');
  assert.ok(!JSON.stringify(otlp.spans).includes('sk-trace-provider-key'), 'no key in any span');
});
