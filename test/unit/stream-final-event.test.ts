// A stream's final event, read from whole frames without parsing them: the pass-through uses it to
// finish a stream that closed after its final event but without the dialect's terminator, and the
// provider decoders to end such a stream with response-end instead of an error part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PartSink, RequestSummary } from '../../src/canonical/adapters.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { MessagesStreamDecoder } from '../../src/providers/anthropic/decode-stream.ts';
import { indexOfStringMember, lastMemberIsString, lineStartsWithName } from '../../src/streaming/frame-scan.ts';
import { anthropicMessages } from '../../src/surfaces/anthropic/index.ts';
import { geminiStream } from '../../src/surfaces/gemini/index.ts';
import { ollamaChat } from '../../src/surfaces/ollama/index.ts';
import { openaiChat, openaiCompletions, openaiResponses } from '../../src/surfaces/openai/index.ts';
import { inspectOpenAIRequest } from '../../src/surfaces/openai/inspect.ts';

const b = (text: string): Buffer => Buffer.from(text);
const ONE: RequestSummary = { model: 'm', stream: true };
const chunk = (choices: object[]): string => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices })}\n\n`;

test('indexOfStringMember: a string value, not null; spaces after the colon; never a key inside a string', () => {
  const key = b('"finish_reason":');
  assert.equal(indexOfStringMember(b('{"finish_reason":null}'), key), -1);
  assert.equal(indexOfStringMember(b('{"finish_reason":"stop"}'), key), 1);
  assert.equal(indexOfStringMember(b('{"finish_reason": \t"stop"}'), key), 1);
  assert.equal(indexOfStringMember(b('{"a":null,"finish_reason":null}{"finish_reason":"length"}'), key), 32);
  assert.equal(indexOfStringMember(b('{"content":"{\\"finish_reason\\":\\"stop\\"}"}'), key), -1);
  assert.equal(indexOfStringMember(b('{"finish_reason":"stop"}'), key, 2), -1, 'from');
});

test('lastMemberIsString: the last member of that name in the batch decides', () => {
  const key = b('"stop_reason":');
  assert.equal(lastMemberIsString(b('{"stop_reason":null}'), key), false);
  assert.equal(lastMemberIsString(b('{"stop_reason":null}\n{"stop_reason": "end_turn"}'), key), true);
  assert.equal(lastMemberIsString(b('{"text":"\\"stop_reason\\":\\"x\\""}'), key), false);
  assert.equal(lastMemberIsString(b('{}'), key), false);
});

test('lineStartsWithName: one search for the name, a line start and one of the prefixes before it', () => {
  const prefixes = [b('event: '), b('event:'), b('data: {"type":"'), b('data: {"type": "')];
  const name = b('message_stop');
  assert.equal(lineStartsWithName(b('event: message_stop\ndata: {}\n\n'), name, prefixes), true);
  assert.equal(lineStartsWithName(b('event: ping\r\nevent:message_stop\r\n\r\n'), name, prefixes), true);
  assert.equal(lineStartsWithName(b('data: {"type": "message_stop"}\n\n'), name, prefixes), true);
  assert.equal(lineStartsWithName(b('data: {"type":"message_stopped"}\n\n'), name, prefixes), false, 'a quoted prefix needs the closing quote');
  assert.equal(lineStartsWithName(b('data: {"text":"event: message_stop"}\n\n'), name, prefixes), false, 'not at a line start');
  assert.equal(lineStartsWithName(b('xevent: message_stop\n\n'), name, prefixes), false);
  assert.equal(lineStartsWithName(b('message_stop\n\n'), name, prefixes), false, 'no prefix before it');
  const done = [b('data: '), b('data:')];
  assert.equal(lineStartsWithName(b('data: {"choices":[{"delta":{"content":"[DONE]"}}]}\n\ndata:[DONE]\n\n'), b('[DONE]'), done), true);
  assert.equal(lineStartsWithName(b('data: {"choices":[{"delta":{"content":"data: [DONE]"}}]}\n\n'), b('[DONE]'), done), false);
});

test('OpenAI chat and completions: the chunk with a finish_reason is the final event, [DONE] the terminator', () => {
  for (const surface of [openaiChat, openaiCompletions]) {
    const watch = surface.finalEventWatch(ONE)!;
    assert.equal(watch.terminator.toString(), 'data: [DONE]\n\n');
    assert.equal(watch.sees(b(chunk([{ index: 0, delta: { content: 'hi' }, finish_reason: null }]))), false);
    assert.equal(watch.sees(b(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]))), true);
    assert.equal(watch.sees(b(chunk([]).replace('"choices":[]', '"choices":[],"usage":{"prompt_tokens":1}'))), false, 'a usage chunk alone is not the final event');
  }
  assert.equal(openaiResponses.finalEventWatch(ONE), undefined, 'Responses: response.completed is both');
  assert.equal(geminiStream.finalEventWatch(ONE), undefined, 'Gemini: no terminator at all');
  assert.equal(ollamaChat.finalEventWatch(ONE), undefined, 'Ollama: the done line is both');
});

test('OpenAI with n > 1: the final event is the one that finishes the last unfinished choice', () => {
  const summary = inspectOpenAIRequest('chat', { model: 'm', stream: true, n: 3, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(summary.choices, 3);
  assert.equal(inspectOpenAIRequest('chat', { model: 'm', n: 1, messages: [{ role: 'user', content: 'hi' }] }).choices, undefined);
  const watch = openaiChat.finalEventWatch(summary)!;
  assert.notEqual(watch, openaiChat.finalEventWatch(summary), 'several choices: a watch per stream');
  assert.equal(openaiChat.finalEventWatch(ONE), openaiChat.finalEventWatch(ONE), 'one choice: one shared, stateless watch');
  assert.equal(watch.sees(b(chunk([{ index: 1, delta: {}, finish_reason: 'stop' }]))), false);
  assert.equal(watch.sees(b(chunk([{ index: 1, delta: {}, finish_reason: 'stop' }]))), false, 'the same choice twice counts once');
  // two finishes in one batch, the second in a data line with \r\n and no space after the colon
  const batch = chunk([{ index: 0, delta: { content: 'x' }, finish_reason: null }]) + chunk([{ index: 0, delta: {}, finish_reason: 'length' }]).replace('\n\n', '\r\n\r\n').replace('data: ', 'data:');
  assert.equal(watch.sees(b(batch)), false);
  assert.equal(watch.sees(b(chunk([{ index: 2, delta: {}, finish_reason: 'stop' }]))), true);
});

test('Anthropic: message_delta with a stop_reason is the final event (message_start carries a null one), message_stop the terminator', () => {
  const watch = anthropicMessages.finalEventWatch(ONE)!;
  assert.equal(watch.terminator.toString(), 'event: message_stop\ndata: {"type":"message_stop"}\n\n');
  assert.equal(watch.sees(b('event: message_start\ndata: {"type":"message_start","message":{"id":"m","stop_reason":null,"usage":{"input_tokens":1}}}\n\n')), false);
  assert.equal(watch.sees(b('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\\"stop_reason\\":\\"end_turn\\""}}\n\n')), false);
  assert.equal(watch.sees(b('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}\n\n')), true);
});

class Parts implements PartSink {
  readonly parts: StreamPart[] = [];
  onPart(part: StreamPart): void {
    this.parts.push(part);
  }
}

function anthropicEvents(withDelta: boolean): string {
  const event = (type: string, data: object): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return event('message_start', { message: { id: 'msg_1', model: 'claude', content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } } })
    + event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } })
    + event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } })
    + (withDelta ? event('content_block_stop', { index: 0 }) + event('message_delta', { delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 2 } }) : '');
}

test('Anthropic decoder: closed after message_delta without message_stop → response-end; before it → an error part', () => {
  const whole = new Parts();
  const decoder = new MessagesStreamDecoder();
  decoder.push(b(anthropicEvents(true)), whole);
  decoder.end(whole);
  assert.deepEqual(whole.parts.at(-1), { type: 'response-end', finishReason: 'length', rawFinishReason: 'max_tokens', usage: { inputTokens: 5, outputTokens: 2 } });
  assert.ok(!whole.parts.some((part) => part.type === 'error'));

  const cut = new Parts();
  const truncated = new MessagesStreamDecoder();
  truncated.push(b(anthropicEvents(false)), cut);
  truncated.end(cut);
  assert.equal(cut.parts.at(-1)!.type, 'error');
  assert.ok(!cut.parts.some((part) => part.type === 'response-end'));
});
