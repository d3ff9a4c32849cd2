// The benchmark's agent-sized bodies (bench/bodies/agent-bodies.ts) are valid requests of their
// dialect, of the size asked for, and the same bytes every time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentBody, bodyDialects, bodySizes, type BodyDialect } from '../../bench/bodies/agent-bodies.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const objects = (value: Json | undefined): JsonObject[] => {
  assert.ok(Array.isArray(value), 'an array');
  for (const item of value) assert.ok(item !== null && typeof item === 'object' && !Array.isArray(item), 'of objects');
  return value as JsonObject[];
};

/** Every tool call has its result, and every result answers a call made before it. */
function assertCallsAnswered(calls: string[], results: string[]): void {
  assert.ok(calls.length > 0, 'the history has tool calls');
  assert.deepEqual(results, calls, 'each call is answered once, in order');
}

const checks: Record<BodyDialect, (body: JsonObject, stream: boolean) => void> = {
  'openai-chat': (body, stream) => {
    const tools = objects(body.tools);
    assert.equal(tools.length, 24);
    const names = tools.map((tool) => (tool.function as JsonObject).name);
    assert.equal(new Set(names).size, 24, 'tool names are unique');
    for (const tool of tools) {
      assert.equal(tool.type, 'function');
      assert.equal(((tool.function as JsonObject).parameters as JsonObject).type, 'object');
    }
    const messages = objects(body.messages);
    assert.equal(messages[0]!.role, 'system');
    const calls = messages.filter((message) => message.role === 'assistant').flatMap((message) => objects(message.tool_calls).map((call) => call.id as string));
    for (const message of messages.filter((item) => item.role === 'assistant')) {
      for (const call of objects(message.tool_calls)) assert.doesNotThrow(() => JSON.parse((call.function as JsonObject).arguments as string));
    }
    assertCallsAnswered(calls, messages.filter((message) => message.role === 'tool').map((message) => message.tool_call_id as string));
    assert.equal(body.stream, stream);
    assert.equal('stream_options' in body, stream, 'stream_options only with stream');
  },
  anthropic: (body, stream) => {
    assert.equal(typeof body.max_tokens, 'number');
    const system = objects(body.system);
    assert.ok(system.every((block) => block.type === 'text' && typeof block.text === 'string'));
    assert.ok(system.some((block) => (block.cache_control as JsonObject | undefined)?.type === 'ephemeral'), 'system blocks carry cache_control');
    for (const tool of objects(body.tools)) assert.equal((tool.input_schema as JsonObject).type, 'object');
    const messages = objects(body.messages);
    assert.equal(messages[0]!.role, 'user');
    messages.forEach((message, index) => assert.equal(message.role, index % 2 === 0 ? 'user' : 'assistant', 'roles alternate'));
    const blocks = messages.flatMap((message) => objects(message.content));
    const results = blocks.filter((block) => block.type === 'tool_result');
    assertCallsAnswered(blocks.filter((block) => block.type === 'tool_use').map((block) => block.id as string), results.map((block) => block.tool_use_id as string));
    assert.ok(blocks.filter((block) => block.type === 'thinking').every((block) => typeof block.signature === 'string'));
    const cached = blocks.filter((block) => block.cache_control !== undefined);
    assert.deepEqual(cached, [results.at(-1)], 'cache_control on the last tool result only, as Claude Code puts it');
    assert.equal(body.stream, stream);
  },
  responses: (body, stream) => {
    assert.equal(typeof body.instructions, 'string');
    // Codex's own mix: function tools, a namespace of functions, the hosted web search.
    const tools = objects(body.tools);
    assert.deepEqual([...new Set(tools.map((tool) => tool.type))].sort(), ['function', 'namespace', 'web_search']);
    for (const tool of tools.filter((item) => item.type === 'function')) assert.equal((tool.parameters as JsonObject).type, 'object');
    const input = objects(body.input);
    assert.ok(input.every((item) => ['message', 'reasoning', 'function_call', 'function_call_output'].includes(item.type as string)));
    for (const call of input.filter((item) => item.type === 'function_call')) assert.doesNotThrow(() => JSON.parse(call.arguments as string));
    assertCallsAnswered(input.filter((item) => item.type === 'function_call').map((item) => item.call_id as string),
      input.filter((item) => item.type === 'function_call_output').map((item) => item.call_id as string));
    assert.equal(body.store, false);
    assert.equal(body.stream, stream);
  },
};

describe('agent-sized bodies for the benchmark', () => {
  for (const dialect of bodyDialects) {
    for (const [size, bytes] of Object.entries(bodySizes)) {
      for (const stream of [false, true]) {
        it(`${dialect}, ${size}${stream ? ', streamed' : ''}: a valid request of its dialect, within 5 % of the size`, () => {
          const text = agentBody(dialect, bytes, { model: 'bench-model', stream });
          const length = Buffer.byteLength(text);
          assert.ok(Math.abs(length - bytes) <= bytes * 0.05, `${length} bytes for a target of ${bytes}`);
          const body = JSON.parse(text) as JsonObject;
          assert.equal(body.model, 'bench-model');
          checks[dialect](body, stream);
        });
      }
    }
  }

  it('is deterministic: the same bytes on every call', () => {
    for (const dialect of bodyDialects) {
      assert.equal(agentBody(dialect, bodySizes['64 KB'], { model: 'm', stream: true }), agentBody(dialect, bodySizes['64 KB'], { model: 'm', stream: true }));
    }
  });
});
