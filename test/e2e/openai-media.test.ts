// The media and utility endpoints through the gateway with the real `openai` SDK (a plain HTTP
// client for rerank): routed like chat — aliases rename the model in the upstream body, a 5xx
// falls back to the next target, a provider without the capability gets the clear 400 — and the
// answers come back as the provider sent them (JSON, audio bytes streamed as they arrive).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { BadRequestError, toFile } from 'openai';
import { openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { formOf, startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { readdirSync } from 'node:fs';
import { uploadSpool } from '../../src/server/upload-spool.ts';

const MEDIA = { images: true, imageEdits: true, transcriptions: true, translations: true, speech: true, moderations: true, rerank: true };
const CHAT_ONLY = { chat: true, completions: true, embeddings: true, responses: false };

const IMAGE_USAGE = { input_tokens: 50, output_tokens: 4160, total_tokens: 4210, input_tokens_details: { text_tokens: 50, image_tokens: 0 } };
const imageAnswer = { created: 1, data: [{ b64_json: Buffer.from('not really a png').toString('base64') }], usage: IMAGE_USAGE };
const moderationAnswer = (model: string) => ({
  id: 'modr-1', model, results: [{ flagged: false, categories: { violence: false }, category_scores: { violence: 0.001 }, category_applied_input_types: { violence: ['text'] } }],
});
const rerankAnswer = (model: string) => ({
  id: 'rerank-1', model, usage: { total_tokens: 37 },
  results: [{ index: 1, relevance_score: 0.93, document: { text: 'Paris is the capital of France.' } }, { index: 0, relevance_score: 0.02, document: { text: 'Bananas are yellow.' } }],
});

const TRANSCRIBE_USAGE = { type: 'tokens', input_tokens: 120, output_tokens: 9, total_tokens: 129, input_token_details: { text_tokens: 0, audio_tokens: 120 } };
/** An upload big enough to be spooled in many chunks, with every byte value in it. */
const AUDIO_UPLOAD = Buffer.from(Array.from({ length: 300 * 1024 }, (_, i) => (i * 7 + (i >> 9)) & 0xff));
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2048, 0x42)]);
const transcriptEvents = [
  JSON.stringify({ type: 'transcript.text.delta', delta: 'Hello' }),
  JSON.stringify({ type: 'transcript.text.delta', delta: ' world.' }),
  JSON.stringify({ type: 'transcript.text.done', text: 'Hello world.', usage: TRANSCRIBE_USAGE }),
];

/** Audio the mock "speaks": three chunks, each released only once the client has read the ones before. */
const AUDIO = [Buffer.from([0xff, 0xfb, 0x90, 0x00, 1, 2, 3]), Buffer.alloc(64 * 1024, 0xaa), Buffer.from([0x00, 0xff, 0x7f, 0x80])];

let primary: MockUpstream;
let flaky: MockUpstream;
let chatOnly: MockUpstream;
let gateway: TestGateway;
let client: OpenAI;
/** Gates the speech test's reader opens as bytes arrive; the mock waits on them. */
const gates = new Map<number, { promise: Promise<void>; resolve: () => void }>();

function gate(index: number): Promise<void> {
  let entry = gates.get(index);
  if (entry === undefined) {
    let resolve!: () => void;
    const promise = new Promise<void>((done) => { resolve = done; });
    entry = { promise, resolve };
    gates.set(index, entry);
  }
  return entry.promise;
}

function answer(request: RecordedRequest): Behavior {
  const path = request.path.split('?')[0]!;
  const model = String(request.body?.model ?? '');
  switch (path) {
    case '/v1/images/generations':
      return { kind: 'json', status: 200, body: imageAnswer };
    case '/v1/audio/speech':
      return { kind: 'chunks', chunks: AUDIO, contentType: 'audio/mpeg', gate };
    case '/v1/moderations':
      return { kind: 'json', status: 200, body: moderationAnswer(model || 'omni-moderation-latest') };
    case '/v1/rerank':
      return { kind: 'json', status: 200, body: rerankAnswer(model) };
    case '/v1/audio/transcriptions':
      // a form: the script only peeks at the raw bytes (the tests parse them afterwards)
      if (request.rawBody.includes('name="stream"\r\n\r\ntrue')) return { kind: 'stream', events: transcriptEvents, headers: { 'content-type': 'text/event-stream' } };
      return { kind: 'json', status: 200, body: { text: 'Hello world.', usage: TRANSCRIBE_USAGE } };
    case '/v1/audio/translations':
      return { kind: 'raw', status: 200, body: 'Hello, world.\n', headers: { 'content-type': 'text/plain; charset=utf-8' } };
    case '/v1/images/edits':
      return { kind: 'json', status: 200, body: imageAnswer };
    default:
      return { kind: 'json', status: 404, body: openAiError(`Invalid URL (${request.method} ${path})`) };
  }
}

before(async () => {
  primary = await startMockUpstream({ script: (request) => answer(request) });
  flaky = await startMockUpstream({ script: () => ({ kind: 'json', status: 500, body: openAiError('The server had an error.', 'server_error') }) });
  chatOnly = await startMockUpstream();
  gateway = await startTestGateway({
    keys: ['sk-media'],
    providers: [
      { name: 'oai', baseUrl: `${primary.url}/v1`, models: ['gpt-image-1', 'dall-e-*', 'gpt-4o-mini-tts', 'gpt-4o-transcribe', 'whisper-1', 'omni-moderation-*', 'rerank-*'], capabilities: { ...CHAT_ONLY, ...MEDIA } },
      { name: 'flaky', baseUrl: `${flaky.url}/v1`, models: [], capabilities: { ...CHAT_ONLY, ...MEDIA } },
      { name: 'local', baseUrl: `${chatOnly.url}/v1`, models: ['llama-*'], capabilities: CHAT_ONLY },
    ],
    models: [
      { name: 'painter', targets: [{ provider: 'oai', model: 'gpt-image-1' }] },
      { name: 'sturdy-painter', strategy: 'fill-first', targets: [{ provider: 'flaky', model: 'gpt-image-1' }, { provider: 'oai', model: 'gpt-image-1' }] },
      { name: 'voice', targets: [{ provider: 'oai', model: 'gpt-4o-mini-tts' }] },
      { name: 'ranker', targets: [{ provider: 'oai', model: 'rerank-v3.5' }] },
      { name: 'scribe', targets: [{ provider: 'oai', model: 'gpt-4o-transcribe' }] },
      { name: 'sturdy-scribe', strategy: 'fill-first', targets: [{ provider: 'flaky', model: 'gpt-4o-transcribe' }, { provider: 'oai', model: 'gpt-4o-transcribe' }] },
    ],
    prices: [{ model: 'gpt-image-1', price: { input: 5, output: 40 } }, { model: 'gpt-4o-transcribe', price: { input: 6, output: 10 } }],
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-media', maxRetries: 0 });
});

after(async () => {
  await gateway?.close();
  await Promise.all([primary?.close(), flaky?.close(), chatOnly?.close()]);
});

/** The access lines written so far for `path` (written when each response closes). */
async function accessLine(path: string, nth = 0): Promise<Record<string, any>> {
  for (let i = 0; i < 400; i++) {
    const lines = gateway.logs.filter((line) => line.msg === 'request' && line.path === path);
    if (lines.length > nth) return lines[nth]!;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no access line for ${path}`);
}

describe('images.generate', () => {
  test('through an alias: the upstream body names the renamed model; usage and cost are recorded', async () => {
    const before = primary.requests.length;
    const { data, response } = await client.images.generate({ model: 'painter', prompt: 'a lighthouse at dusk', size: '1024x1024' }).withResponse();
    assert.equal(data.data?.[0]?.b64_json, imageAnswer.data[0]!.b64_json);
    assert.deepEqual(data.usage, IMAGE_USAGE);
    assert.equal(response.headers.get('x-switchyard-provider'), 'oai');
    assert.equal(response.headers.get('x-switchyard-model'), 'gpt-image-1');
    const sent = primary.requests[before]!;
    assert.equal(sent.path, '/v1/images/generations');
    assert.deepEqual(sent.body, { model: 'gpt-image-1', prompt: 'a lighthouse at dusk', size: '1024x1024' });
    const line = await accessLine('/v1/images/generations');
    assert.equal(line.surface, 'openai-image-generations');
    assert.deepEqual(line.tokens, { in: 50, out: 4160, cached: 0, reasoning: 0 });
    assert.ok(Math.abs(line.cost_usd - (50 * 5 + 4160 * 40) / 1e6) < 1e-9, String(line.cost_usd));
  });

  test('without a model: OpenAI\'s default (dall-e-2) is routed, and the body goes upstream as sent', async () => {
    const before = primary.requests.length;
    const { response } = await client.images.generate({ prompt: 'a cat' }).withResponse();
    assert.equal(response.headers.get('x-switchyard-model'), 'dall-e-2');
    assert.deepEqual(primary.requests[before]!.body, { prompt: 'a cat' });
  });

  test('a 5xx from the first target falls back to the next', async () => {
    const flakyBefore = flaky.requests.length;
    const { data, response } = await client.images.generate({ model: 'sturdy-painter', prompt: 'a boat' }).withResponse();
    assert.equal(data.data?.length, 1);
    assert.equal(response.headers.get('x-switchyard-provider'), 'oai');
    assert.ok(flaky.requests.length > flakyBefore, 'the first target was tried');
    assert.equal(flaky.requests.at(-1)!.body.model, 'gpt-image-1');
  });

  test('a model whose provider does not serve images: 400 naming model, provider and path', async () => {
    const before = chatOnly.requests.length;
    await assert.rejects(client.images.generate({ model: 'llama-3', prompt: 'x' }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError, String(error));
      assert.equal(error.code, 'unsupported_operation');
      assert.equal(error.param, 'model');
      assert.match(error.message, /'llama-3'/);
      assert.match(error.message, /local/);
      assert.match(error.message, /\/v1\/images\/generations/);
      return true;
    });
    assert.equal(chatOnly.requests.length, before, 'nothing was sent upstream');
  });

  test('a request without a prompt is refused before routing', async () => {
    await assert.rejects(client.images.generate({ model: 'painter' } as never), (error: unknown) => {
      assert.ok(error instanceof BadRequestError);
      assert.equal(error.param, 'prompt');
      return true;
    });
  });
});

describe('audio.speech.create', () => {
  test('the audio streams back as it arrives, byte for byte, with the upstream content type', { timeout: 15_000 }, async () => {
    const before = primary.requests.length;
    const response = await client.audio.speech.create({ model: 'voice', voice: 'alloy', input: 'Hello there.' });
    assert.equal(response.headers.get('content-type'), 'audio/mpeg');
    assert.equal(response.headers.get('x-switchyard-model'), 'gpt-4o-mini-tts');
    const reader = response.body!.getReader();
    const received: Buffer[] = [];
    let total = 0;
    let boundary = AUDIO[0]!.length;
    let nextChunk = 1;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received.push(Buffer.from(value));
      total += value.length;
      // the mock sends its next chunk only once the client holds every byte before it: a
      // gateway that buffered the answer would never deliver them, and this test would hang
      while (nextChunk < AUDIO.length && total >= boundary) {
        void gate(nextChunk);
        gates.get(nextChunk)!.resolve();
        boundary += AUDIO[nextChunk]!.length;
        nextChunk++;
      }
    }
    assert.ok(Buffer.concat(received).equals(Buffer.concat(AUDIO)), 'the audio arrived intact');
    const sent = primary.requests[before]!;
    assert.equal(sent.body.model, 'gpt-4o-mini-tts');
    assert.equal(sent.headers.accept, '*/*');
    const line = await accessLine('/v1/audio/speech');
    assert.equal(line.status, 200);
    assert.equal(line.tokens, undefined, 'no usage reported, none recorded');
  });
});

describe('moderations.create', () => {
  test('passes through; without a model, omni-moderation-latest is routed', async () => {
    const result = await client.moderations.create({ input: 'I like turtles' });
    assert.equal(result.results[0]!.flagged, false);
    assert.equal(result.model, 'omni-moderation-latest');
    const line = await accessLine('/v1/moderations');
    assert.equal(line.model, 'omni-moderation-latest');
    assert.equal(line.provider, 'oai');
  });
});

describe('rerank (plain HTTP, Cohere / Jina / vLLM shape)', () => {
  const post = (path: string, body: unknown) => fetch(`${gateway.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-media' }, body: JSON.stringify(body),
  });

  test('through an alias, with and without /v1; usage tokens are recorded', async () => {
    const before = primary.requests.length;
    const body = { model: 'ranker', query: 'capital of France', documents: ['Bananas are yellow.', 'Paris is the capital of France.'], top_n: 2, return_documents: true };
    const response = await post('/v1/rerank', body);
    assert.equal(response.status, 200);
    const answer = await response.json() as any;
    assert.equal(answer.results[0].index, 1);
    assert.deepEqual(primary.requests[before]!.body, { ...body, model: 'rerank-v3.5' });
    const bare = await post('/rerank', body);
    assert.equal(bare.status, 200);
    await bare.arrayBuffer();
    const line = await accessLine('/v1/rerank');
    assert.deepEqual(line.tokens, { in: 37, out: 0, cached: 0, reasoning: 0 });
  });

  test('without documents: 400 naming the field', async () => {
    const response = await post('/v1/rerank', { model: 'ranker', query: 'q' });
    assert.equal(response.status, 400);
    assert.equal((await response.json() as any).error.param, 'documents');
  });
});

describe('uploads (multipart): the form is streamed through, the model renamed, the file intact', () => {
  const audioFile = () => toFile(AUDIO_UPLOAD, 'speech.mp3', { type: 'audio/mpeg' });

  test('audio.transcriptions.create through an alias: model renamed in the form, every other part as sent; usage and cost recorded', async () => {
    const before = primary.requests.length;
    const { data, response } = await client.audio.transcriptions.create({ model: 'scribe', file: await audioFile(), language: 'en', temperature: 0 }).withResponse();
    assert.equal(data.text, 'Hello world.');
    assert.equal(response.headers.get('x-switchyard-model'), 'gpt-4o-transcribe');
    const sent = primary.requests[before]!;
    assert.equal(sent.path, '/v1/audio/transcriptions');
    assert.match(String(sent.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.equal(Number(sent.headers['content-length']), sent.rawBody.length, 'sent with its exact length');
    const form = await formOf(sent);
    assert.equal(form.get('model'), 'gpt-4o-transcribe');
    assert.equal(form.getAll('model').length, 1);
    assert.equal(form.get('language'), 'en');
    assert.equal(form.get('temperature'), '0');
    const file = form.get('file') as File;
    assert.equal(file.name, 'speech.mp3');
    assert.equal(file.type, 'audio/mpeg');
    assert.ok(Buffer.from(await file.arrayBuffer()).equals(AUDIO_UPLOAD), 'the audio arrived intact');
    const line = await accessLine('/v1/audio/transcriptions');
    assert.equal(line.surface, 'openai-transcriptions');
    assert.deepEqual(line.tokens, { in: 120, out: 9, cached: 0, reasoning: 0 });
    assert.ok(Math.abs(line.cost_usd - (120 * 6 + 9 * 10) / 1e6) < 1e-9, String(line.cost_usd));
  });

  test('a 5xx from the first target falls back to the next, which gets the same form again, byte for byte', async () => {
    const flakyBefore = flaky.requests.length;
    const before = primary.requests.length;
    const { data, response } = await client.audio.transcriptions.create({ model: 'sturdy-scribe', file: await audioFile(), prompt: 'greetings' }).withResponse();
    assert.equal(data.text, 'Hello world.');
    assert.equal(response.headers.get('x-switchyard-provider'), 'oai');
    const first = flaky.requests[flakyBefore]!;
    const second = primary.requests[before]!;
    assert.ok(first.rawBody.equals(second.rawBody), 'the replayed form is the same bytes');
    const form = await formOf(second);
    assert.equal(form.get('model'), 'gpt-4o-transcribe');
    assert.equal(form.get('prompt'), 'greetings');
    assert.ok(Buffer.from(await (form.get('file') as File).arrayBuffer()).equals(AUDIO_UPLOAD));
  });

  test('a streamed transcription passes through as SSE to its done event, usage read from it', async () => {
    const stream = await client.audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await audioFile(), stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'transcript.text.delta') text += event.delta;
    }
    assert.deepEqual(types, ['transcript.text.delta', 'transcript.text.delta', 'transcript.text.done']);
    assert.equal(text, 'Hello world.');
    const lines = gateway.logs.filter((line) => line.msg === 'request' && line.path === '/v1/audio/transcriptions' && line.stream === true);
    for (let i = 0; lines.length === 0 && i < 400; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      lines.push(...gateway.logs.filter((line) => line.msg === 'request' && line.path === '/v1/audio/transcriptions' && line.stream === true));
    }
    assert.equal(lines[0]!.error, undefined, 'a complete stream');
    assert.deepEqual(lines[0]!.tokens, { in: 120, out: 9, cached: 0, reasoning: 0 });
  });

  test('audio.translations.create: a text answer comes back as the provider sent it', async () => {
    const before = primary.requests.length;
    const text = await client.audio.translations.create({ model: 'whisper-1', file: await audioFile(), response_format: 'text' });
    assert.equal(text, 'Hello, world.\n');
    const sent = primary.requests[before]!;
    assert.equal(sent.path, '/v1/audio/translations');
    assert.equal(sent.headers.accept, '*/*');
    const form = await formOf(sent);
    assert.equal(form.get('model'), 'whisper-1');
    assert.equal(form.get('response_format'), 'text');
  });

  test('images.edit with two images through an alias; without a model, dall-e-2 is routed and the form sent as it came', async () => {
    const before = primary.requests.length;
    const images = [await toFile(PNG, 'a.png', { type: 'image/png' }), await toFile(Buffer.concat([PNG, PNG]), 'b.png', { type: 'image/png' })];
    const result = await client.images.edit({ model: 'painter', image: images, prompt: 'add a hat' });
    assert.equal(result.data?.[0]?.b64_json, imageAnswer.data[0]!.b64_json);
    const form = await formOf(primary.requests[before]!);
    assert.equal(form.get('model'), 'gpt-image-1');
    assert.equal(form.get('prompt'), 'add a hat');
    const sentImages = form.getAll('image[]') as File[];
    assert.deepEqual(sentImages.map((image) => image.name), ['a.png', 'b.png']);
    assert.ok(Buffer.from(await sentImages[1]!.arrayBuffer()).equals(Buffer.concat([PNG, PNG])));

    const { response } = await client.images.edit({ image: await toFile(PNG, 'c.png', { type: 'image/png' }), prompt: 'no model' }).withResponse();
    assert.equal(response.headers.get('x-switchyard-model'), 'dall-e-2');
    const plain = await formOf(primary.requests[before + 1]!);
    assert.equal(plain.get('model'), null, 'no model added when routing did not rename it');
  });

  test('a model whose provider does not serve transcriptions: the 400 naming model, provider and path', async () => {
    const before = chatOnly.requests.length;
    await assert.rejects(client.audio.transcriptions.create({ model: 'llama-3', file: await audioFile() }), (error: unknown) => {
      assert.ok(error instanceof BadRequestError, String(error));
      assert.equal(error.code, 'unsupported_operation');
      assert.match(error.message, /'llama-3' \(provider local\) does not serve \/v1\/audio\/transcriptions/);
      return true;
    });
    assert.equal(chatOnly.requests.length, before);
  });

  test('a form without its file is refused before routing', async () => {
    await assert.rejects(client.audio.transcriptions.create({ model: 'scribe' } as never), (error: unknown) => {
      assert.ok(error instanceof BadRequestError, String(error));
      assert.equal(error.param, 'file');
      return true;
    });
  });

  test('every spooled upload is removed once its request is done', async () => {
    const directory = uploadSpool().directory;
    for (let i = 0; i < 200 && readdirSync(directory).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(readdirSync(directory), []);
  });
});
