import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { contentGuard, ContentGuardConfigSchema, CONTENT_BLOCKED_CODE, type ContentGuardConfig } from '../../src/plugins/builtin/content-guard.ts';
import type { CanonicalRequest, CanonicalResponse, PluginInstance, PluginRejection, StreamPart } from '../../src/plugins/api.ts';
import { fakePluginContext } from '../helpers/plugin-context.ts';

const CONFIG: ContentGuardConfig = { words: ['banana', 'top secret'], patterns: [String.raw`\bkey-\d{3}\b`], hold_back_chars: 12 };

async function guard(config: ContentGuardConfig = CONFIG, logs: string[] = []): Promise<PluginInstance<ContentGuardConfig>> {
  assert.ok(Value.Check(ContentGuardConfigSchema, config));
  return contentGuard.setup!(config, { dir: '', log: (message) => logs.push(message) });
}

/** Runs a whole stream through the hook, one fresh request context, and returns what the client would get. */
function stream(plugin: PluginInstance<ContentGuardConfig>, deltas: readonly string[]): StreamPart[] {
  const ctx = fakePluginContext<ContentGuardConfig>({ stream: true });
  const input: StreamPart[] = [
    { type: 'response-start', id: 'r', model: 'm', created: 0 },
    { type: 'text-start', index: 0 },
    ...deltas.map((delta): StreamPart => ({ type: 'text-delta', index: 0, delta })),
    { type: 'text-end', index: 0 },
    { type: 'response-end', finishReason: 'stop' },
  ];
  const output: StreamPart[] = [];
  for (const part of input) {
    const result = plugin.onStreamEvent!(ctx, part);
    if (result === undefined) output.push(part);
    else if (result === null) continue;
    else if (Array.isArray(result)) output.push(...(result as StreamPart[]));
    else output.push(result as StreamPart);
  }
  return output;
}

/** Every way to cut `text` into two or three non-empty deltas (and the whole text as one). */
function* splits(text: string): Generator<string[]> {
  yield [text];
  for (let i = 1; i < text.length; i++) {
    yield [text.slice(0, i), text.slice(i)];
    for (let j = i + 1; j < text.length; j++) yield [text.slice(0, i), text.slice(i, j), text.slice(j)];
  }
}

const textOf = (parts: readonly StreamPart[]) => parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');

test('blocked text never reaches the client, however the stream is cut; the stream ends with one error event', async () => {
  const plugin = await guard();
  const cases: [string, number][] = [
    ['Here it is: BANANA, as asked.', 12], // [text, where the match starts]
    ['The plan is top secret indeed', 12],
    ['The plan is top\nsecret', 12],
    ['use key-123 now', 4],
    ['banana', 0],
    ['x banana', 2],
  ];
  for (const [text, matchStart] of cases) {
    for (const deltas of splits(text)) {
      const output = stream(plugin, deltas);
      const last = output.at(-1)!;
      assert.equal(last.type, 'error', `${JSON.stringify(deltas)}: ends with an error`);
      assert.equal(output.filter((part) => part.type === 'error').length, 1);
      assert.ok(!output.some((part) => part.type === 'response-end' || part.type === 'text-end'), 'nothing after the error');
      const sent = textOf(output);
      assert.ok(text.startsWith(sent), `${JSON.stringify(deltas)}: what was sent is the text's beginning, in order`);
      assert.ok(sent.length <= matchStart, `${JSON.stringify(deltas)}: sent ${JSON.stringify(sent)}, which reaches into the match`);
      if (last.type === 'error') {
        assert.deepEqual(last.error, {
          code: CONTENT_BLOCKED_CODE, status: 400, message: last.error.message, origin: 'gateway', errorClass: 'client-error', retryable: false, fallbackAllowed: false,
        });
        assert.match(last.error.message, /deny-list `(words|patterns\[0\])`/);
        assert.doesNotMatch(last.error.message, /banana|secret|key-1/i);
      }
    }
  }
});

test('text that only looks like a blocked word comes through complete and in order, however the stream is cut', async () => {
  const plugin = await guard();
  const texts = ['Bananas and bananarama are fine; topsecret too.', 'key-1234 and mykey-123 pass', 'emoji 😀😀 then b a n a n a', 'top  secret (two spaces) is no phrase'];
  for (const text of texts) {
    for (const deltas of splits(text)) {
      const output = stream(plugin, deltas);
      assert.equal(textOf(output), text, JSON.stringify(deltas));
      assert.deepEqual(output.map((part) => part.type).filter((type) => type !== 'text-delta'), ['response-start', 'text-start', 'text-end', 'response-end']);
      const endAt = output.findIndex((part) => part.type === 'text-end');
      assert.ok(output.slice(endAt).every((part) => part.type !== 'text-delta'), 'every delta before text-end');
      for (const part of output) if (part.type === 'text-delta') assert.ok(part.delta.length > 0 && (deltas.every((delta) => delta.isWellFormed()) ? part.delta.isWellFormed() : true), 'no delta splits a surrogate pair');
    }
  }
});

test('held text is bounded by hold_back_chars: a long clean answer flows while it streams', async () => {
  const plugin = await guard();
  const ctx = fakePluginContext<ContentGuardConfig>({ stream: true });
  plugin.onStreamEvent!(ctx, { type: 'text-start', index: 0 });
  let sent = 0;
  for (let i = 0; i < 100; i++) {
    const result = plugin.onStreamEvent!(ctx, { type: 'text-delta', index: 0, delta: 'lorem ipsum ' });
    if (result !== null && result !== undefined && !Array.isArray(result)) sent += (result as { delta: string }).delta.length;
    assert.ok((i + 1) * 12 - sent <= 12, 'never more than hold_back_chars held');
  }
});

test('a pattern match that keeps growing past twice the window is blocked rather than held without bound', async () => {
  const plugin = await guard({ patterns: [String.raw`\d{20,}`], hold_back_chars: 8 });
  const output = stream(plugin, ['id: ', ...Array.from({ length: 50 }, () => '1234567890')]);
  assert.equal(output.at(-1)!.type, 'error');
});

test('hold_back_chars is raised to the longest word', async () => {
  const logs: string[] = [];
  const plugin = await guard({ words: ['supercalifragilistic'], hold_back_chars: 4 }, logs);
  assert.match(logs[0]!, /raised from 4 to 20/);
  for (const deltas of splits('a supercalifragilistic b')) assert.equal(stream(plugin, deltas).at(-1)!.type, 'error');
});

test('other parts pass; a second text block is checked on its own; a stream without text-end still flushes', async () => {
  const plugin = await guard();
  const ctx = fakePluginContext<ContentGuardConfig>({ stream: true });
  const tool: StreamPart = { type: 'tool-call-start', index: 1, id: 't', name: 'banana' };
  assert.equal(plugin.onStreamEvent!(ctx, tool), tool, 'tool calls are not checked');
  plugin.onStreamEvent!(ctx, { type: 'text-start', index: 2 });
  assert.equal(plugin.onStreamEvent!(ctx, { type: 'text-delta', index: 2, delta: 'ok' }), null);
  const end: StreamPart = { type: 'response-end', finishReason: 'stop' };
  assert.deepEqual(plugin.onStreamEvent!(ctx, end), [{ type: 'text-delta', index: 2, delta: 'ok' }, end]);
});

test('input: a prompt that matches is refused with 400 naming the list, not the text', async () => {
  const plugin = await guard();
  const request = (text: string): CanonicalRequest => ({ model: 'm', sampling: {}, stream: false, messages: [{ role: 'user', content: [{ type: 'text', text }] }] });
  await assert.rejects(async () => plugin.onRequest!(fakePluginContext(), request('I like Banana bread')), (error: PluginRejection) => {
    assert.equal(error.status, 400);
    assert.match(error.message, /deny-list `words`/);
    assert.doesNotMatch(error.message, /banana/i);
    return true;
  });
  await assert.rejects(async () => plugin.onRequest!(fakePluginContext(), request('key-999')), /deny-list `patterns\[0\]`/);
  assert.equal(await plugin.onRequest!(fakePluginContext(), request('bananas')), undefined);
});

test('output, not streamed: a matching answer is refused with 400; input: false leaves the prompt alone', async () => {
  const plugin = await guard({ ...CONFIG, input: false });
  assert.equal(plugin.onRequest, undefined);
  const response = (text: string): CanonicalResponse => ({ id: 'r', model: 'm', created: 0, finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 }, content: [{ type: 'text', text }] });
  const ctx = fakePluginContext<ContentGuardConfig>();
  assert.throws(() => plugin.onResponse!(ctx, response('the TOP SECRET plan')), (error: PluginRejection) => error.status === 400 && /deny-list `words`/.test(error.message));
  assert.equal(plugin.onResponse!(ctx, response('nothing to see')), undefined);
  const inputOnly = await guard({ ...CONFIG, output: false });
  assert.equal(inputOnly.onResponse, undefined);
  assert.equal(inputOnly.onStreamEvent, undefined);
});

test('setup refuses empty lists, invalid patterns and patterns that match the empty text', async () => {
  await assert.rejects(async () => guard({}), /must list at least one entry/);
  await assert.rejects(async () => guard({ patterns: ['a', '(unclosed'] }), /patterns\[1\] is not a valid regular expression/);
  await assert.rejects(async () => guard({ patterns: ['x*'] }), /patterns\[0\] matches the empty text/);
});
