// Every failure the gateway can meet, from a malformed request to an upstream that resets,
// stalls or echoes a credential: each is answered in OpenAI's error shape, or, once a stream has
// started, ended with a well-formed error event and never with [DONE].
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const BODY_LIMIT = 64 * 1024;
const LEAKY_KEY = 'sk-leaky-provider-secret-9f8e7d6c';
const fastTimeouts = { connectMs: 2000, firstByteMs: 300, idleMs: 300, totalMs: 0 };

const chunk = (content: string) => JSON.stringify({
  id: 'chatcmpl-err', object: 'chat.completion.chunk', created: 1, model: 'm',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
});

/** Upstream behaviour chosen by the requested model, so tests never race over a shared script. */
const behaviors: Record<string, (request: RecordedRequest) => Behavior> = {
  'err-400': () => ({ kind: 'json', status: 400, body: openAiError("Invalid value for 'temperature'.", 'invalid_request_error', 'temperature', 'invalid_value') }),
  'err-429': () => ({ kind: 'json', status: 429, body: openAiError('Rate limit reached for requests.', 'rate_limit_error', null, 'rate_limit_exceeded'), headers: { 'retry-after': '7' } }),
  'err-500': () => ({ kind: 'json', status: 500, body: openAiError('The server had an error while processing your request.', 'server_error') }),
  'err-503': () => ({ kind: 'json', status: 503, body: openAiError('The engine is currently overloaded.', 'server_error') }),
  'err-504': () => ({ kind: 'json', status: 504, body: openAiError('Upstream model timed out.', 'server_error') }),
  'err-reset': () => ({ kind: 'reset' }),
  'err-stream-reset': () => ({ kind: 'stream', events: [chunk('Hel'), chunk('lo')], thenBehavior: 'reset' }),
  'err-stream-nodone': () => ({ kind: 'stream', events: [chunk('Hel'), chunk('lo')], thenBehavior: 'end' }),
  'err-stream-marker-in-text': () => ({ kind: 'stream', events: [chunk('servers end with data: [DONE] here'), chunk('more')], thenBehavior: 'end' }),
  'err-responses-marker-in-text': () => ({
    kind: 'stream',
    events: [`event: response.output_text.delta\ndata: ${JSON.stringify({ type: 'response.output_text.delta', sequence_number: 0, delta: 'the last line is event: response.completed' })}`],
    thenBehavior: 'end',
  }),
  'slow-no-response': () => ({ kind: 'no-response' }),
  'slow-stream-stall': () => ({ kind: 'stream', events: [chunk('Hel'), chunk('lo')], thenBehavior: 'stall' }),
  'slow-body-stall': () => ({ kind: 'stream', events: ['{"id":"chatcmpl-partial",'], headers: { 'content-type': 'application/json' }, thenBehavior: 'stall' }),
  'leak-401': (request) => ({ kind: 'json', status: 401, body: openAiError(`Incorrect API key provided: ${String(request.headers.authorization).slice(7)}. You can find your API key at https://example.invalid.`, 'invalid_request_error', null, 'invalid_api_key') }),
  'leak-500': (request) => ({ kind: 'json', status: 500, body: openAiError(`backend rejected credential ${String(request.headers.authorization)}`, 'server_error') }),
};

let mock: MockUpstream;
let gateway: TestGateway;
let closedPort: number;

before(async () => {
  mock = await startMockUpstream({
    script: (request) => behaviors[String(request.body?.model)]?.(request) ?? { kind: 'default' },
  });
  closedPort = await unusedPort();
  gateway = await startTestGateway({
    bodyLimitBytes: BODY_LIMIT,
    providers: [
      { name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'gpt-4o-mini', 'err-*'] },
      { name: 'slow', baseUrl: `${mock.url}/v1`, models: ['slow-*'], timeouts: fastTimeouts },
      { name: 'leaky', baseUrl: `${mock.url}/v1`, models: ['leak-*'], apiKeys: [LEAKY_KEY] },
      { name: 'dead', baseUrl: `http://127.0.0.1:${closedPort}/v1`, models: ['dead-model'] },
    ],
  });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

/** A port that was just free: listen on 0, note the port, close. */
async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json(): any;
}

async function call(path: string, options: { method?: string; body?: string | object; headers?: Record<string, string> } = {}): Promise<Reply> {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${gateway.url}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...options.headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

/** Asserts OpenAI's error shape exactly: {"error":{"message","type","param","code"}}. */
function assertOpenAIError(reply: Reply, status: number, code?: string): { message: string; type: string; param: string | null; code: string } {
  assert.equal(reply.status, status, reply.text);
  assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
  const body = reply.json();
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(body.error.message.length > 0);
  assert.equal(typeof body.error.type, 'string');
  assert.ok(body.error.param === null || typeof body.error.param === 'string');
  assert.equal(typeof body.error.code, 'string');
  assert.equal(body.error.type, status >= 500 ? 'server_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error');
  if (code !== undefined) assert.equal(body.error.code, code);
  assert.ok(reply.headers.get('x-request-id'), 'errors carry x-request-id');
  return body.error;
}

// --- requests the gateway refuses --------------------------------------------------------------

test('malformed JSON gives 400 whose message says where', async () => {
  const before = mock.requests.length;
  for (const [body, position] of [
    ['{"model":"mock-gpt",}', 20],
    ['{"model":"mock-gpt"', 19],
    ['{"model" "mock-gpt"}', 9],
  ] as const) {
    const error = assertOpenAIError(await call('/v1/chat/completions', { body }), 400, 'invalid_json');
    assert.match(error.message, new RegExp(`position ${position}\\b`), `${body} → ${error.message}`);
  }
  assert.equal(mock.requests.length, before, 'nothing goes upstream');
});

test('malformed JSON with an unexpected token also says where', async () => {
  for (const [body, position] of [['{"model": "mock-gpt", "messages": [}', 35], ['{"model": oops}', 10]] as const) {
    const error = assertOpenAIError(await call('/v1/chat/completions', { body }), 400, 'invalid_json');
    assert.match(error.message, new RegExp(`position ${position}\\b`), `${body} → ${error.message}`);
  }
});

test('an empty body gives 400', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: '' }), 400, 'invalid_json');
  assert.match(error.message, /empty/);
});

test('a body that is not a JSON object gives 400', async () => {
  for (const body of ['[1,2]', '"text"', '42', 'null']) {
    const error = assertOpenAIError(await call('/v1/chat/completions', { body }), 400, 'invalid_request');
    assert.match(error.message, /must be a JSON object/);
  }
});

test('a non-object body reports param null (OpenAI uses null when no field is at fault)', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: '[1,2]' }), 400);
  assert.equal(error.param, null);
});

test("missing 'model' gives 400 with param 'model'", async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: { messages: [{ role: 'user', content: 'hi' }] } }), 400, 'invalid_request');
  assert.equal(error.param, 'model');
  assert.match(error.message, /model/);
});

test("missing 'messages' gives 400 with param 'messages'", async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: { model: 'mock-gpt' } }), 400, 'invalid_request');
  assert.equal(error.param, 'messages');
});

test('stream: "yes" gives 400 with param stream', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: chat('mock-gpt', { stream: 'yes' }) }), 400, 'invalid_request');
  assert.equal(error.param, 'stream');
});

test('an unknown path gives 404', async () => {
  const error = assertOpenAIError(await call('/v1/nothing-here', { body: chat('mock-gpt') }), 404, 'unknown_url');
  assert.match(error.message, /\/v1\/nothing-here/);
  assertOpenAIError(await call('/'), 404, 'unknown_url');
});

test('GET on /v1/chat/completions gives 405 with allow: POST', async () => {
  const reply = await call('/v1/chat/completions');
  assertOpenAIError(reply, 405, 'method_not_allowed');
  assert.equal(reply.headers.get('allow'), 'POST');
  const put = await call('/v1/models', { method: 'POST', body: '{}' });
  assertOpenAIError(put, 405);
  assert.equal(put.headers.get('allow'), 'GET');
});

test('an unknown model gives 404 model_not_found naming the closest known model', async () => {
  const before = mock.requests.length;
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: chat('gpt-4o-mimi') }), 404, 'model_not_found');
  assert.equal(error.param, 'model');
  assert.match(error.message, /'gpt-4o-mimi'/);
  assert.match(error.message, /'gpt-4o-mini'/);
  assert.equal(mock.requests.length, before);
});

test('GET /v1/models/{id} with a malformed percent-escape is a client error, not a 500', async () => {
  const reply = await call('/v1/models/%E0%A4%A');
  assert.ok(reply.status >= 400 && reply.status < 500, `status ${reply.status}`);
});

// --- body limit -------------------------------------------------------------------------------

/** Reads one HTTP response from a raw socket: resolves once the head and the declared body are in. */
function readRawResponse(socket: net.Socket): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const tryParse = (ended: boolean): boolean => {
      const headEnd = buffer.indexOf('\r\n\r\n');
      if (headEnd < 0) return false;
      const head = buffer.subarray(0, headEnd).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      const bodyBytes = buffer.subarray(headEnd + 4);
      if (length !== null && bodyBytes.length < Number(length[1])) return false;
      if (length === null && !ended) return false;
      const body = (length === null ? bodyBytes : bodyBytes.subarray(0, Number(length[1]))).toString('utf8');
      resolve({ status: Number(head.split(' ')[1]), head, body });
      return true;
    };
    socket.on('data', (data: Buffer) => {
      buffer = Buffer.concat([buffer, data]);
      tryParse(false);
    });
    socket.on('end', () => {
      if (!tryParse(true)) reject(new Error(`connection ended before a whole response: ${buffer.toString('latin1')}`));
    });
    socket.on('error', (error) => {
      if (!tryParse(true)) reject(error);
    });
  });
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(gateway.port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

test('a declared Content-Length far over the limit gets 413 while the client has sent only a few bytes', async (t) => {
  const before = mock.requests.length;
  const socket = await connect();
  t.after(() => socket.destroy());
  const declared = 104_857_600;
  const head = `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`;
  const partial = '{"model":"mock-gpt","messages":[';
  const response = readRawResponse(socket);
  socket.write(head + partial);
  const { status, head: responseHead, body } = await response;
  assert.equal(status, 413);
  assert.ok(partial.length < declared / 1000, 'only a fraction of the body was ever sent');
  // the rest is discarded (lingering), not buffered: no Connection: close that would reset a client still writing
  assert.doesNotMatch(responseHead, /\r\nconnection: close/i);
  const error = JSON.parse(body).error;
  assert.equal(error.code, 'request_too_large');
  assert.equal(error.type, 'invalid_request_error');
  assert.match(error.message, new RegExp(String(BODY_LIMIT)));
  assert.equal(mock.requests.length, before);
});

test('a chunked body that grows over the limit gets 413', async () => {
  const before = mock.requests.length;
  // An ordinary client: chunked (no Content-Length), honouring back-pressure, stopping once answered.
  const { status, body, sent } = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
    const outgoing = http.request(`${gateway.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } });
    let answered = false;
    let sent = 0;
    outgoing.on('response', (incoming) => {
      answered = true;
      let text = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (data: string) => { text += data; });
      incoming.on('end', () => resolve({ status: incoming.statusCode!, body: text, sent }));
      incoming.on('error', reject);
    });
    outgoing.on('error', reject);
    const piece = Buffer.alloc(8 * 1024, 0x20);
    const pump = (): void => {
      while (!answered && sent < BODY_LIMIT * 64) {
        sent += piece.length;
        if (!outgoing.write(piece)) {
          outgoing.once('drain', pump);
          return;
        }
      }
      if (!answered) outgoing.end();
    };
    outgoing.write('{"model":"mock-gpt","messages":[{"role":"user","content":"');
    pump();
  });
  assert.equal(status, 413);
  assert.ok(sent > BODY_LIMIT && sent < BODY_LIMIT * 64, `sent ${sent} bytes`);
  assert.equal(JSON.parse(body).error.code, 'request_too_large');
  assert.equal(mock.requests.length, before);
});

test('a body just under the limit is accepted', async () => {
  const padding = 'x'.repeat(BODY_LIMIT - 200);
  const reply = await call('/v1/chat/completions', { body: chat('mock-gpt', { user: padding }) });
  assert.equal(reply.status, 200);
});

// --- upstream answers -------------------------------------------------------------------------

test('upstream 400 is passed through verbatim: status and body', async () => {
  const reply = await call('/v1/chat/completions', { body: chat('err-400') });
  assert.equal(reply.status, 400);
  assert.equal(reply.text, JSON.stringify(openAiError("Invalid value for 'temperature'.", 'invalid_request_error', 'temperature', 'invalid_value')));
  assert.equal(reply.headers.get('x-switchyard-provider'), 'main');
  assert.equal(reply.headers.get('x-switchyard-upstream-status'), '400');
});

test('upstream 429 is passed through verbatim and retry-after is kept', async () => {
  const reply = await call('/v1/chat/completions', { body: chat('err-429') });
  assert.equal(reply.status, 429);
  assert.equal(reply.text, JSON.stringify(openAiError('Rate limit reached for requests.', 'rate_limit_error', null, 'rate_limit_exceeded')));
  assert.equal(reply.headers.get('retry-after'), '7');
});

test('upstream 500 becomes 502 carrying the upstream message', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: chat('err-500') }), 502, 'upstream_error');
  assert.match(error.message, /The server had an error while processing your request\./);
  assert.match(error.message, /500/);
});

test('upstream 503 becomes 502', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: chat('err-503') }), 502, 'upstream_error');
  assert.match(error.message, /overloaded/);
});

test('upstream 504 stays 504', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: chat('err-504') }), 504, 'upstream_error');
  assert.match(error.message, /Upstream model timed out\./);
});

test('connection refused gives 502 upstream_unreachable', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: chat('dead-model') }), 502, 'upstream_unreachable');
  assert.match(error.message, /dead/);
});

test('an upstream reset before the headers gives 502', async () => {
  const error = assertOpenAIError(await call('/v1/chat/completions', { body: chat('err-reset') }), 502, 'upstream_reset');
  assert.match(error.message, /before responding/);
});

test('a first-byte timeout gives 504', async () => {
  const reply = await call('/v1/chat/completions', { body: chat('slow-no-response') });
  const error = assertOpenAIError(reply, 504, 'upstream_timeout');
  assert.match(error.message, /300 ms/);
});

/** Asserts a stream that started well and ended with an error event instead of [DONE]. */
function assertStreamEndsWithError(reply: Reply, code: string): void {
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = parseSse(reply.text);
  assert.ok(events.length >= 3, reply.text);
  assert.equal(events[0]!.data, chunk('Hel'));
  assert.equal(events[1]!.data, chunk('lo'));
  assert.ok(!events.some((event) => event.data === '[DONE]'), 'no [DONE] after a failure');
  const last = events.at(-1)!;
  assert.equal(last.event, undefined);
  const payload = JSON.parse(last.data);
  assert.deepEqual(Object.keys(payload), ['error']);
  assert.equal(payload.error.code, code);
  assert.equal(payload.error.type, 'server_error');
  assert.ok(reply.text.endsWith('\n\n'), 'the error event is complete');
}

test('an idle timeout mid-stream ends the SSE stream with an error event and no [DONE]', async () => {
  assertStreamEndsWithError(await call('/v1/chat/completions', { body: chat('slow-stream-stall', { stream: true }) }), 'upstream_timeout');
});

test('an idle timeout mid non-stream body aborts the connection rather than ending it cleanly', async () => {
  await assert.rejects(call('/v1/chat/completions', { body: chat('slow-body-stall') }));
});

test('a stream that ends cleanly without [DONE] ends with an error event', async () => {
  assertStreamEndsWithError(await call('/v1/chat/completions', { body: chat('err-stream-nodone', { stream: true }) }), 'upstream_protocol_error');
});

test('an upstream reset mid-stream ends with an error event and no [DONE]', async () => {
  assertStreamEndsWithError(await call('/v1/chat/completions', { body: chat('err-stream-reset', { stream: true }) }), 'upstream_reset');
});

test('a truncated stream whose text mentions "data: [DONE]" still ends with an error event', {
  
}, async () => {
  const reply = await call('/v1/chat/completions', { body: chat('err-stream-marker-in-text', { stream: true }) });
  const events = parseSse(reply.text);
  assert.equal(events.length, 3, reply.text);
  assert.equal(JSON.parse(events.at(-1)!.data).error?.code, 'upstream_protocol_error');
});

test('a truncated responses stream whose text mentions "event: response.completed" still ends with an error event', {
  
}, async () => {
  const reply = await call('/v1/responses', { body: { model: 'err-responses-marker-in-text', input: 'hi', stream: true } });
  const events = parseSse(reply.text);
  assert.equal(events.at(-1)!.event, 'error', reply.text);
  assert.equal(JSON.parse(events.at(-1)!.data).code, 'upstream_protocol_error');
});

test('a provider key echoed by an upstream error is redacted for the client and never logged', async () => {
  const unauthorized = await call('/v1/chat/completions', { body: chat('leak-401') });
  assert.equal(unauthorized.status, 401);
  assert.ok(!unauthorized.text.includes(LEAKY_KEY), unauthorized.text);
  assert.match(unauthorized.json().error.message, /Incorrect API key provided: \[redacted\]/);

  const failed = await call('/v1/chat/completions', { body: chat('leak-500') });
  assert.equal(failed.status, 502);
  assert.ok(!failed.text.includes(LEAKY_KEY), failed.text);
  assert.match(failed.json().error.message, /\[redacted\]/);

  // the mock really did receive (and echo) the key
  assert.ok(mock.requests.some((request) => request.headers.authorization === `Bearer ${LEAKY_KEY}`));
  await waitForLog(gateway, (line) => line.model === 'leak-500');
  assert.ok(!gateway.logText().includes(LEAKY_KEY));
  assert.ok(!gateway.logText().includes(LEAKY_KEY.slice(3)));
});

test('every failure above left an access log line with the error code', async () => {
  await waitForLog(gateway, (line) => line.model === 'dead-model');
  const line = logLines(gateway).find((entry) => entry.msg === 'request' && entry.model === 'dead-model')!;
  assert.equal(line.status, 502);
  assert.equal(line.error, 'SWY_ERR_UPSTREAM_CONNECT_FAILURE');
  assert.equal(line.provider, 'dead');
});

/** Parsed log lines (the helper's `logs` getter is flattened by Object.assign, so parse the text). */
function logLines(target: TestGateway): Record<string, unknown>[] {
  return target.logText().split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function waitForLog(target: TestGateway, match: (line: Record<string, unknown>) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (logLines(target).some((line) => line.msg === 'request' && match(line))) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`expected access log line not written; have:\n${target.logText()}`);
}

// An error response must not poison the kept-alive connection for the next request on it.
test('a keep-alive connection stays usable after an error response', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const send = (body: string) => new Promise<{ status: number; text: string; socket: unknown }>((resolve, reject) => {
      const outgoing = http.request(`${gateway.url}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (incoming) => {
        let text = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (data: string) => { text += data; });
        incoming.on('end', () => resolve({ status: incoming.statusCode!, text, socket: outgoing.socket }));
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    const first = await send('{"model": oops}');
    assert.equal(first.status, 400);
    const second = await send(JSON.stringify(chat('mock-gpt')));
    assert.equal(second.status, 200);
    assert.equal(first.socket, second.socket);
  } finally {
    agent.destroy();
  }
});

test('requests refused before their body is read leave nothing attached to a kept-alive connection', async () => {
  // each refusal drains the unread body with a timer guarded by the socket's close: that guard must
  // go when the body ends, or a client repeating refused requests on one connection piles them up
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => {
    if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning);
  };
  process.on('warning', onWarning);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const body = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x'.repeat(2000) }] });
    const statuses: number[] = [];
    const sockets = new Set<unknown>();
    for (let i = 0; i < 15; i++) {
      statuses.push(await new Promise<number>((resolve, reject) => {
        const request = http.request({ host: '127.0.0.1', port: gateway.port, path: '/v1/chat/completions', method: 'POST', agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), origin: 'https://evil.example' } }, (response) => {
          sockets.add(response.socket);
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        request.on('error', reject);
        request.end(body);
      }));
    }
    assert.ok(statuses.every((status) => status === 403), `all refused: ${statuses.join(', ')}`);
    assert.equal(sockets.size, 1, 'one kept-alive connection');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(warnings.map((warning) => warning.message), []);
  } finally {
    agent.destroy();
    process.off('warning', onWarning);
  }
});
