// The media surfaces read just enough to route: the model (or OpenAI's default for it), whether a
// stream is asked for, the fields and files without which the request cannot be right — and they
// know how their streams end. Anything else in a body is the provider's business.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { GatewayError } from '../../src/canonical/errors.ts';
import type { SurfaceAdapter } from '../../src/canonical/adapters.ts';
import {
  openaiImageEdits, openaiImageGenerations, openaiModerations, openaiRerank, openaiSpeech, openaiTranscriptions, openaiTranslations,
} from '../../src/surfaces/openai/media.ts';

const request = { params: {}, query: '', headers: {} };
const file = { filename: 'a.wav', contentType: 'audio/wav', size: 10 };

function refusal(surface: SurfaceAdapter, body: unknown): GatewayError {
  try {
    surface.inspect(body, request);
  } catch (error) {
    assert.ok(error instanceof GatewayError, String(error));
    assert.equal(error.status, 400);
    return error;
  }
  assert.fail(`${surface.name} accepted ${JSON.stringify(body)}`);
}

test('the model routes the request; OpenAI\'s defaults where its API has one, required elsewhere', () => {
  assert.deepEqual(openaiImageGenerations.inspect({ model: 'gpt-image-1', prompt: 'p' }, request), { model: 'gpt-image-1', stream: false });
  assert.equal(openaiImageGenerations.inspect({ prompt: 'p' }, request).model, 'dall-e-2');
  assert.equal(openaiImageEdits.inspect({ prompt: 'p', image: file }, request).model, 'dall-e-2');
  assert.equal(openaiModerations.inspect({ input: 'x' }, request).model, 'omni-moderation-latest');
  assert.equal(refusal(openaiSpeech, { input: 'hi', voice: 'alloy' }).param, 'model');
  assert.equal(refusal(openaiTranscriptions, { file }).param, 'model');
  assert.equal(refusal(openaiRerank, { query: 'q', documents: [] }).param, 'model');
  assert.equal(refusal(openaiRerank, { model: '', query: 'q', documents: [] }).param, 'model');
  assert.equal(refusal(openaiModerations, { model: 7, input: 'x' }).param, 'model');
});

test('required fields and files', () => {
  assert.equal(refusal(openaiImageGenerations, { model: 'm' }).param, 'prompt');
  assert.equal(refusal(openaiSpeech, { model: 'm' }).param, 'input');
  assert.equal(refusal(openaiModerations, { model: 'm' }).param, 'input');
  assert.equal(refusal(openaiRerank, { model: 'm', documents: ['a'] }).param, 'query');
  assert.equal(refusal(openaiRerank, { model: 'm', query: 'q' }).param, 'documents');
  assert.equal(refusal(openaiTranscriptions, { model: 'm' }).param, 'file');
  assert.equal(refusal(openaiTranslations, { model: 'm', file: 'not a file' }).param, 'file');
  assert.equal(refusal(openaiImageEdits, { model: 'm', prompt: 'p' }).param, 'image');
  assert.equal(openaiImageEdits.inspect({ model: 'm', prompt: 'p', 'image[]': file }, request).model, 'm');
  // a form's text field must be text
  assert.equal(refusal(openaiImageEdits, { model: 'm', prompt: file, image: file }).param, 'prompt');
  assert.match(refusal(openaiRerank, ['not', 'an', 'object']).message, /JSON object/);
});

test('a stream is asked for with `stream` (text "true" in a form) or speech\'s stream_format: "sse"', () => {
  assert.equal(openaiImageGenerations.inspect({ model: 'm', prompt: 'p', stream: true }, request).stream, true);
  assert.equal(refusal(openaiImageGenerations, { model: 'm', prompt: 'p', stream: 'yes' }).param, 'stream');
  assert.equal(openaiTranscriptions.inspect({ model: 'm', file, stream: 'true' }, request).stream, true);
  assert.equal(openaiTranscriptions.inspect({ model: 'm', file, stream: 'false' }, request).stream, false);
  assert.equal(openaiSpeech.inspect({ model: 'm', input: 'x', stream_format: 'sse' }, request).stream, true);
  assert.equal(openaiSpeech.inspect({ model: 'm', input: 'x', stream_format: 'audio' }, request).stream, false);
  assert.equal(openaiTranslations.inspect({ model: 'm', file, stream: 'true' }, request).stream, false, 'translations do not stream');
});

test('body kinds and Accept: uploads are multipart, audio answers are taken in any type', () => {
  assert.deepEqual([openaiImageEdits, openaiTranscriptions, openaiTranslations].map((surface) => surface.body), ['multipart', 'multipart', 'multipart']);
  assert.deepEqual([openaiImageGenerations, openaiSpeech, openaiModerations, openaiRerank].map((surface) => surface.body), ['json', 'json', 'json', 'json']);
  assert.equal(openaiSpeech.accept, '*/*');
  assert.equal(openaiTranscriptions.accept, '*/*');
  assert.equal(openaiImageGenerations.accept, undefined);
});

test('their streams end with their done events (or [DONE]); errors are recognised at the start', () => {
  const events = (lines: string) => Buffer.from(lines);
  assert.equal(openaiTranscriptions.isStreamTerminal(events('data: {"type":"transcript.text.delta","delta":"x"}\n\n')), false);
  assert.equal(openaiTranscriptions.isStreamTerminal(events('data: {"type":"transcript.text.done","text":"x"}\n\n')), true);
  assert.equal(openaiTranscriptions.isStreamTerminal(events('data: [DONE]\n\n')), true);
  assert.equal(openaiSpeech.isStreamTerminal(events('event: speech.audio.done\ndata: {}\n\n')), true);
  assert.equal(openaiImageGenerations.isStreamTerminal(events('event: image_generation.partial_image\ndata: {"type":"image_generation.partial_image"}\n\n')), false);
  assert.equal(openaiImageGenerations.isStreamTerminal(events('data: {"type":"image_generation.completed"}\n\n')), true);
  assert.equal(openaiImageEdits.isStreamTerminal(events('data: {"type":"image_edit.completed"}\n\n')), true);
  // a delta whose text reads like the marker is inside a JSON string, never at a line start
  assert.equal(openaiTranscriptions.isStreamTerminal(events('data: {"type":"transcript.text.delta","delta":"data: [DONE]"}\n\n')), false);
  assert.equal(openaiTranscriptions.isStreamError(events('event: error\ndata: {"type":"error"}\n\n')), true);
  assert.equal(openaiTranscriptions.isStreamError(events('data: {"error":{"message":"x"}}\n\n')), true);
  assert.match(openaiSpeech.encodeStreamError({ code: 'SWY_ERR_X', status: 502, message: 'broken', origin: 'upstream', errorClass: 'reset', retryable: false, fallbackAllowed: false }).toString(), /^event: error\ndata: \{"type":"error"/);
});

test('any JSON: inspect answers a summary or a 400, never anything else', () => {
  const surfaces = [openaiImageGenerations, openaiImageEdits, openaiTranscriptions, openaiTranslations, openaiSpeech, openaiModerations, openaiRerank];
  fc.assert(fc.property(fc.constantFrom(...surfaces), fc.jsonValue(), (surface, body) => {
    try {
      const summary = surface.inspect(body, request);
      assert.equal(typeof summary.model, 'string');
      assert.ok(summary.model.length > 0);
      assert.equal(typeof summary.stream, 'boolean');
    } catch (error) {
      assert.ok(error instanceof GatewayError && error.status === 400, String(error));
    }
  }), { numRuns: 2000 });
});
