// Shared pieces of the resilience tests: mock upstreams and a gateway started per test (so health,
// cooldowns and session pins never leak between tests), one-call requests that read the whole
// answer, and the assertions every fault comes back to — what the client got, in its dialect,
// and which provider, model, attempt count and fallback the response headers name.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openAiError } from './default-answer.ts';
import { startTestGateway, type TestGateway, type TestGatewayOptions, type TestProvider } from './gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type MockUpstreamOptions, type RecordedRequest } from './mock-upstream.ts';
import { parseSse, type SseEvent } from './sse.ts';

/** The mock's default streamed answer, joined. */
export const MOCK_TEXT = 'Hello from the mock.';

/** Per-attempt timeouts small enough that a silent upstream fails fast. */
export const FAST_TIMEOUTS = { firstByteMs: 300, idleMs: 300 };
/** Two tries per target with a short back-off. */
export const FAST_RETRY = { attempts: 2, backoffMs: 10, maxBackoffMs: 200 };

/** Alias `a` → provider `p`, model `m`, with the fast retry and timeouts: the usual single-target route. */
export const ONE_TARGET = [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS }];

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts one mock per name; all are closed when the test ends. */
export async function startMocks<N extends string>(t: TestContext, scripts: Record<N, MockUpstreamOptions['script'] | MockUpstreamOptions>): Promise<Record<N, MockUpstream>> {
  const mocks = {} as Record<N, MockUpstream>;
  for (const name of Object.keys(scripts) as N[]) {
    const value = scripts[name];
    const options: MockUpstreamOptions = typeof value === 'function' ? { script: value } : (value ?? {});
    const mock = await startMockUpstream(options);
    t.after(() => mock.close());
    mocks[name] = mock;
  }
  return mocks;
}

/**
 * Starts a gateway closed when the test ends. Once the test is over, no attempt may still count as
 * in flight and no half-open probe may be left claimed: every path out of an attempt (answer,
 * failure, retry, client abort) gives its key back, or least-busy and the probe would drift.
 */
export async function startGatewayFor(t: TestContext, options: TestGatewayOptions): Promise<TestGateway> {
  const gateway = await startTestGateway(options);
  t.after(async () => {
    try {
      await assertNothingInFlight(gateway);
    } finally {
      await gateway.close();
    }
  });
  return gateway;
}

export async function assertNothingInFlight(gateway: TestGateway): Promise<void> {
  const busy = (): string[] => [...gateway.gateway.runtime.health.all()]
    .filter((entry) => entry.inflight !== 0 || entry.probing)
    .map((entry) => `${entry.provider}/${entry.model} key ${entry.keyIndex}: inflight ${entry.inflight}, probing ${entry.probing}`);
  for (let i = 0; i < 200 && busy().length > 0; i++) await sleep(5);
  assert.deepEqual(busy(), [], 'attempts left counted in flight');
}

/** An OpenAI-compatible provider on a mock, serving every model name. */
export function openaiProvider(name: string, mock: MockUpstream, extra: Partial<TestProvider> = {}): TestProvider {
  return { name, baseUrl: `${mock.url}/v1`, models: ['*'], ...extra };
}

/** An Anthropic-dialect provider on a mock (Messages API under /v1/messages). */
export function anthropicProvider(name: string, mock: MockUpstream, extra: Partial<TestProvider> = {}): TestProvider {
  return {
    name, dialect: 'anthropic', baseUrl: `${mock.url}/v1`, models: ['*'], apiKeys: ['sk-ant-upstream'],
    auth: { header: 'x-api-key', prefix: '' }, headers: { 'anthropic-version': '2023-06-01' },
    capabilities: { chat: true, completions: false, embeddings: false, responses: false },
    ...extra,
  };
}

// --- upstream answers --------------------------------------------------------------------------

/** One OpenAI chat chunk carrying `content`. */
export const chunk = (content: string): string => JSON.stringify({
  id: 'chatcmpl-res', object: 'chat.completion.chunk', created: 1, model: 'm',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
});

export const finishChunk = (): string => JSON.stringify({
  id: 'chatcmpl-res', object: 'chat.completion.chunk', created: 1, model: 'm',
  choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }],
});

export function status(code: number, message = `status ${code}`, headers?: Record<string, string>, errorCode: string | null = null): Behavior {
  const type = code === 429 ? 'rate_limit_error' : code >= 500 ? 'server_error' : 'invalid_request_error';
  return { kind: 'json', status: code, body: openAiError(message, type, null, errorCode), ...(headers !== undefined ? { headers } : {}) };
}

const anthropicEvent = (type: string, data: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}`;

/** Anthropic's event stream for a plain text answer, the text split into `pieces`. */
export function anthropicStream(pieces: readonly string[], model = 'claude-mock'): string[] {
  return [
    anthropicEvent('message_start', { message: { id: 'msg_res', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } }),
    anthropicEvent('ping', {}),
    anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ...pieces.map((text) => anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
    anthropicEvent('content_block_stop', { index: 0 }),
    anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: pieces.length } }),
    anthropicEvent('message_stop', {}),
  ];
}

/** What an Anthropic upstream answers for a text reply, streamed or not as the request asks. */
export function anthropicAnswer(request: RecordedRequest, text = 'Hello from Claude.'): Behavior {
  if (request.body?.stream === true) return { kind: 'stream', events: anthropicStream(text.match(/\s*\S+/g) ?? [text], request.body.model) };
  return {
    kind: 'json', status: 200,
    body: {
      id: 'msg_res', type: 'message', role: 'assistant', model: request.body?.model, content: [{ type: 'text', text }],
      stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 4 },
    },
  };
}

// --- requests ----------------------------------------------------------------------------------

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
  events(): SseEvent[];
}

export async function post(gateway: TestGateway, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Reply> {
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...(signal !== undefined ? { signal } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text), events: () => parseSse(text) };
}

export const chatBody = (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

/** An OpenAI chat request. */
export function chat(gateway: TestGateway, model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Reply> {
  return post(gateway, '/v1/chat/completions', chatBody(model, extra), headers);
}

export const ANTHROPIC_HEADERS = { 'anthropic-version': '2023-06-01' };

/** An Anthropic Messages request. */
export function messages(gateway: TestGateway, model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Reply> {
  return post(gateway, '/v1/messages', { model, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }], ...extra }, { ...ANTHROPIC_HEADERS, ...headers });
}

// --- assertions --------------------------------------------------------------------------------

export interface Meta {
  provider: string | null;
  model: string | null;
  attempts: string | null;
  fallback: string | null;
}

/** The x-switchyard-* headers that say what happened. */
export function meta(reply: Reply): Meta {
  return {
    provider: reply.headers.get('x-switchyard-provider'),
    model: reply.headers.get('x-switchyard-model'),
    attempts: reply.headers.get('x-switchyard-attempts'),
    fallback: reply.headers.get('x-switchyard-fallback'),
  };
}

export function assertMeta(reply: Reply, expected: Partial<Meta>): void {
  const actual = meta(reply);
  const picked: Partial<Meta> = {};
  for (const key of Object.keys(expected) as (keyof Meta)[]) picked[key] = actual[key];
  assert.deepEqual(picked, expected, `response headers: ${JSON.stringify(actual)}; body: ${reply.text.slice(0, 400)}`);
}

/** Text of an OpenAI chat stream's deltas. */
export function openaiStreamText(events: readonly SseEvent[]): string {
  let text = '';
  for (const event of events) {
    if (event.data === '[DONE]') continue;
    const content = JSON.parse(event.data).choices?.[0]?.delta?.content;
    if (typeof content === 'string') text += content;
  }
  return text;
}

/** A complete OpenAI chat stream: 200, SSE, no error event, exactly one [DONE] and it is last. */
export function assertCleanOpenAIStream(reply: Reply, text?: string): SseEvent[] {
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = reply.events();
  assert.ok(events.length >= 2, reply.text);
  for (const event of events.slice(0, -1)) {
    assert.notEqual(event.data, '[DONE]', 'one [DONE], at the end');
    assert.equal(JSON.parse(event.data).error, undefined, `no error event: ${reply.text}`);
  }
  assert.equal(events.at(-1)!.data, '[DONE]', reply.text);
  if (text !== undefined) assert.equal(openaiStreamText(events), text);
  return events;
}

/**
 * An OpenAI chat stream cut short: 200 (the stream had begun), the text sent before the fault,
 * then a well-formed error event as the last thing — never [DONE].
 */
export function assertOpenAIStreamEndsWithError(reply: Reply, textBefore: string, code?: string, type = 'server_error'): { code: string; message: string; type: string } {
  assert.equal(reply.status, 200, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(reply.text.endsWith('\n\n'), 'the error event is complete');
  const events = reply.events();
  assert.ok(!events.some((event) => event.data === '[DONE]'), `no [DONE] after a failure: ${reply.text}`);
  const last = events.at(-1)!;
  const payload = JSON.parse(last.data);
  assert.deepEqual(Object.keys(payload), ['error'], reply.text);
  assert.equal(payload.error.type, type);
  if (code !== undefined) assert.equal(payload.error.code, code);
  assert.equal(openaiStreamText(events.slice(0, -1)), textBefore);
  return payload.error;
}

/** OpenAI's error shape with the expected status. */
export function assertOpenAIError(reply: Reply, statusCode: number, code?: string): { message: string; type: string; code: string | null; param: string | null } {
  assert.equal(reply.status, statusCode, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  const body = reply.json();
  assert.deepEqual(Object.keys(body), ['error'], reply.text);
  assert.equal(typeof body.error.message, 'string');
  if (code !== undefined) assert.equal(body.error.code, code);
  return body.error;
}

/** Anthropic's error shape: {"type":"error","error":{"type","message"}}. */
export function assertAnthropicError(reply: Reply, statusCode: number, type: string): { type: string; message: string } {
  assert.equal(reply.status, statusCode, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  const body = reply.json();
  assert.equal(body.type, 'error', reply.text);
  assert.equal(body.error.type, type);
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}
