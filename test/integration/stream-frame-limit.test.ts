// Translated streams are bounded like pass-through ones: an upstream that never ends a line, or
// never ends an event, is cut at the frame limit and the client gets an error event in its own
// dialect — while the gateway keeps answering other requests. Nothing here measures time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';
import { MAX_FRAME_BYTES } from '../../src/streaming/frame-limit.ts';

const PIECE = 64 * 1024;
/** Enough pieces to pass the frame limit by half again. */
const PIECES = Math.ceil((MAX_FRAME_BYTES * 1.5) / PIECE);
/** Slow enough that the gateway is asked for /healthz while the frame is still growing. */
const INTERVAL_MS = 2;

const openAiChunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const ollamaLine = (content: string) => `${JSON.stringify({ model: 'llama', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content }, done: false })}\n`;

/** One line that never ends: `data: {"x":"xxxx…` in pieces, no newline anywhere. */
function endlessLine(prefix: string): string[] {
  const pieces = [prefix];
  const filler = 'x'.repeat(PIECE);
  for (let i = 0; i < PIECES; i++) pieces.push(filler);
  return pieces;
}

/** Data lines that never meet a blank line: one event that only grows. */
function endlessEvent(): string[] {
  const line = `data: ${'y'.repeat(PIECE - 7)}\n`;
  const pieces: string[] = [];
  for (let i = 0; i < PIECES; i++) pieces.push(line);
  return pieces;
}

async function setup(t: { after(fn: () => unknown): void }, dialect: 'openai' | 'ollama', chunks: string[], contentType: string): Promise<{ mock: MockUpstream; gateway: TestGateway }> {
  const mock = await startMockUpstream({ script: () => ({ kind: 'chunks', contentType, chunks, intervalMs: INTERVAL_MS, thenBehavior: 'stall' }) });
  t.after(() => mock.close());
  const baseUrl = dialect === 'openai' ? `${mock.url}/v1` : mock.url;
  const gateway = await startTestGateway({ providers: [{ name: 'upstream', dialect, baseUrl, models: ['mock-gpt'] }] });
  t.after(() => gateway.close());
  return { mock, gateway };
}

/** Asks for /healthz while the stream is open; it must be answered. */
async function healthWhileStreaming(gateway: TestGateway): Promise<void> {
  const health = await fetch(`${gateway.url}/healthz`);
  assert.equal(health.status, 200, 'the gateway answers /healthz while the oversized frame arrives');
  await health.arrayBuffer();
}

const anthropicRequest = { model: 'mock-gpt', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] };

async function streamAnthropic(gateway: TestGateway): Promise<{ status: number; events: { event?: string; data: string }[] }> {
  const response = await fetch(`${gateway.url}/v1/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(anthropicRequest),
  });
  const body = response.text();
  await healthWhileStreaming(gateway);
  return { status: response.status, events: parseSse(await body) };
}

function assertAnthropicFrameError(events: { event?: string; data: string }[]): void {
  const last = events.at(-1)!;
  assert.equal(last.event, 'error', 'the stream ends with an Anthropic error event');
  const body = JSON.parse(last.data) as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'api_error');
  assert.match(body.error.message, /larger than 8 MiB \(the gateway's frame limit\)/);
  assert.ok(!events.some((event) => event.event === 'message_stop'), 'never a clean end');
}

test('anthropic client, openai provider: a line that never ends is cut at the frame limit with an error event', { timeout: 60_000 }, async (t) => {
  const { mock, gateway } = await setup(t, 'openai', [openAiChunk('Hello'), openAiChunk(' there'), ...endlessLine('data: {"x":"')], 'text/event-stream');
  const { status, events } = await streamAnthropic(gateway);
  assert.equal(status, 200, 'committed before the oversized line');
  const text = events.filter((event) => event.event === 'content_block_delta').map((event) => (JSON.parse(event.data) as { delta: { text: string } }).delta.text).join('');
  assert.equal(text, 'Hello there', 'what came whole before the oversized line reached the client');
  assertAnthropicFrameError(events);
  assert.equal(mock.requests.length, 1, 'after the commit: no retry');
});

test('anthropic client, openai provider: data lines that never meet a blank line are cut at the frame limit', { timeout: 60_000 }, async (t) => {
  const { gateway } = await setup(t, 'openai', [openAiChunk('Hello'), ...endlessEvent()], 'text/event-stream');
  const { status, events } = await streamAnthropic(gateway);
  assert.equal(status, 200);
  assertAnthropicFrameError(events);
});

test('anthropic client, openai provider: an oversized first line fails the start with a 502 in the dialect', { timeout: 60_000 }, async (t) => {
  const { gateway } = await setup(t, 'openai', endlessLine('data: {"x":"'), 'text/event-stream');
  const response = await fetch(`${gateway.url}/v1/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(anthropicRequest),
  });
  assert.equal(response.status, 502);
  const body = await response.json() as { type: string; error: { type: string; message: string } };
  assert.equal(body.type, 'error');
  assert.match(body.error.message, /frame limit/);
  assert.equal(response.headers.get('x-switchyard-error-code'), 'SWY_ERR_UPSTREAM_PROTOCOL');
});

test('openai client, ollama provider: an NDJSON line that never ends is cut at the frame limit with an error event', { timeout: 60_000 }, async (t) => {
  const { gateway } = await setup(t, 'ollama', [ollamaLine('Hello'), ...endlessLine('{"message":{"content":"')], 'application/x-ndjson');
  const response = await streamedChat(gateway.url);
  const body = response.text();
  await healthWhileStreaming(gateway);
  assert.equal(response.status, 200);
  const events = parseSse(await body);
  assert.ok(!events.some((event) => event.data === '[DONE]'), 'never a clean end');
  const last = JSON.parse(events.at(-1)!.data) as { error?: { message: string } };
  assert.match(last.error?.message ?? '', /larger than 8 MiB \(the gateway's frame limit\)/);
  const text = events.slice(0, -1).map((event) => (JSON.parse(event.data) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '').join('');
  assert.equal(text, 'Hello');
});

test('openai client, openai provider (pass-through): the same limit ends the stream with an error event', { timeout: 60_000 }, async (t) => {
  const { gateway } = await setup(t, 'openai', [openAiChunk('Hello'), ...endlessEvent()], 'text/event-stream');
  const response = await streamedChat(gateway.url);
  const body = response.text();
  await healthWhileStreaming(gateway);
  assert.equal(response.status, 200);
  const events = parseSse(await body);
  const last = JSON.parse(events.at(-1)!.data) as { error?: { message: string } };
  assert.match(last.error?.message ?? '', /larger than 8 MiB \(the gateway's frame limit\)/);
});

function streamedChat(base: string): Promise<Response> {
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
}
