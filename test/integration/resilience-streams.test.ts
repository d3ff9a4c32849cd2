// Streams that break: a stall, a cut (reset), a malformed event, a missing terminal event. Before
// the commit point (nothing sent to the client yet) each is retried invisibly and the client sees
// one clean stream; after it, the stream ends with a well-formed error event after the text already
// sent — never [DONE] or message_stop — and the request is not retried. Checked on the byte
// pass-through (OpenAI → OpenAI) and on both translating directions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import type { Behavior } from '../helpers/mock-upstream.ts';
import type { SseEvent } from '../helpers/sse.ts';
import {
  anthropicAnswer, anthropicProvider, anthropicStream, assertCleanOpenAIStream, assertMeta, assertOpenAIStreamEndsWithError, chat, chunk,
  FAST_RETRY, FAST_TIMEOUTS, finishChunk, messages, MOCK_TEXT, openaiProvider, startGatewayFor, startMocks, type Reply,
} from '../helpers/resilience.ts';

const T = { timeout: 15_000 };
const OK: Behavior = { kind: 'default' };
/** Events spaced out so each reaches the gateway in a read of its own. */
const SPACING_MS = 30;

interface Fault {
  name: string;
  /** The fault on the first frame: nothing can have reached the client. */
  before: Behavior;
  /** The fault after two text chunks ("Hel", "lo") went out. */
  after: Behavior;
  /** The OpenAI error code (and type) the client sees once the stream had begun. */
  code: string;
  type?: string;
}

const openaiFaults: Fault[] = [
  {
    name: 'a stall (idle timeout)',
    before: { kind: 'stream', events: [], thenBehavior: 'stall' },
    after: { kind: 'stream', events: [chunk('Hel'), chunk('lo')], intervalMs: SPACING_MS, thenBehavior: 'stall' },
    code: 'upstream_timeout',
  },
  {
    name: 'a cut (reset)',
    before: { kind: 'stream', events: [], thenBehavior: 'reset' },
    after: { kind: 'stream', events: [chunk('Hel'), chunk('lo')], intervalMs: SPACING_MS, thenBehavior: 'reset' },
    code: 'upstream_reset',
  },
  {
    name: 'a malformed event',
    before: { kind: 'stream', events: ['{"choices": [', chunk('Hel'), finishChunk(), '[DONE]'], intervalMs: SPACING_MS },
    after: { kind: 'stream', events: [chunk('Hel'), chunk('lo'), '{"choices": [', chunk('!'), finishChunk(), '[DONE]'], intervalMs: SPACING_MS },
    code: 'upstream_protocol_error',
  },
  {
    // a close after the finishing chunk is a complete answer (test/integration/stream-terminators.test.ts)
    name: 'a close before the finishing chunk and [DONE]',
    before: { kind: 'stream', events: [] },
    after: { kind: 'stream', events: [chunk('Hel'), chunk('lo')], intervalMs: SPACING_MS },
    code: 'upstream_protocol_error',
  },
];

function gatewayOptions(provider: ReturnType<typeof openaiProvider>) {
  return {
    providers: [provider],
    models: [{ name: 'a', targets: [{ provider: provider.name, model: 'm' }], retry: FAST_RETRY, timeouts: FAST_TIMEOUTS }],
    // a rate-limited key (Anthropic's in-stream overloaded_error) comes back within the back-off cap
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, rateLimitMs: 50 } },
  };
}

/** Text of an Anthropic stream's text deltas. */
function anthropicText(events: readonly SseEvent[]): string {
  let text = '';
  for (const event of events) {
    if (event.event !== 'content_block_delta') continue;
    const delta = JSON.parse(event.data).delta;
    if (delta.type === 'text_delta') text += delta.text;
  }
  return text;
}

function assertCleanAnthropicStream(reply: Reply, text: string): void {
  assert.equal(reply.status, 200, reply.text);
  const events = reply.events();
  assert.equal(events[0]!.event, 'message_start', reply.text);
  assert.equal(events.filter((event) => event.event === 'message_start').length, 1, 'one stream, not two spliced');
  assert.equal(events.at(-1)!.event, 'message_stop', reply.text);
  assert.ok(!events.some((event) => event.event === 'error'), reply.text);
  assert.equal(anthropicText(events), text);
}

function assertAnthropicStreamEndsWithError(reply: Reply, textBefore: string): void {
  assert.equal(reply.status, 200, reply.text);
  assert.ok(reply.text.endsWith('\n\n'), 'the error event is complete');
  const events = reply.events();
  assert.equal(events[0]!.event, 'message_start', reply.text);
  assert.ok(!events.some((event) => event.event === 'message_stop' || event.event === 'message_delta'), `no clean end after a failure: ${reply.text}`);
  const last = events.at(-1)!;
  assert.equal(last.event, 'error', reply.text);
  const payload = JSON.parse(last.data);
  assert.equal(payload.type, 'error');
  assert.equal(typeof payload.error.type, 'string');
  assert.equal(anthropicText(events), textBefore);
}

/** Anthropic's stream for "Hello there"; its first five events carry "Hel" and "lo". */
const claudeEvents = anthropicStream(['Hel', 'lo', ' there']);

const anthropicFaults: Fault[] = [
  {
    name: 'a stall',
    before: { kind: 'stream', events: [], thenBehavior: 'stall' },
    after: { kind: 'stream', events: claudeEvents.slice(0, 5), intervalMs: SPACING_MS, thenBehavior: 'stall' },
    code: 'upstream_timeout',
  },
  {
    name: 'a cut',
    before: { kind: 'stream', events: [], thenBehavior: 'reset' },
    after: { kind: 'stream', events: claudeEvents.slice(0, 5), intervalMs: SPACING_MS, thenBehavior: 'reset' },
    code: 'upstream_reset',
  },
  {
    name: 'a malformed event',
    before: { kind: 'stream', events: ['event: message_start\ndata: {"type":"message_start","message": {', ...claudeEvents.slice(1)], intervalMs: SPACING_MS },
    after: { kind: 'stream', events: [...claudeEvents.slice(0, 5), 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{', ...claudeEvents.slice(5)], intervalMs: SPACING_MS },
    code: 'upstream_protocol_error',
  },
  {
    name: 'a missing message_stop',
    before: { kind: 'stream', events: [] },
    after: { kind: 'stream', events: claudeEvents.slice(0, 5), intervalMs: SPACING_MS },
    code: 'upstream_protocol_error',
  },
  {
    name: 'an overloaded_error event',
    before: { kind: 'stream', events: ['event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'] },
    after: { kind: 'stream', events: [...claudeEvents.slice(0, 5), 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'], intervalMs: SPACING_MS },
    // Anthropic's overload is a rate limit (it cools the key down like a 429/529)
    code: 'upstream_error',
    type: 'rate_limit_error',
  },
];

// Every test has its own mocks and gateway, so the tests of a group run side by side: most of the
// time here is spent waiting for timeouts.

describe('pass-through (OpenAI → OpenAI)', { concurrency: 4 }, () => {
  for (const fault of openaiFaults) {
    test(`pass-through: ${fault.name} on the first frame is retried; the client sees one clean stream`, T, async (t) => {
      const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? fault.before : OK });
      const gateway = await startGatewayFor(t, gatewayOptions(openaiProvider('p', up)));
      const reply = await chat(gateway, 'a', { stream: true });
      assertCleanOpenAIStream(reply, MOCK_TEXT);
      assertMeta(reply, { provider: 'p', model: 'm', attempts: '2' });
      assert.equal(up.requests.length, 2);
    });

    test(`pass-through: ${fault.name} after the first frames ends the stream with an error event, not retried`, T, async (t) => {
      const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? fault.after : OK });
      const gateway = await startGatewayFor(t, gatewayOptions(openaiProvider('p', up)));
      const reply = await chat(gateway, 'a', { stream: true });
      assertOpenAIStreamEndsWithError(reply, 'Hello', fault.code, fault.type);
      assertMeta(reply, { provider: 'p', model: 'm', attempts: '1' });
      assert.equal(up.requests.length, 1, 'no retry after the commit');
    });
  }

  test('pass-through, not streamed: a body that never comes is retried; one cut after its first bytes aborts the connection', T, async (t) => {
    const partial: Behavior = { kind: 'stream', events: ['{"id":"chatcmpl-partial",'], headers: { 'content-type': 'application/json' }, thenBehavior: 'stall' };
    const silent: Behavior = { kind: 'stream', events: [], headers: { 'content-type': 'application/json' }, thenBehavior: 'stall' };
    const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? silent : index === 2 ? partial : OK });
    const gateway = await startGatewayFor(t, gatewayOptions(openaiProvider('p', up)));
    const reply = await chat(gateway, 'a');
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json().choices[0].message.content, MOCK_TEXT);
    assertMeta(reply, { attempts: '2' });
    assert.equal(up.requests.length, 2);

    await assert.rejects(chat(gateway, 'a'), 'a body cut short is never ended cleanly');
    assert.equal(up.requests.length, 3, 'no retry after the first body bytes went out');
  });
});

describe('translated: Anthropic client → OpenAI upstream', { concurrency: 4 }, () => {
  for (const fault of openaiFaults) {
    test(`translated to Anthropic: ${fault.name} before the first event is retried; one clean stream`, T, async (t) => {
      const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? fault.before : OK });
      const gateway = await startGatewayFor(t, gatewayOptions(openaiProvider('p', up)));
      const reply = await messages(gateway, 'a', { stream: true });
      assertCleanAnthropicStream(reply, MOCK_TEXT);
      assertMeta(reply, { provider: 'p', attempts: '2' });
      assert.equal(up.requests.length, 2);
    });

    test(`translated to Anthropic: ${fault.name} after the first events ends with an error event, not retried`, T, async (t) => {
      const { up } = await startMocks(t, { up: (_request, index) => index === 0 ? fault.after : OK });
      const gateway = await startGatewayFor(t, gatewayOptions(openaiProvider('p', up)));
      const reply = await messages(gateway, 'a', { stream: true });
      assertAnthropicStreamEndsWithError(reply, 'Hello');
      assertMeta(reply, { provider: 'p', attempts: '1' });
      assert.equal(up.requests.length, 1);
    });
  }
});

describe('translated: OpenAI client → Anthropic upstream', { concurrency: 4 }, () => {
  for (const fault of anthropicFaults) {
    test(`translated from Anthropic: ${fault.name} before the first event is retried; one clean OpenAI stream`, T, async (t) => {
      const { claude } = await startMocks(t, { claude: (request, index) => index === 0 ? fault.before : anthropicAnswer(request, 'Hello there') });
      const gateway = await startGatewayFor(t, gatewayOptions(anthropicProvider('c', claude)));
      const reply = await chat(gateway, 'a', { stream: true });
      assertCleanOpenAIStream(reply, 'Hello there');
      assertMeta(reply, { provider: 'c', attempts: '2' });
      assert.equal(claude.requests.length, 2);
    });

    test(`translated from Anthropic: ${fault.name} after the first events ends the OpenAI stream with an error event, not retried`, T, async (t) => {
      const { claude } = await startMocks(t, { claude: (request, index) => index === 0 ? fault.after : anthropicAnswer(request, 'Hello there') });
      const gateway = await startGatewayFor(t, gatewayOptions(anthropicProvider('c', claude)));
      const reply = await chat(gateway, 'a', { stream: true });
      assertOpenAIStreamEndsWithError(reply, 'Hello', fault.code, fault.type);
      assertMeta(reply, { provider: 'c', attempts: '1' });
      assert.equal(claude.requests.length, 1);
    });
  }

  test('translated, not streamed: an answer that cannot be read is retried; the client gets the good one', T, async (t) => {
    const { claude } = await startMocks(t, {
      claude: (request, index) => index === 0 ? { kind: 'raw', status: 200, headers: { 'content-type': 'application/json' }, body: '{"id":"msg_res","type":"message","content":[' } : anthropicAnswer(request, 'Hello there'),
    });
    const gateway = await startGatewayFor(t, gatewayOptions(anthropicProvider('c', claude)));
    const reply = await chat(gateway, 'a');
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json().choices[0].message.content, 'Hello there');
    assertMeta(reply, { provider: 'c', attempts: '2' });
    assert.equal(claude.requests.length, 2);
  });

  test('translated, not streamed: a body that stalls half-way is still before the commit and is retried', T, async (t) => {
    const { up } = await startMocks(t, {
      up: (_request, index) => index === 0 ? { kind: 'stream', events: ['{"id":"chatcmpl-partial",'], headers: { 'content-type': 'application/json' }, thenBehavior: 'stall' } : OK,
    });
    const gateway = await startGatewayFor(t, gatewayOptions(openaiProvider('p', up)));
    const reply = await messages(gateway, 'a');
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json().type, 'message');
    assert.equal(reply.json().content[0].text, MOCK_TEXT);
    assertMeta(reply, { provider: 'p', attempts: '2' });
    assert.equal(up.requests.length, 2);
  });
});
