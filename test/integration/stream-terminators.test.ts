// Streams that end without their terminator. A stream that sent its final event (OpenAI's
// finish_reason, Anthropic's message_delta with a stop_reason, Gemini's finishReason, Ollama's
// `done: true`, Responses' response.completed) and then closed cleanly is a complete answer: the
// client gets a well-formed end in its own dialect and the request is logged without an error,
// its usage recorded. A stream that closes before its final event stays an error event in the
// caller's dialect. The matrix: every upstream dialect × every client dialect (the same dialect is
// the byte pass-through, any other one is translated) × complete-without-terminator / truncated,
// reusing the conformance suite's dialects to speak and check each wire.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { pino } from 'pino';
import type { Usage } from '../../src/canonical/usage.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { RequestObserver } from '../../src/pipeline/context.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';
import {
  anthropicProvider, anthropicStream, assertCleanOpenAIStream, assertOpenAIStreamEndsWithError, chat, messages, ONE_TARGET, openaiProvider, startGatewayFor, startMocks,
} from '../helpers/resilience.ts';
import { accessLine, type TestGateway } from '../helpers/gateway.ts';
import { parseSse } from '../helpers/sse.ts';
import { loadDialects } from '../conformance/registry.ts';
import { scenarioByName } from '../conformance/scenarios.ts';
import type { ClientDialect, UpstreamDialect } from '../conformance/types.ts';

type Json = Record<string, any>;
type Ending = 'whole' | 'cut';

const { clients, upstreams } = await loadDialects();
const SCENARIO = scenarioByName('text');
const ANSWER = SCENARIO.answer!;

/** The client dialect that reaches each upstream dialect by the byte pass-through. */
const PASS_THROUGH: Record<string, string> = {
  openai: 'openai-chat', anthropic: 'anthropic', gemini: 'gemini', ollama: 'ollama', 'openai-responses': 'openai-responses',
};

/** The terminator the gateway writes for a pass-through stream that closed after its final event. */
const TERMINATOR: Record<string, string> = {
  openai: 'data: [DONE]\n\n',
  anthropic: 'event: message_stop\ndata: {"type":"message_stop"}\n\n',
};

// --- the upstream's stream, complete without its terminator or cut before its final event ----------

/** Each frame's text as the mock sends it (SSE events verbatim or as `data:`; NDJSON lines as they are). */
function frameTexts(behavior: Behavior): string[] {
  if (behavior.kind === 'stream') return behavior.events.map((event) => /^(?:data:|event:)/.test(event) ? `${event}\n\n` : `data: ${event}\n\n`);
  if (behavior.kind === 'chunks') return behavior.chunks.map(String);
  throw new Error(`not a stream: ${behavior.kind}`);
}

/** Index of the dialect's final event (the one a terminator may follow), and of its terminator. */
function finalAndTerminator(type: string, frames: readonly string[]): { final: number; terminator: number } {
  const find = (pattern: RegExp): number => frames.findIndex((frame) => pattern.test(frame));
  switch (type) {
    case 'openai': return { final: find(/"finish_reason":"/), terminator: find(/^data: \[DONE\]/) };
    case 'anthropic': return { final: find(/^event: message_delta/), terminator: find(/^event: message_stop/) };
    case 'gemini': return { final: find(/"finishReason"/), terminator: -1 };
    case 'ollama': return { final: find(/"done":true/), terminator: -1 };
    case 'openai-responses': return { final: find(/^event: response\.completed/), terminator: -1 };
    default: throw new Error(`unknown upstream dialect ${type}`);
  }
}

/** The upstream's frames for an ending: `whole` drops only the terminator, `cut` stops before the final event. */
function framesFor(type: string, behavior: Behavior, ending: Ending): string[] {
  const frames = frameTexts(behavior);
  const { final, terminator } = finalAndTerminator(type, frames);
  assert.ok(final > 0, `${type}: the final event has frames before it`);
  if (ending === 'cut') return frames.slice(0, final);
  return terminator < 0 ? frames : frames.filter((_, index) => index !== terminator);
}

function asBehavior(source: Behavior, frames: string[]): Behavior {
  if (source.kind === 'chunks') return { kind: 'chunks', chunks: frames, contentType: source.contentType };
  // sent verbatim: every frame already starts with `data:` or `event:` and ends with its blank line
  return { kind: 'chunks', chunks: frames, contentType: 'text/event-stream; charset=utf-8' };
}

// --- a gateway per upstream dialect, its access lines and the usage it recorded -----------------------

interface Rig {
  upstream: UpstreamDialect;
  mock: MockUpstream;
  gateway: RunningGateway;
  /** The access log lines, parsed as they are read. */
  lines: string[];
  /** What the gateway recorded as each request ended (the usage store and metrics see the same). */
  ended: { id: string; usage: Usage | undefined; error: string | undefined }[];
  /** The bytes the mock sent for its last stream (the tests of one rig run one at a time). */
  lastSent: string;
}

const rigs = new Map<string, Rig>();

/** The model `cut-scenario-text` asks for a stream cut before its final event; `whole-scenario-text` for one without its terminator. */
function endingOf(modelOrPath: string): Ending {
  return modelOrPath.includes('cut-scenario') ? 'cut' : 'whole';
}

before(async () => {
  for (const upstream of upstreams) {
    const rig = { upstream, lines: [] as string[], ended: [] as Rig['ended'], lastSent: '' } as Rig;
    rig.mock = await startMockUpstream({
      script: (request) => {
        const behavior = upstream.respond(SCENARIO, request);
        if (behavior.kind !== 'stream' && behavior.kind !== 'chunks') return behavior;
        const frames = framesFor(upstream.type, behavior, endingOf(upstream.type === 'gemini' ? request.path : String(request.body?.model)));
        rig.lastSent = frames.join('');
        return asBehavior(behavior, frames);
      },
    });
    const yaml = `providers:\n  - name: up\n    type: ${upstream.type}\n    base_url: ${rig.mock.url}${upstream.basePath}\n    api_key: sk-upstream-terminators\n    models: ["*-scenario-*"]\n    discover: false\n`
      + 'storage: { enabled: false }\n';
    const { config } = parseConfigText(yaml, `terminators-${upstream.type}.yaml`, {});
    const logger = pino({ level: 'info' }, new Writable({
      write(chunk: Buffer, _encoding, callback) {
        rig.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
        callback();
      },
    }));
    const observer: RequestObserver = {
      requestEnded: (context) => rig.ended.push({ id: context.id, usage: context.usage, error: context.error?.message }),
    };
    rig.gateway = await startGateway({ config, logger, host: '127.0.0.1', port: 0, discover: false, observers: [observer] });
    rigs.set(upstream.type, rig);
  }
});

after(async () => {
  for (const { mock, gateway } of rigs.values()) {
    await gateway.close();
    await mock.close();
  }
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The access line and the recorded end of request `id`. */
async function recorded(rig: Rig, id: string): Promise<{ line: Json; usage: Usage | undefined; error: string | undefined }> {
  for (let i = 0; i < 200; i++) {
    const text = rig.lines.find((entry) => entry.includes(`"id":${JSON.stringify(id)}`) && entry.includes('"msg":"request"'));
    const ended = rig.ended.find((entry) => entry.id === id);
    if (text !== undefined && ended !== undefined) return { line: JSON.parse(text) as Json, usage: ended.usage, error: ended.error };
    await sleep(5);
  }
  assert.fail(`no access line for ${id}`);
}

// --- what the client must see: a clean end, or an error event, in its own dialect ----------------------

/** Throws unless the stream ends with an error event in the client's dialect and no clean end. */
function assertEndsWithError(client: string, body: string): void {
  if (client === 'ollama') {
    assert.ok(body.endsWith('\n'), 'the error line is whole');
    const lines = body.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Json);
    assert.equal(typeof lines.at(-1)!.error, 'string', 'the last line is an error');
    assert.ok(!lines.some((line) => line.done === true), 'no done line');
    return;
  }
  assert.ok(body.endsWith('\n\n'), 'the error event is whole');
  const events = parseSse(body);
  const last = events.at(-1)!;
  const data = JSON.parse(last.data) as Json;
  switch (client) {
    case 'openai-chat':
    case 'gemini':
      assert.ok(data.error !== undefined, 'the last event is an error');
      assert.ok(!events.some((event) => event.data === '[DONE]'), 'no [DONE]');
      if (client === 'gemini') assert.ok(!events.slice(0, -1).some((event) => JSON.parse(event.data).candidates?.[0]?.finishReason !== undefined), 'no finishReason');
      return;
    case 'anthropic':
      assert.equal(last.event, 'error');
      assert.ok(!events.some((event) => event.event === 'message_stop' || event.event === 'message_delta'), 'no message_delta or message_stop');
      return;
    case 'openai-responses':
      assert.ok(last.event === 'error' || last.event === 'response.failed', `the last event is a failure, got ${last.event}`);
      assert.ok(!events.some((event) => event.event === 'response.completed'), 'no response.completed');
      return;
    default:
      throw new Error(`unknown client ${client}`);
  }
}

async function send(rig: Rig, client: ClientDialect, model: string): Promise<{ status: number; headers: Headers; body: string; id: string }> {
  const request = client.request(SCENARIO, model, true);
  const response = await fetch(rig.gateway.url + request.path, { method: request.method, headers: request.headers, body: request.body });
  return { status: response.status, headers: response.headers, body: await response.text(), id: response.headers.get('x-request-id') ?? '' };
}

for (const upstream of upstreams) {
  describe(`${upstream.type} upstream`, () => {
    for (const client of clients) {
      const passThrough = PASS_THROUGH[upstream.type] === client.name;
      const way = passThrough ? 'pass-through' : 'translated';

      test(`${way}, ${client.name} client: a stream that sent its final event and closed without its terminator ends cleanly`, async () => {
        const rig = rigs.get(upstream.type)!;
        const reply = await send(rig, client, 'whole-scenario-text');
        assert.equal(reply.status, 200, reply.body);
        if (passThrough) {
          // the upstream's bytes as they were, and the terminator the dialect expects after them
          assert.equal(reply.body, rig.lastSent + (TERMINATOR[upstream.type] ?? ''), 'the upstream bytes, then the terminator');
        }
        const outcome = (() => {
          try {
            return client.parse(reply.status, reply.headers, reply.body, true);
          } catch (error) {
            throw new Error(`${(error as Error).message}\n--- body:\n${reply.body.slice(0, 3000)}`);
          }
        })();
        assert.equal(outcome.text, ANSWER.text, 'text');
        assert.equal(outcome.finish, ANSWER.finish, 'finish reason');
        const { line, usage, error } = await recorded(rig, reply.id);
        assert.equal(line.status, 200);
        assert.equal(line.error, undefined, 'no error in the access log');
        assert.equal(error, undefined, 'no error recorded');
        assert.equal(usage?.inputTokens, ANSWER.usage.input, 'the usage is recorded');
        assert.equal(usage?.outputTokens, ANSWER.usage.output, 'the usage is recorded');
        assert.deepEqual(line.tokens?.out, ANSWER.usage.output, 'the access line has the tokens');
      });

      test(`${way}, ${client.name} client: a stream that closed before its final event ends with an error event`, async () => {
        const rig = rigs.get(upstream.type)!;
        const reply = await send(rig, client, 'cut-scenario-text');
        assert.equal(reply.status, 200, 'the stream had begun');
        if (passThrough) assert.ok(reply.body.startsWith(rig.lastSent), 'the upstream bytes, then the error');
        try {
          assertEndsWithError(client.name, reply.body);
        } catch (failure) {
          throw new Error(`${(failure as Error).message}\n--- body:\n${reply.body.slice(0, 3000)}`);
        }
        const { line, error } = await recorded(rig, reply.id);
        assert.equal(line.error, 'SWY_ERR_UPSTREAM_PROTOCOL', 'the access log has the error');
        assert.match(String(error), /before it was complete/);
      });
    }
  });
}

// --- the edges of OpenAI's ending, and the SDKs reading the result ------------------------------------

describe('OpenAI chat: the edges of the final chunk', () => {
  const chunkOf = (choices: Json[], extra: Json = {}): string => JSON.stringify({ id: 'chatcmpl-t', object: 'chat.completion.chunk', created: 1, model: 'm', choices, ...extra });
  const text = (content: string, index = 0): string => chunkOf([{ index, delta: { content }, logprobs: null, finish_reason: null }]);
  const finish = (index = 0): string => chunkOf([{ index, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  const usageChunk = chunkOf([], { usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } });

  test('include_usage: closed after the finishing chunk, before the usage chunk — complete, usage unknown (pass-through and translated)', async (t) => {
    const { up } = await startMocks(t, { up: () => ({ kind: 'stream', events: [text('Hel'), text('lo'), finish()] }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], models: ONE_TARGET });
    const passed = await chat(gateway, 'a', { stream: true, stream_options: { include_usage: true } });
    assertCleanOpenAIStream(passed, 'Hello');
    const translated = await messages(gateway, 'a', { stream: true });
    assert.equal(translated.status, 200, translated.text);
    const events = translated.events();
    assert.equal(events.at(-1)!.event, 'message_stop', translated.text);
    assert.equal(JSON.parse(events.find((event) => event.event === 'message_delta')!.data).delta.stop_reason, 'end_turn');
    assert.ok(!events.some((event) => event.event === 'error'), translated.text);
    for (const reply of [passed, translated]) {
      const line = await accessLine(gateway, reply.headers.get('x-request-id')!);
      assert.equal(line.status, 200);
      assert.equal(line.error, undefined);
      assert.equal(line.tokens, undefined, 'no usage came: none is made up');
    }
  });

  test('closed after the usage chunk without [DONE]: the usage is recorded', async (t) => {
    const { up } = await startMocks(t, { up: () => ({ kind: 'stream', events: [text('Hel'), text('lo'), finish(), usageChunk] }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], models: ONE_TARGET });
    const reply = await chat(gateway, 'a', { stream: true, stream_options: { include_usage: true } });
    assertCleanOpenAIStream(reply, 'Hello');
    const line = await accessLine(gateway, reply.headers.get('x-request-id')!);
    assert.equal(line.error, undefined);
    assert.deepEqual(line.tokens, { in: 7, out: 2, cached: 0, reasoning: 0 });
  });

  test('several choices (n = 2): complete once every choice has finished; an error event when one has not', async (t) => {
    const both = [text('A', 0), text('B', 1), finish(1), text('a', 0), finish(0)];
    const { up } = await startMocks(t, { up: (_request, index) => ({ kind: 'stream', events: index === 0 ? both : both.slice(0, 4) }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], models: ONE_TARGET });
    const complete = await chat(gateway, 'a', { stream: true, n: 2 });
    assert.equal(complete.status, 200);
    assert.equal(complete.events().at(-1)!.data, '[DONE]', complete.text);
    const cut = await chat(gateway, 'a', { stream: true, n: 2 });
    assertEndsWithError('openai-chat', cut.text);
    assert.equal(cut.events().length, 5, 'the four chunks, then the error event');
  });

  test('an error event after the finishing chunk, then a close: no [DONE] after the error, and the request is logged as failed', async (t) => {
    const failure = JSON.stringify({ error: { message: 'The server had an error after the answer.', type: 'server_error' } });
    const { up } = await startMocks(t, { up: () => ({ kind: 'stream', events: [text('Hel'), text('lo'), finish(), failure] }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], models: ONE_TARGET });
    const reply = await chat(gateway, 'a', { stream: true });
    assert.equal(reply.status, 200);
    const events = reply.events();
    assert.deepEqual(JSON.parse(events.at(-1)!.data), JSON.parse(failure), 'the error event as the upstream sent it, last');
    assert.ok(!events.some((event) => event.data === '[DONE]'), reply.text);
    const line = await accessLine(gateway, reply.headers.get('x-request-id')!);
    assert.equal(line.error, 'SWY_ERR_UPSTREAM_STATUS', 'logged with the error it ended with');
  });

  test('JSON with spaces (`"finish_reason": "stop"`, as Python servers write it) is read the same', async (t) => {
    const spaced = (json: string): string => json.replaceAll('":', '": ').replaceAll(',"', ', "');
    const { up } = await startMocks(t, { up: () => ({ kind: 'stream', events: [spaced(text('Hel')), spaced(text('lo')), spaced(finish())] }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], models: ONE_TARGET });
    assertCleanOpenAIStream(await chat(gateway, 'a', { stream: true }), 'Hello');
  });

  test('text that reads like a finish (`\\"finish_reason\\":\\"stop\\"` inside a delta) before a close is still a truncation', async (t) => {
    const { up } = await startMocks(t, { up: () => ({ kind: 'stream', events: [text('{"finish_reason":"stop"}'), text('lo')] }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], models: ONE_TARGET });
    assertOpenAIStreamEndsWithError(await chat(gateway, 'a', { stream: true }), '{"finish_reason":"stop"}lo', 'upstream_protocol_error');
  });

  test('the OpenAI SDK reads a stream closed without [DONE] to its end; a truncated one throws', async (t) => {
    const { up } = await startMocks(t, { up: (request) => ({ kind: 'stream', events: request.body.model === 'cut' ? [text('Hel'), text('lo')] : [text('Hel'), text('lo'), finish()] }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)] });
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-client', maxRetries: 0 });
    let said = '';
    let finishReason: string | null | undefined;
    for await (const chunk of await client.chat.completions.create({ model: 'p:whole', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      said += chunk.choices[0]?.delta.content ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    assert.equal(said, 'Hello');
    assert.equal(finishReason, 'stop');
    await assert.rejects(async () => {
      for await (const _chunk of await client.chat.completions.create({ model: 'p:cut', messages: [{ role: 'user', content: 'hi' }], stream: true })) { /* read on */ }
    }, /before it was complete/);
  });
});

describe('Anthropic: message_delta without message_stop', () => {
  test('the Anthropic SDK gets its final message (pass-through, and translated to an OpenAI client); a stream cut before message_delta is an error', async (t) => {
    const whole = anthropicStream(['Hel', 'lo']).filter((event) => !event.startsWith('event: message_stop'));
    const cut = whole.filter((event) => !event.startsWith('event: message_delta'));
    const { claude } = await startMocks(t, { claude: (request) => ({ kind: 'stream', events: request.body.model === 'cut' ? cut : whole }) });
    const gateway = await startGatewayFor(t, { providers: [anthropicProvider('c', claude)] });
    const client = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-client', maxRetries: 0 });
    const message = await client.messages.stream({ model: 'c:whole', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.content.map((block) => (block.type === 'text' ? block.text : '')).join(''), 'Hello');
    assert.equal(message.usage.output_tokens, 2);
    await assert.rejects(client.messages.stream({ model: 'c:cut', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage(), /before it was complete/);
    assertCleanOpenAIStream(await chat(gateway, 'c:whole', { stream: true }), 'Hello');
    const line = await accessLine(gateway, (await chat(gateway, 'c:whole', { stream: true })).headers.get('x-request-id')!);
    assert.equal(line.error, undefined);
    assert.equal((line.tokens as Json).out, 2);
  });
});
