// Each surface recognises its dialect's in-stream error event (used to treat a stream that opens
// with one as a failed attempt) and nothing that merely mentions an error in its text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicMessages } from '../../src/surfaces/anthropic/index.ts';
import { openaiChat, openaiResponses } from '../../src/surfaces/openai/index.ts';
import { sseDataLooksWhole, sseWholePrefix } from '../../src/streaming/frame-splitter.ts';
import { startsAnyLine } from '../../src/streaming/frame-scan.ts';

const b = (text: string) => Buffer.from(text);

test('Anthropic: event: error, not a text delta that says "event: error"', () => {
  assert.equal(anthropicMessages.isStreamError(b('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n')), true);
  assert.equal(anthropicMessages.isStreamError(b('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"event: error"}}\n\n')), false);
});

test('startsAnyLine (shared by the surfaces): a marker at the start of the batch or of a line after LF or CR, never mid-line', () => {
  const markers = [b('event: error'), b('data: {"error"')];
  assert.equal(startsAnyLine(b('event: error\ndata: {}\n\n'), markers), true);
  assert.equal(startsAnyLine(b('data: {"a":1}\n\ndata: {"error":{}}\n\n'), markers), true);
  assert.equal(startsAnyLine(b('data: {"a":1}\r\rdata: {"error":{}}\r\r'), markers), true, 'CR line ends');
  assert.equal(startsAnyLine(b('data: {"text":"event: error"}\n\n'), markers), false);
  assert.equal(startsAnyLine(b(''), markers), false);
});

test('OpenAI chat: a data line that is an error object; Responses: error and response.failed events', () => {
  assert.equal(openaiChat.isStreamError(b('data: {"error":{"message":"boom","type":"server_error"}}\n\n')), true);
  assert.equal(openaiChat.isStreamError(b('data: {"id":"c","choices":[{"delta":{"content":"data: {\\"error\\""}}]}\n\n')), false);
  assert.equal(openaiResponses.isStreamError(b('event: response.failed\ndata: {"type":"response.failed"}\n\n')), true);
  assert.equal(openaiResponses.isStreamError(b('event: response.created\ndata: {"type":"response.created"}\n\n')), false);
});

test('the structural check of SSE data: whole JSON passes, a cut or garbled event does not', () => {
  assert.equal(sseDataLooksWhole(b('data: {"a":1}\n\ndata: [DONE]\n\n')), true);
  assert.equal(sseDataLooksWhole(b('event: ping\ndata: {"type":"ping"}\r\n\r\n')), true);
  assert.equal(sseDataLooksWhole(b(': keep-alive comment\n\n')), true);
  assert.equal(sseDataLooksWhole(b('data: {"a":\ndata: 1}\n\n')), true, 'multi-line data is one value');
  assert.equal(sseDataLooksWhole(b('data: {"choices": [\n\n')), false);
  assert.equal(sseDataLooksWhole(b('data: not json\n\n')), false);
});

test('the whole prefix: the good events before a broken one are kept, byte-exact', () => {
  const good = 'data: {"a":1}\n\nevent: x\ndata: {"b":2}\n\n';
  const broken = 'data: {"c": [\n\n';
  assert.equal(sseWholePrefix(b(good + broken + 'data: {"d":4}\n\n')), Buffer.byteLength(good));
  assert.equal(sseWholePrefix(b(broken)), 0);
  assert.equal(sseWholePrefix(b(good)), Buffer.byteLength(good));
  assert.equal(sseWholePrefix(b('data: {"a":1}\r\n\r\ndata: nope\r\n\r\n')), Buffer.byteLength('data: {"a":1}\r\n\r\n'));
});
