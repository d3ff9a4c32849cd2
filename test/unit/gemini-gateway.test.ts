// The Gemini surface and provider through a real gateway and mock upstreams: byte pass-through
// between Gemini ends (the model changed only in the path, the client's key never forwarded),
// translation when a thinking suffix asks for it, streamed JSON arrays, countTokens and
// embeddings that name the routed model, and errors in Google's shape.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';

type Json = Record<string, any>;

const CLIENT_KEY = 'sk-gemini-client';
const UPSTREAM_KEY = 'AIza-upstream-key';

const answer = (text: string, finish?: string): Json => ({
  candidates: [{ content: { parts: [{ text }], role: 'model' }, ...(finish !== undefined ? { finishReason: finish } : {}), index: 0 }],
  usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
  modelVersion: 'gemini-2.5-flash',
  responseId: 'resp-1',
});
const ARRAY_CHUNKS = [`[${JSON.stringify(answer('Hel'))}`, `,\r\n${JSON.stringify(answer('lo', 'STOP'))}]`];

function gemini(request: RecordedRequest): Behavior {
  if (request.path.includes(':countTokens')) return { kind: 'json', status: 200, body: { totalTokens: 11 } };
  if (request.path.includes(':batchEmbedContents')) return { kind: 'json', status: 200, body: { embeddings: request.body.requests.map((_: unknown, i: number) => ({ values: [i, 0.5] })) } };
  if (request.path.includes('broken')) return { kind: 'json', status: 429, body: { error: { code: 429, message: 'Quota exceeded.', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '9s' }] } } };
  if (request.path.includes(':streamGenerateContent?alt=sse')) return { kind: 'stream', events: [JSON.stringify(answer('Hel')), JSON.stringify(answer('lo', 'STOP'))] };
  if (request.path.includes(':streamGenerateContent')) return { kind: 'chunks', contentType: 'application/json; charset=UTF-8', chunks: ARRAY_CHUNKS };
  return { kind: 'json', status: 200, body: answer('Hello', 'STOP') };
}

const openaiChunk = (delta: Json, finish: string | null = null) => JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-x', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });

function openai(request: RecordedRequest): Behavior {
  if (request.body?.model === 'gpt-reset') return { kind: 'stream', events: [openaiChunk({ role: 'assistant', content: '' }), openaiChunk({ content: 'Hel' })], thenBehavior: 'reset' };
  return { kind: 'default' };
}

let googleMock: MockUpstream;
let openaiMock: MockUpstream;
let gateway: TestGateway;

before(async () => {
  googleMock = await startMockUpstream({ script: gemini });
  openaiMock = await startMockUpstream({ script: openai });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [
      { name: 'google', dialect: 'gemini', baseUrl: `${googleMock.url}/v1beta`, apiKeys: [UPSTREAM_KEY], auth: { header: 'x-goog-api-key', prefix: '' }, // named, not `gemini-*`: a wildcard would also match `gemini-2.5-flash(8192)` before its suffix is read
        models: ['gemini-2.5-flash', 'gemini-3-pro-preview', 'gemini-embedding-001', 'broken-1'] },
      { name: 'oai', baseUrl: `${openaiMock.url}/v1`, models: ['gpt-*', 'mock-gpt'] },
    ],
    models: [
      { name: 'fast', targets: [{ provider: 'google', model: 'gemini-2.5-flash' }] },
      { name: 'embedder', targets: [{ provider: 'google', model: 'gemini-embedding-001' }] },
    ],
  });
});

after(async () => {
  await gateway?.close();
  await googleMock?.close();
  await openaiMock?.close();
});

const read = async (response: Response) => (await response.json()) as Json;
const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
const post = (path: string, payload = body, headers: Record<string, string> = { 'x-goog-api-key': CLIENT_KEY }) =>
  fetch(gateway.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });

test('pass-through: bytes as sent, the alias resolved in the path, the client key replaced', async () => {
  const seen = googleMock.requests.length;
  const response = await post(`/v1beta/models/fast:generateContent?key=${CLIENT_KEY}`, body, {});
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), answer('Hello', 'STOP'));
  const sent = googleMock.requests[seen]!;
  assert.equal(sent.path, '/v1beta/models/gemini-2.5-flash:generateContent');
  assert.equal(sent.rawBody.toString(), body, 'the body untouched');
  assert.equal(sent.headers['x-goog-api-key'], UPSTREAM_KEY);
  assert.equal(response.headers.get('x-switchyard-model'), 'gemini-2.5-flash');
});

test('pass-through streams: SSE and the JSON array, forwarded as they come', async () => {
  const seen = googleMock.requests.length;
  const sse = await post('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
  assert.equal(await sse.text(), `data: ${JSON.stringify(answer('Hel'))}\n\ndata: ${JSON.stringify(answer('lo', 'STOP'))}\n\n`);
  const array = await post('/v1/models/gemini-2.5-flash:streamGenerateContent');
  assert.equal(await array.text(), ARRAY_CHUNKS.join(''));
  assert.equal(googleMock.requests[seen]!.headers.accept, 'text/event-stream');
  assert.equal(googleMock.requests[seen + 1]!.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent', 'no alt: the array form upstream too');
  assert.equal(googleMock.requests[seen + 1]!.headers.accept, 'application/json');
});

test('a thinking suffix translates Gemini to Gemini with the budget set', async () => {
  const seen = googleMock.requests.length;
  const response = await post('/v1beta/models/gemini-2.5-flash(8192):streamGenerateContent?alt=sse', JSON.stringify({
    contents: [{ role: 'user', parts: [{ text: 'Think.' }] }],
    safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
    generationConfig: { temperature: 0.5 },
  }));
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /"finishReason":"STOP"/);
  const sent = googleMock.requests[seen]!;
  assert.equal(sent.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  assert.deepEqual(sent.body.generationConfig, { temperature: 0.5, thinkingConfig: { thinkingBudget: 8192, includeThoughts: true } });
  assert.equal(sent.body.safetySettings[0].threshold, 'BLOCK_NONE', 'kept for a Gemini upstream');
  const effort = await post('/v1beta/models/gemini-3-pro-preview(high):generateContent');
  assert.equal(effort.status, 200);
  assert.deepEqual(googleMock.requests[seen + 1]!.body.generationConfig, { thinkingConfig: { thinkingLevel: 'high', includeThoughts: true } });
});

test('countTokens and batchEmbedContents name the routed model, not the alias', async () => {
  const seen = googleMock.requests.length;
  const count = await post('/v1beta/models/fast:countTokens', JSON.stringify({ generateContentRequest: { model: 'models/fast', contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] } }));
  assert.deepEqual(await count.json(), { totalTokens: 11 });
  assert.equal(googleMock.requests[seen]!.path, '/v1beta/models/gemini-2.5-flash:countTokens');
  assert.equal(googleMock.requests[seen]!.body.generateContentRequest.model, 'models/gemini-2.5-flash');
  const embed = await post('/v1beta/models/embedder:batchEmbedContents', JSON.stringify({
    requests: ['a', 'b'].map((text) => ({ model: 'models/embedder', content: { parts: [{ text }] }, taskType: 'RETRIEVAL_QUERY' })),
  }));
  assert.deepEqual(await embed.json(), { embeddings: [{ values: [0, 0.5] }, { values: [1, 0.5] }] });
  const requests = googleMock.requests[seen + 1]!.body.requests as Json[];
  assert.deepEqual(requests.map((entry) => [entry.model, entry.taskType]), [['models/gemini-embedding-001', 'RETRIEVAL_QUERY'], ['models/gemini-embedding-001', 'RETRIEVAL_QUERY']]);
  const single = await post('/v1beta/models/embedder:embedContent', JSON.stringify({ content: { parts: [{ text: 'solo' }] } }));
  assert.deepEqual(await single.json(), { embedding: { values: [0, 0.5] } });
});

test('a JSON-array stream translated from OpenAI, and one cut short', async () => {
  const whole = await post('/v1beta/models/mock-gpt:streamGenerateContent');
  assert.match(whole.headers.get('content-type') ?? '', /application\/json/);
  const chunks = JSON.parse(await whole.text()) as Json[];
  assert.equal(chunks.map((chunk) => chunk.candidates[0].content?.parts?.[0]?.text ?? '').join(''), 'Hello from the mock.');
  assert.equal(chunks.at(-1)!.candidates[0].finishReason, 'STOP');
  const cut = await post('/v1beta/models/gpt-reset:streamGenerateContent');
  const parsed = JSON.parse(await cut.text()) as Json[];
  assert.equal(parsed[0].candidates[0].content.parts[0].text, 'Hel');
  assert.equal(parsed.at(-1)!.error.code, 502, 'ends with an error element, never as a complete answer');
});

test("errors in Google's shape: upstream 429 with RetryInfo, auth, unknown method, wrong HTTP method", async () => {
  const limited = await post('/v1beta/models/broken-1:generateContent');
  assert.equal(limited.status, 429);
  assert.equal((await read(limited)).error.status, 'RESOURCE_EXHAUSTED', 'a same-dialect 4xx passes through verbatim');
  const unauthenticated = await post('/v1beta/models/gemini-2.5-flash:generateContent', body, { 'x-goog-api-key': 'wrong' });
  assert.equal(unauthenticated.status, 401);
  assert.equal((await read(unauthenticated)).error.status, 'UNAUTHENTICATED');
  const unknown = await post('/v1/models/gemini-2.5-flash:predict');
  assert.equal(unknown.status, 404);
  assert.equal((await read(unknown)).error.status, 'NOT_FOUND');
  const missing = await post('/v1beta/models/no-such-model:generateContent');
  assert.equal(missing.status, 404);
  assert.equal((await read(missing)).error.status, 'NOT_FOUND');
  const wrongMethod = await fetch(`${gateway.url}/v1beta/models/gemini-2.5-flash:generateContent`, { headers: { 'x-goog-api-key': CLIENT_KEY } });
  assert.equal(wrongMethod.status, 405);
  assert.equal((await read(wrongMethod)).error.code, 405);
  const invalid = await post('/v1beta/models/gemini-2.5-flash:generateContent', JSON.stringify({ contents: 'Hi' }));
  assert.equal(invalid.status, 400);
  const error = (await read(invalid)).error;
  assert.equal(error.status, 'INVALID_ARGUMENT');
  assert.equal(error.details.find((detail: Json) => detail.fieldViolations !== undefined).fieldViolations[0].field, 'contents');
  const openaiModels = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
  assert.equal((await read(openaiModels)).object, 'list', "an OpenAI client's GET /v1/models stays OpenAI's");
});
