// The upload endpoints take multipart/form-data, which — unlike JSON — a web page may post
// anywhere without a CORS preflight (an HTML form does). What keeps a page from driving them:
// the Origin / Sec-Fetch checks, and, for a browser that sends neither, the credential header
// every upload must carry (a page cannot add one without a preflight). Raw node:http requests,
// so the headers are exactly what a browser (or an old one) would send; the JSON routes still
// refuse forms, the upload routes refuse everything but forms.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdirSync } from 'node:fs';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { formOf, startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { rawForm } from '../helpers/multipart.ts';
import { uploadSpool } from '../../src/server/upload-spool.ts';

const BOUNDARY = 'xYzZY-browser-form';
const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;
const form = (model = 'whisper-1') => rawForm(BOUNDARY, [
  { name: 'model', value: model },
  { name: 'file', filename: 'a.wav', contentType: 'audio/wav', content: Buffer.alloc(4096, 7) },
]);

let mock: MockUpstream;
let open: TestGateway;
let small: TestGateway;
let keyed: TestGateway;

before(async () => {
  mock = await startMockUpstream({ script: () => ({ kind: 'json', status: 200, body: { text: 'ok' } }) });
  const providers = [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['whisper-1', 'mock-gpt'], capabilities: { chat: true, completions: true, embeddings: true, responses: true, transcriptions: true } }];
  open = await startTestGateway({ providers, allowedOrigins: ['http://localhost:5173'] });
  small = await startTestGateway({ providers, bodyLimitBytes: 16 * 1024 });
  keyed = await startTestGateway({ providers, keys: ['sk-upload'] });
});

after(async () => {
  await open?.close();
  await small?.close();
  await keyed?.close();
  await mock?.close();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: any;
}

function send(gateway: TestGateway, path: string, headers: Record<string, string>, body: Buffer | string): Promise<Reply> {
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, method: 'POST', path, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode!, headers: response.headers, json: text.startsWith('{') ? JSON.parse(text) : text });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('a page cannot post a form to an upload endpoint', () => {
  test('cross-origin (Origin of another site): 403, nothing read or sent upstream', async () => {
    const before = mock.requests.length;
    const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, origin: 'https://evil.example', authorization: 'Bearer x' }, form());
    assert.equal(reply.status, 403);
    assert.equal(reply.json.error.code, 'origin_not_allowed');
    assert.equal(mock.requests.length, before);
  });

  test('a page that sends no Origin but Sec-Fetch-Site: cross-site: 403', async () => {
    const before = mock.requests.length;
    const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }, form());
    assert.equal(reply.status, 403);
    assert.equal(mock.requests.length, before);
  });

  test('an old browser that sends neither: the form has no credential header, so 403 naming what to add', async () => {
    const before = mock.requests.length;
    const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE }, form());
    assert.equal(reply.status, 403);
    assert.equal(reply.json.error.code, 'origin_not_allowed');
    assert.match(reply.json.error.message, /Authorization or x-api-key header/);
    assert.equal(mock.requests.length, before);
  });

  test('control: the same form with any credential header (no client keys configured) goes through', async () => {
    for (const header of ['authorization', 'x-api-key', 'api-key']) {
      const before = mock.requests.length;
      const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, [header]: 'anything' }, form());
      assert.equal(reply.status, 200, `${header}: ${JSON.stringify(reply.json)}`);
      assert.equal(mock.requests.length, before + 1);
      const sent = await formOf(mock.requests[before]!);
      assert.equal(sent.get('model'), 'whisper-1');
    }
  });

  test('an allowed origin may upload (and gets its CORS headers)', async () => {
    const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, origin: 'http://localhost:5173', authorization: 'Bearer x' }, form());
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['access-control-allow-origin'], 'http://localhost:5173');
  });
});

describe('client keys', () => {
  test('an upload needs a client key like every endpoint: without one or with a wrong one, 401, nothing spooled or sent upstream', async () => {
    const before = mock.requests.length;
    for (const headers of [{}, { authorization: 'Bearer sk-wrong' }, { 'x-api-key': 'sk-wrong' }] as Record<string, string>[]) {
      const reply = await send(keyed, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, ...headers }, form());
      assert.equal(reply.status, 401, JSON.stringify(headers));
    }
    assert.equal(mock.requests.length, before);
    const directory = uploadSpool().directory;
    for (let i = 0; i < 200 && readdirSync(directory).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(readdirSync(directory), []);
    const reply = await send(keyed, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, authorization: 'Bearer sk-upload' }, form());
    assert.equal(reply.status, 200);
    assert.equal(mock.requests.length, before + 1);
  });
});

describe('each route takes its own body kind only', () => {
  test('a form to a JSON endpoint: 415, as before', async () => {
    const reply = await send(open, '/v1/chat/completions', { 'content-type': FORM_TYPE, authorization: 'Bearer x' }, form('mock-gpt'));
    assert.equal(reply.status, 415);
    assert.equal(reply.json.error.code, 'unsupported_media_type');
  });

  for (const type of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
    test(`${type} to an upload endpoint: 415 naming multipart/form-data`, async () => {
      const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': type, authorization: 'Bearer x' }, '{"model":"whisper-1"}');
      assert.equal(reply.status, 415);
      assert.match(reply.json.error.message, /multipart\/form-data/);
    });
  }
});

describe('forms the gateway refuses', () => {
  test('the model written twice: 400 (the upstream might read the other one)', async () => {
    const body = rawForm(BOUNDARY, [
      { name: 'model', value: 'whisper-1' },
      { name: 'model', value: 'mock-gpt' },
      { name: 'file', filename: 'a.wav', contentType: 'audio/wav', content: 'RIFF' },
    ]);
    const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, authorization: 'Bearer x' }, body);
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error.param, 'model');
  });

  test('a model name over 512 bytes: 400, on the upload routes and the JSON media routes alike, nothing sent upstream', async () => {
    const before = mock.requests.length;
    const long = 'm'.repeat(600);
    const upload = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, authorization: 'Bearer x' }, form(long));
    assert.equal(upload.status, 400);
    assert.match(upload.json.error.message, /at most 512 bytes/);
    for (const [path, body] of [['/v1/rerank', { model: long, query: 'q', documents: ['d'] }], ['/v1/images/generations', { model: long, prompt: 'p' }], ['/v1/audio/speech', { model: long, input: 'i' }]] as const) {
      const reply = await send(open, path, { 'content-type': 'application/json' }, JSON.stringify(body));
      assert.equal(reply.status, 400, path);
      assert.match(reply.json.error.message, /at most 512 bytes/, path);
    }
    assert.equal(mock.requests.length, before);
  });

  test('without a model: 400 naming it', async () => {
    const body = rawForm(BOUNDARY, [{ name: 'file', filename: 'a.wav', contentType: 'audio/wav', content: 'RIFF' }]);
    const reply = await send(open, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, authorization: 'Bearer x' }, body);
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error.param, 'model');
  });

  test('over server.body_limit: 413, and nothing is left in the spool', async () => {
    const body = rawForm(BOUNDARY, [{ name: 'model', value: 'whisper-1' }, { name: 'file', filename: 'big.wav', contentType: 'audio/wav', content: Buffer.alloc(64 * 1024, 1) }]);
    const reply = await send(small, '/v1/audio/transcriptions', { 'content-type': FORM_TYPE, authorization: 'Bearer x' }, body);
    assert.equal(reply.status, 413);
    const directory = uploadSpool().directory;
    for (let i = 0; i < 200 && readdirSync(directory).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(readdirSync(directory), []);
  });
});
