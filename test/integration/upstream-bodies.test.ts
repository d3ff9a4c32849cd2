// Hostile upstream bodies: an upstream that compresses whatever it is asked (the gateway asks for
// identity, decodes what comes anyway, and never hands a client compressed bytes, labelled or
// not), and one that sends its headers and then drips a body that never ends, where the gateway
// has to read that body whole (error bodies, non-streamed answers it translates).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import zlib from 'node:zlib';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import { Endpoint } from '../../src/upstream/endpoint.ts';
import { fetchModelList } from '../../src/upstream/discovery.ts';
import { listenOnLoopback } from '../helpers/ports.ts';
import { parseSse } from '../helpers/sse.ts';
import { assertCleanOpenAIStream, chat, chunk, finishChunk, messages, openaiStreamText, startGatewayFor, type Reply } from '../helpers/resilience.ts';

type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

interface Answer {
  status?: number;
  contentType: string;
  /** Body pieces, each flushed on its own (stream events). */
  pieces: string[];
  coding?: Coding | 'compress' | 'broken';
}

interface Upstream {
  url: string;
  /** accept-encoding of every request received. */
  acceptEncodings: (string | undefined)[];
}

/** An upstream on loopback whose answers are decided per request; closed when the test ends. */
async function startUpstream(t: TestContext, handle: (request: IncomingMessage, body: any, response: ServerResponse) => void): Promise<Upstream> {
  const acceptEncodings: (string | undefined)[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (data: Buffer) => chunks.push(data));
    request.on('end', () => {
      acceptEncodings.push(request.headers['accept-encoding']);
      const text = Buffer.concat(chunks).toString('utf8');
      handle(request, text.length > 0 ? JSON.parse(text) : undefined, response);
    });
  });
  return { url: await listenOnLoopback(t, server), acceptEncodings };
}

function encoder(coding: Coding): zlib.Gzip | zlib.Deflate | zlib.BrotliCompress | zlib.ZstdCompress {
  switch (coding) {
    case 'gzip': return zlib.createGzip();
    case 'deflate': return zlib.createDeflate();
    case 'br': return zlib.createBrotliCompress();
    case 'zstd': return zlib.createZstdCompress();
  }
}

/** Writes `answer` compressed with its coding, whatever the request's accept-encoding said, each piece flushed. */
function sendCompressed(response: ServerResponse, answer: Answer): void {
  const coding = answer.coding ?? 'gzip';
  response.writeHead(answer.status ?? 200, { 'content-type': answer.contentType, 'content-encoding': coding === 'broken' ? 'gzip' : coding });
  if (coding === 'compress' || coding === 'broken') {
    response.end(Buffer.from('\x1f\x8b\x08\x00 this is not a gzip stream'));
    return;
  }
  const stream = encoder(coding);
  stream.on('data', (data: Buffer) => response.write(data));
  stream.on('end', () => response.end());
  let index = 0;
  const next = (): void => {
    if (index === answer.pieces.length) {
      stream.end();
      return;
    }
    stream.write(answer.pieces[index++]!);
    stream.flush(() => setTimeout(next, 5));
  };
  next();
}

const openaiCompletion = (text: string) => JSON.stringify({
  id: 'chatcmpl-z', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
});

const sseOf = (events: string[]) => events.map((event) => `data: ${event}\n\n`);

/** An OpenAI-compatible upstream that compresses every answer with `coding`. */
function compressing(coding: Answer['coding']) {
  return (_request: IncomingMessage, body: any, response: ServerResponse) => {
    if (body?.model === 'bad-request') {
      sendCompressed(response, { status: 400, contentType: 'application/json', pieces: [JSON.stringify({ error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } })], coding });
    } else if (body?.stream === true) {
      sendCompressed(response, { contentType: 'text/event-stream', pieces: sseOf([chunk('Hello'), chunk(' from'), chunk(' gzip.'), finishChunk(), '[DONE]']), coding });
    } else {
      sendCompressed(response, { contentType: 'application/json', pieces: [openaiCompletion('Hello from gzip.')], coding });
    }
  };
}

const provider = (url: string, extra: Record<string, unknown> = {}) => ({
  name: 'p', baseUrl: `${url}/v1`, models: ['*'], timeouts: { connectMs: 2000, firstByteMs: 5000, idleMs: 5000, totalMs: 0 }, ...extra,
});
const ONE_TRY = [{ name: 'a', targets: [{ provider: 'p', model: 'm' }], retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 10 } }];
/** Every failure is answered as it is, not turned into "cooling down" by the ones before it. */
const NEVER_EJECT = { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 1000 } };

function assertPlain(reply: Reply): void {
  assert.equal(reply.headers.get('content-encoding'), null, 'no content-encoding reaches the client');
  assert.ok(!reply.text.includes('\x1f\x8b') && !reply.text.includes('\ufffd'), `plain text: ${JSON.stringify(reply.text.slice(0, 80))}`);
}

for (const coding of ['gzip', 'deflate', 'br', 'zstd'] as const) {
  test(`${coding} answers are decoded on every path: pass-through and translated, streamed or not, and errors`, async (t) => {
    const upstream = await startUpstream(t, compressing(coding));
    const gateway = await startGatewayFor(t, { providers: [provider(upstream.url)], models: ONE_TRY, routing: NEVER_EJECT });

    const whole = await chat(gateway, 'a');
    assert.equal(whole.status, 200, whole.text);
    assertPlain(whole);
    assert.equal(whole.json().choices[0].message.content, 'Hello from gzip.');
    assert.equal(whole.json().usage.total_tokens, 10);

    const streamed = await chat(gateway, 'a', { stream: true });
    assertPlain(streamed);
    assert.equal(openaiStreamText(assertCleanOpenAIStream(streamed)), 'Hello from gzip.');

    // translated: an Anthropic client on the OpenAI-dialect upstream
    const translated = await messages(gateway, 'a');
    assert.equal(translated.status, 200, translated.text);
    assertPlain(translated);
    assert.equal(translated.json().content[0].text, 'Hello from gzip.');
    assert.equal(translated.json().usage.output_tokens, 3);

    const translatedStream = await messages(gateway, 'a', { stream: true });
    assert.equal(translatedStream.status, 200, translatedStream.text);
    assertPlain(translatedStream);
    const events = translatedStream.events();
    assert.equal(events.at(-1)?.event, 'message_stop', translatedStream.text);
    assert.equal(events.filter((event) => event.event === 'content_block_delta').map((event) => JSON.parse(event.data).delta.text).join(''), 'Hello from gzip.');

    // a 4xx passed on verbatim, and one mapped to the caller's dialect
    const refused = await chat(gateway, 'bad-request');
    assert.equal(refused.status, 400, refused.text);
    assertPlain(refused);
    assert.equal(refused.json().error.message, 'bad temperature');
    const refusedTranslated = await messages(gateway, 'bad-request');
    assert.equal(refusedTranslated.status, 400, refusedTranslated.text);
    assert.match(refusedTranslated.json().error.message, /bad temperature/);

    assert.ok(upstream.acceptEncodings.length >= 6);
    assert.ok(upstream.acceptEncodings.every((value) => value === 'identity'), `asked for identity: ${upstream.acceptEncodings.join(', ')}`);
  });
}

test('a coding the gateway cannot decode, or a body that is not what it claims, is a clear 502 — never bytes passed on', async (t) => {
  for (const coding of ['compress', 'broken'] as const) {
    const upstream = await startUpstream(t, compressing(coding));
    const gateway = await startGatewayFor(t, { providers: [provider(upstream.url)], models: ONE_TRY, routing: NEVER_EJECT });
    for (const reply of [await chat(gateway, 'a'), await chat(gateway, 'a', { stream: true }), await messages(gateway, 'a'), await messages(gateway, 'a', { stream: true })]) {
      assert.equal(reply.status, 502, `${coding}: ${reply.text}`);
      assertPlain(reply);
      const message: string = (reply.json().error.message);
      assert.match(message, coding === 'compress' ? /Content-Encoding 'compress'/ : /gzip body that could not be decoded/);
    }
  }
});

test('a compressed answer larger than the translation limit is refused as soon as the limit is passed', async (t) => {
  // 80 MB of JSON whitespace compresses to about 80 kB; the gateway stops inflating at 64 MB
  const upstream = await startUpstream(t, (_request, _body, response) => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const gzip = zlib.createGzip();
    gzip.pipe(response);
    const block = Buffer.alloc(1024 * 1024, 0x20);
    let written = 0;
    const write = (): void => {
      while (written < 80) {
        written++;
        if (!gzip.write(block)) {
          gzip.once('drain', write);
          return;
        }
      }
      gzip.end(openaiCompletion('late'));
    };
    write();
  });
  const gateway = await startGatewayFor(t, { providers: [provider(upstream.url)], models: ONE_TRY, routing: NEVER_EJECT });
  const reply = await messages(gateway, 'a');
  assert.equal(reply.status, 502, reply.text);
  assert.equal(reply.json().type, 'error');
  assert.match(reply.json().error.message, /more than 67108864 bytes/);
});

test('discovery reads a compressed model list', async (t) => {
  const upstream = await startUpstream(t, (_request, _body, response) => {
    sendCompressed(response, { contentType: 'application/json', pieces: [JSON.stringify({ object: 'list', data: [{ id: 'zipped-model', object: 'model' }] })] });
  });
  const endpoint = new Endpoint({
    provider: 'p', baseUrl: `${upstream.url}/v1`, apiKeys: [], auth: { header: 'authorization', prefix: 'Bearer ' }, headers: {},
    timeouts: { connectMs: 2000, firstByteMs: 5000, idleMs: 5000, totalMs: 0 }, pool: { connections: 0, keepAliveMs: 1000 },
  });
  t.after(() => endpoint.destroy());
  assert.deepEqual(await fetchModelList(endpoint, '/models', 5000), { object: 'list', data: [{ id: 'zipped-model', object: 'model' }] });
  assert.deepEqual(upstream.acceptEncodings, ['identity']);
});

// --- bodies that never end ---------------------------------------------------------------------

/** Headers at once, then one byte every 50 ms for as long as the connection stays open. */
function drip(status: number, contentType = 'application/json') {
  return (_request: IncomingMessage, _body: unknown, response: ServerResponse) => {
    response.writeHead(status, { 'content-type': contentType });
    response.write('{"error": {"message": "');
    const timer = setInterval(() => response.write(' '), 50);
    response.once('close', () => clearInterval(timer));
  };
}

// a drip keeps the idle timer fed; only the whole-body deadline (first_byte_ms here) ends it
const DRIP_TIMEOUTS = { connectMs: 2000, firstByteMs: 800, idleMs: 5000, totalMs: 0 };

test('an endless error body is cut: the client gets a 504 in its own dialect', async (t) => {
  const cases = [
    [400, 'openai', () => chat(gateway, 'a')], // a 4xx passed on verbatim
    [400, 'anthropic', () => messages(gateway, 'a')], // a 4xx mapped to Anthropic's dialect
    [429, 'openai', () => chat(gateway, 'a', { stream: true })],
    [500, 'openai', () => chat(gateway, 'a')],
  ] as const;
  let status = 0;
  const upstream = await startUpstream(t, (request, body, response) => drip(status)(request, body, response));
  const gateway = await startGatewayFor(t, { providers: [provider(upstream.url, { timeouts: DRIP_TIMEOUTS })], models: ONE_TRY, routing: NEVER_EJECT });
  for (const [code, dialect, send] of cases) {
    status = code;
    const reply = await send();
    assert.equal(reply.status, 504, `${code}: ${reply.text}`);
    assert.match(reply.text, /whole body/);
    if (dialect === 'anthropic') assert.equal(reply.json().error.type, 'timeout_error');
    else assert.equal(reply.json().error.code, 'upstream_timeout');
  }
});

test('an endless non-streamed answer that must be translated is cut with a 504 in the caller\'s dialect', async (t) => {
  const upstream = await startUpstream(t, drip(200));
  const gateway = await startGatewayFor(t, { providers: [provider(upstream.url, { timeouts: DRIP_TIMEOUTS })], models: ONE_TRY, routing: NEVER_EJECT });
  const reply = await messages(gateway, 'a');
  assert.equal(reply.status, 504, reply.text);
  assert.equal(reply.json().type, 'error');
  assert.equal(reply.json().error.type, 'timeout_error');
  assert.match(reply.json().error.message, /whole body/);
});

test('with total_ms set, the total limit is the one that ends an endless translated answer', async (t) => {
  const upstream = await startUpstream(t, drip(200));
  const timeouts = { ...DRIP_TIMEOUTS, firstByteMs: 60_000, totalMs: 800 };
  const gateway = await startGatewayFor(t, { providers: [provider(upstream.url, { timeouts })], models: ONE_TRY, routing: NEVER_EJECT });
  const reply = await messages(gateway, 'a');
  assert.equal(reply.status, 504, reply.text);
  assert.match(reply.json().error.message, /800 ms passed the whole request/);
});

test('a large compressed stream to a client that stops reading for a while arrives whole and in order', async (t) => {
  const count = 8_000;
  const pieces = Array.from({ length: count }, (_, i) => `${String(i).padStart(5, '0')}${'.'.repeat(1000)}|`);
  const upstream = await startUpstream(t, (_request, _body, response) => {
    // written in one go: a fast upstream, so back-pressure has to hold it back
    response.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
    const gzip = zlib.createGzip();
    gzip.pipe(response);
    for (const event of sseOf([...pieces.map(chunk), finishChunk(), '[DONE]'])) gzip.write(event);
    gzip.end();
  });
  const gateway = await startGatewayFor(t, { providers: [provider(upstream.url)], models: ONE_TRY, routing: NEVER_EJECT });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'a', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-encoding'), null);
  const reader = response.body!.getReader();
  const parts: Uint8Array[] = [];
  const first = await reader.read();
  parts.push(first.value!);
  // the client stops reading: the gateway's socket buffer fills and it pauses the decoder and the upstream
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
  const text = Buffer.concat(parts).toString('utf8');
  const reply = { status: 200, headers: response.headers, text, json: () => JSON.parse(text), events: () => parseSse(text) };
  assert.equal(openaiStreamText(assertCleanOpenAIStream(reply)), pieces.join(''));
});
