// Bodies built to confuse the gateway: nesting deep enough to exhaust a recursive walker is a 400
// that says where the JSON breaks, and a `model` written twice at the top level — which the
// gateway would read as its last copy and a provider perhaps as its first — is refused before
// anything goes upstream. A renamed model is still spliced into the bytes as sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

function post(url: string, body: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
}

test('unclosed nesting of any depth is a 400 naming the position, in the caller\'s dialect', { timeout: 30_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], bodyLimitBytes: 4 * 1024 * 1024 });
  t.after(() => gateway.close());
  for (const [path, text] of [
    ['/v1/chat/completions', '['.repeat(100_000)],
    ['/v1/messages', '{"a":'.repeat(100_000)],
    ['/api/chat', `{"model":"mock-gpt","messages":${'['.repeat(1_000_000)}`],
  ] as const) {
    const response = await post(`${gateway.url}${path}`, text);
    assert.equal(response.status, 400, path);
    const body = JSON.stringify(await response.json());
    assert.match(body, /Could not parse the request body as JSON/, path);
    assert.match(body, /position \d+ \(line 1 column \d+\)/, path);
  }
  const healthy = await post(`${gateway.url}/v1/chat/completions`, JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }));
  assert.equal(healthy.status, 200, 'the gateway is still answering');
  await healthy.arrayBuffer();
});

test('valid JSON nested too deeply to translate is a 400 in the caller\'s dialect, not a 500', { timeout: 30_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], bodyLimitBytes: 4 * 1024 * 1024 });
  t.after(() => gateway.close());
  const depth = 20_000;
  const schema = '{"type":"object","properties":{"x":'.repeat(depth) + '{"type":"string"}' + '}}'.repeat(depth);
  const anthropic = await post(`${gateway.url}/v1/messages`, `{"model":"mock-gpt","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"f","input_schema":${schema}}]}`);
  assert.equal(anthropic.status, 400);
  const anthropicBody = await anthropic.json() as { type: string; error: { type: string; message: string } };
  assert.equal(anthropicBody.error.type, 'invalid_request_error');
  assert.match(anthropicBody.error.message, /nested too deeply/);
  const gemini = await post(`${gateway.url}/v1beta/models/mock-gpt:generateContent`, `{"contents":[{"role":"user","parts":[{"text":"hi"}]}],"tools":[{"functionDeclarations":[{"name":"f","parameters":${schema}}]}]}`);
  assert.equal(gemini.status, 400);
  assert.equal((await gemini.json() as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
  assert.equal(mock.requests.length, 0, 'nothing went upstream');
});

test('a model written twice at the top level is refused, naming the field, in every dialect', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'mock-cheap'] }] });
  t.after(() => gateway.close());
  const messages = '"messages":[{"role":"user","content":"hi"}]';
  const cases: [string, string, (body: any) => string | undefined][] = [
    ['/v1/chat/completions', `{"model":"mock-gpt",${messages},"model":"mock-cheap"}`, (body) => (body.error?.param === 'model' ? body.error.message : undefined)],
    ['/v1/chat/completions', `{"mod\\u0065l":"mock-gpt",${messages},"model":"mock-cheap"}`, (body) => (body.error?.param === 'model' ? body.error.message : undefined)],
    ['/v1/chat/completions', `{"model":"mock-cheap" ,\n ${messages}, "model" : "mock-cheap"}`, (body) => (body.error?.param === 'model' ? body.error.message : undefined)],
    ['/v1/messages', `{"model":"mock-gpt","max_tokens":5,${messages},"model":"mock-cheap"}`, (body) => (body.type === 'error' ? body.error?.message : undefined)],
    ['/v1/responses', '{"model":"mock-gpt","input":"hi","model":"mock-cheap"}', (body) => (body.error?.param === 'model' ? body.error.message : undefined)],
    ['/api/chat', `{"model":"mock-gpt",${messages},"model":"mock-cheap","stream":false}`, (body) => (typeof body.error === 'string' ? body.error : undefined)],
  ];
  for (const [path, text, read] of cases) {
    const response = await post(`${gateway.url}${path}`, text);
    assert.equal(response.status, 400, `${path} ${text}`);
    const message = read(await response.json());
    assert.match(message ?? '', /'model' appears more than once/, `${path} ${text}`);
  }
  assert.equal(mock.requests.length, 0, 'nothing went upstream');
  // the same key nested (a tool's "model" property, a tool call's argument) is not a duplicate
  const nested = `{"model":"mock-gpt",${messages},"tools":[{"type":"function","function":{"name":"spawn","parameters":{"type":"object","properties":{"model":{"type":"string"}}}}}],"metadata":{"model":"mock-gpt"}}`;
  const response = await post(`${gateway.url}/v1/chat/completions`, nested);
  assert.equal(response.status, 200);
  await response.arrayBuffer();
  assert.equal(mock.requests[0]!.rawBody.toString('utf8'), nested, 'forwarded byte for byte');
});

test('a renamed model is spliced into the bytes as sent, wherever it stands', { timeout: 10_000 }, async (t) => {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const gateway = await startTestGateway({
    providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }],
    models: [{ name: 'fast', targets: [{ provider: 'main', model: 'mock-gpt' }] }],
  });
  t.after(() => gateway.close());
  const messages = '"messages": [{"role": "user", "content": "caf\\u00e9 \\"model\\": \\"x\\" 模型"}]';
  const tools = '"tools": [{"type": "function", "function": {"name": "f", "parameters": {"properties": {"model": {"type": "string"}}}}}]';
  for (const [sent, forwarded] of [
    [`{"model": "fast", ${messages}, "metadata": {"model": "fast"}}`, `{"model": "mock-gpt", ${messages}, "metadata": {"model": "fast"}}`],
    [`{${messages}, ${tools}, "model": "fast"}`, `{${messages}, ${tools}, "model": "mock-gpt"}`],
    [`{"metadata": {"model": "fast"}, "model" :\n "fast", ${messages}}`, `{"metadata": {"model": "fast"}, "model" :\n "mock-gpt", ${messages}}`],
  ]) {
    const response = await post(`${gateway.url}/v1/chat/completions`, sent!);
    assert.equal(response.status, 200, sent);
    await response.arrayBuffer();
    assert.equal(mock.requests.at(-1)!.rawBody.toString('utf8'), forwarded, 'only the top-level value changed');
  }
});
