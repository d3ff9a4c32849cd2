// JS/TS plugins through a real gateway against the mock upstream: every hook point (onRequest,
// onAttempt, onResponse, onStreamEvent, onError, onComplete), their order, rejection in the
// caller's dialect, scoping by route and key, pass-through kept byte for byte where no plugin
// applies, and isolation: a hook that throws (open and closed) or overruns its budget.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestGatewayOptions } from '../helpers/gateway.ts';
import { anthropicAnswer, chat, messages, MOCK_TEXT, openaiProvider, post, startGatewayFor, startMocks, sleep, assertAnthropicError, assertOpenAIError, openaiStreamText } from '../helpers/resilience.ts';

const T = { timeout: 30_000 };

/** Writes a plugin module into a fresh folder; returns its path. */
function pluginFile(source: string, name = 'plugin.ts'): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-plugin-'));
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

interface Seen { events: unknown[] }
const seen = (): Seen => ((globalThis as Record<string, unknown>)['__pluginTest'] ??= { events: [] }) as Seen;

async function setup(t: TestContext, plugins: TestGatewayOptions['plugins'], extra: Partial<TestGatewayOptions> = {}) {
  seen().events.length = 0;
  const { mock } = await startMocks(t, { mock: {} });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', mock)], plugins, ...extra });
  return { mock, gateway };
}

const REWRITE = `
export default {
  name: 'rewrite',
  hooks: {
    onRequest(ctx, request) {
      for (const message of request.messages) for (const part of message.content) if (part.type === 'text') part.text = part.text.replace('secret', '[gone]');
      request.sampling.temperature = 0.25;
      globalThis.__pluginTest.events.push({ hook: 'onRequest', model: ctx.model, dialect: ctx.dialect, key: ctx.header('authorization') });
    },
  },
};`;

test('onRequest changes the canonical request: a same-dialect request is encoded again so the change reaches the provider, and its answer passes through', T, async (t) => {
  const { mock, gateway } = await setup(t, [{ use: pluginFile(REWRITE) }]);
  const reply = await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'my secret plan' }] }, { authorization: 'Bearer client-secret' });
  assert.equal(reply.status, 200, reply.text);
  assert.equal(reply.json().choices[0].message.content, MOCK_TEXT);
  const sent = mock.requests.find((request) => request.method === 'POST')!;
  assert.equal(sent.body.messages[0].content, 'my [gone] plan');
  assert.equal(sent.body.temperature, 0.25);
  assert.deepEqual(seen().events, [{ hook: 'onRequest', model: 'mock-gpt', dialect: 'openai', key: undefined }], 'credentials are not readable by a hook');
});

test('a request no plugin applies to stays a byte-for-byte pass-through', T, async (t) => {
  const { mock, gateway } = await setup(t, [{ use: pluginFile(REWRITE), routes: ['other-*'] }]);
  const body = '{"model":"mock-gpt","messages":[{"role":"user","content":"my secret plan"}],  "temperature":1}';
  const reply = await post(gateway, '/v1/chat/completions', body);
  assert.equal(reply.status, 200, reply.text);
  assert.equal(mock.requests.find((request) => request.method === 'POST')!.rawBody.toString(), body);
  assert.deepEqual(seen().events, []);
});

test('plugins run in the order of the config, and scope by route and key', T, async (t) => {
  const marker = (name: string) => pluginFile(`export default { name: '${name}', hooks: { onRequest(ctx, request) { request.messages[0].content[0].text += ' ${name}'; } } };`);
  const { mock, gateway } = await setup(t, [{ use: marker('first') }, { use: marker('second'), routes: ['mock-*'] }, { use: marker('never'), routes: ['gpt-*'] }, { use: marker('keyed'), keys: ['someone'] }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  assert.equal(mock.requests.find((request) => request.method === 'POST')!.body.messages[0].content, 'hi first second');
});

test('onRequest may route elsewhere by changing the model, or return a replacement request', T, async (t) => {
  const plugin = pluginFile(`export default { name: 'router', hooks: { onRequest(ctx, request) { return { ...request, model: 'routed-model' }; } } };`);
  const { mock, gateway } = await setup(t, [{ use: plugin }], { models: [{ name: 'routed-model', targets: [{ provider: 'mock', model: 'mock-target' }] }] });
  const reply = await chat(gateway, 'anything');
  assert.equal(reply.status, 200, reply.text);
  assert.equal(mock.requests.find((request) => request.method === 'POST')!.body.model, 'mock-target');
});

test('a rejection reaches the client in its own dialect (OpenAI and Anthropic shapes)', T, async (t) => {
  const plugin = pluginFile(`export default { name: 'guard', hooks: { onRequest(ctx) { throw ctx.reject(403, 'blocked by policy'); } } };`);
  const { mock, gateway } = await setup(t, [{ use: plugin }]);
  const openai = await chat(gateway, 'mock-gpt');
  assert.equal(assertOpenAIError(openai, 403, 'plugin_rejected').message, 'blocked by policy');
  const anthropic = await messages(gateway, 'mock-gpt');
  assert.equal(assertAnthropicError(anthropic, 403, 'permission_error').message, 'blocked by policy');
  assert.equal(mock.requests.filter((request) => request.method === 'POST').length, 0, 'nothing went upstream');
});

test('onResponse changes a non-streamed answer; onStreamEvent changes, drops and inserts stream parts', T, async (t) => {
  const plugin = pluginFile(`
export default {
  name: 'shout',
  hooks: {
    onResponse(ctx, response) {
      for (const part of response.content) if (part.type === 'text') part.text = part.text.toUpperCase();
    },
    onStreamEvent(ctx, part) {
      if (part.type !== 'text-delta') return undefined;
      if (part.delta.includes('from')) return null;
      return [{ ...part, delta: part.delta.toUpperCase() }, { type: 'text-delta', index: part.index, delta: '!' }];
    },
  },
};`);
  const { gateway } = await setup(t, [{ use: plugin }]);
  const whole = await chat(gateway, 'mock-gpt');
  assert.equal(whole.json().choices[0].message.content, MOCK_TEXT.toUpperCase());
  const streamed = await chat(gateway, 'mock-gpt', { stream: true });
  assert.equal(streamed.status, 200);
  assert.equal(openaiStreamText(streamed.events()), 'HELLO! THE! MOCK.!');
});

test('a stream hook that returns an error part ends the stream with that error event', T, async (t) => {
  const plugin = pluginFile(`
export default { name: 'cut', hooks: { onStreamEvent(ctx, part) {
  if (part.type === 'text-delta' && part.delta.includes('the')) return { type: 'error', error: { code: 'SWY_ERR_PLUGIN_REJECTED', status: 400, message: 'cut here', origin: 'gateway', errorClass: 'none', retryable: false, fallbackAllowed: false } };
} } };`);
  const { gateway } = await setup(t, [{ use: plugin }]);
  const streamed = await chat(gateway, 'mock-gpt', { stream: true });
  assert.match(streamed.text, /cut here/);
  assert.doesNotMatch(streamed.text, /mock\./);
  assert.doesNotMatch(streamed.text, /\[DONE\]/);
});

test('onAttempt sees each attempt and may add headers, never credentials', T, async (t) => {
  const plugin = pluginFile(`
export default { name: 'tag', hooks: { onAttempt(ctx, attempt) {
  globalThis.__pluginTest.events.push({ provider: attempt.provider, model: attempt.model, attempt: attempt.attempt, auth: attempt.headers.authorization });
  attempt.headers['x-tag'] = 'tagged';
  attempt.headers.authorization = 'Bearer stolen';
} } };`);
  const { mock, gateway } = await setup(t, [{ use: plugin }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  const sent = mock.requests.find((request) => request.method === 'POST')!;
  assert.equal(sent.headers['x-tag'], 'tagged');
  assert.notEqual(sent.headers.authorization, 'Bearer stolen');
  assert.deepEqual(seen().events, [{ provider: 'mock', model: 'mock-gpt', attempt: 1, auth: undefined }]);
});

test('onError replaces the error answered; onComplete gets the summary off the response path', T, async (t) => {
  const plugin = pluginFile(`
export default { name: 'errors', hooks: {
  onError(ctx, error) { return { ...error, message: 'friendlier: ' + error.code }; },
  onComplete(ctx, summary) { globalThis.__pluginTest.events.push({ status: summary.status, model: summary.model, provider: summary.provider, usage: summary.usage !== undefined }); },
} };`);
  const { gateway } = await setup(t, [{ use: plugin }], { providers: [] } as Partial<TestGatewayOptions>);
  const missing = await chat(gateway, 'no-such-model');
  assert.equal(assertOpenAIError(missing, 404).message, 'friendlier: SWY_ERR_ROUTING_MODEL_NOT_FOUND');
  for (let i = 0; i < 50 && seen().events.length === 0; i++) await sleep(10);
  assert.deepEqual(seen().events, [{ status: 404, model: 'no-such-model', provider: '', usage: false }]);
});

test('a hook that throws is skipped with on_error: open and fails the request with closed; both are counted', T, async (t) => {
  const source = `export default { name: 'broken', hooks: { onRequest() { throw new Error('oops'); } } };`;
  const { gateway } = await setup(t, [{ use: pluginFile(source) }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200, 'open: the request goes on');
  const closed = await setup(t, [{ use: pluginFile(source), onError: 'closed' }]);
  const reply = await chat(closed.gateway, 'mock-gpt');
  assert.match(assertOpenAIError(reply, 500, 'plugin_failed').message, /Plugin 'broken' failed in onRequest: oops/);
  const metrics = await (await fetch(`${closed.gateway.url}/metrics`)).text();
  assert.match(metrics, /switchyard_plugin_errors_total\{plugin="broken",hook="onRequest",kind="throw"\} 1/);
});

test('a hook past its budget is a timeout; an asynchronous one too', T, async (t) => {
  const slow = pluginFile(`export default { name: 'slow', hooks: { onRequest() { const until = performance.now() + 30; while (performance.now() < until) {} } } };`);
  const { gateway } = await setup(t, [{ use: slow, onError: 'closed', timeoutMs: 5 }]);
  assert.match(assertOpenAIError(await chat(gateway, 'mock-gpt'), 504, 'plugin_timeout').message, /ran past its 5 ms budget/);
  const later = pluginFile(`export default { name: 'later', hooks: { onRequest() { return new Promise((resolve) => setTimeout(resolve, 500)); } } };`);
  const other = await setup(t, [{ use: later, onError: 'closed', timeoutMs: 20 }]);
  assertOpenAIError(await chat(other.gateway, 'mock-gpt'), 504, 'plugin_timeout');
  const open = await setup(t, [{ use: later, timeoutMs: 20 }]);
  assert.equal((await chat(open.gateway, 'mock-gpt')).status, 200, 'open: a late asynchronous hook is skipped');
});

test('an Anthropic caller is translated too when a plugin reads its request', T, async (t) => {
  const { anthropic } = await startMocks(t, { anthropic: (request) => anthropicAnswer(request) });
  const plugin = pluginFile(REWRITE);
  seen().events.length = 0;
  const gateway = await startGatewayFor(t, {
    providers: [{ name: 'claude', dialect: 'anthropic', baseUrl: `${anthropic.url}/v1`, models: ['*'], apiKeys: ['sk-ant-upstream'], auth: { header: 'x-api-key', prefix: '' }, headers: { 'anthropic-version': '2023-06-01' } }],
    plugins: [{ use: plugin }],
  });
  const reply = await messages(gateway, 'claude-x', { messages: [{ role: 'user', content: 'a secret' }] });
  assert.equal(reply.status, 200, reply.text);
  const sent = anthropic.requests.find((request) => request.method === 'POST')!;
  assert.match(JSON.stringify(sent.body.messages[0]), /a \[gone\]/);
  assert.equal(sent.body.temperature, 0.25);
});

// --- Lua plugins and the built-ins through the gateway -------------------------------------------

const EXAMPLES = join(import.meta.dirname, '../../examples/plugins');

test("a Lua plugin in switchAILocal's style (the pii-redactor example) redacts before the provider sees the prompt", T, async (t) => {
  const { mock, gateway } = await setup(t, [{ use: join(EXAMPLES, 'pii-redactor'), config: { placeholder_email: '[EMAIL]' } }]);
  const reply = await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'mail me at jane.doe@example.com or 555-123-4567' }] });
  assert.equal(reply.status, 200, reply.text);
  const sent = mock.requests.find((request) => request.method === 'POST')!;
  assert.equal(sent.body.messages[0].content, 'mail me at [EMAIL] or [PHONE REDACTED]');
});

test('a Lua hook that loops is interrupted by its instruction-count check: on_error decides, the gateway serves on', T, async (t) => {
  const loop = pluginFile(`return { on_request = function(req) if req.messages[1].content == "loop" then while true do end end end }`, 'loop.lua');
  const { gateway } = await setup(t, [{ use: loop, onError: 'closed', timeoutMs: 20 }]);
  assertOpenAIError(await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'loop' }] }), 504, 'plugin_timeout');
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  const open = await setup(t, [{ use: loop, timeoutMs: 20 }]);
  assert.equal((await chat(open.gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'loop' }] })).status, 200, 'open: skipped');
  const metrics = await (await fetch(`${open.gateway.url}/metrics`)).text();
  assert.match(metrics, /switchyard_plugin_errors_total\{plugin="loop",hook="onRequest",kind="timeout"\} 1/);
});

test('a Lua rejection reaches an Anthropic caller in its own shape', T, async (t) => {
  const guard = pluginFile(`return { on_request = function(req) return { reject = { status = 403, message = "not today" } } end }`, 'guard.lua');
  const { gateway } = await setup(t, [{ use: guard }]);
  assert.equal(assertAnthropicError(await messages(gateway, 'mock-gpt'), 403, 'permission_error').message, 'not today');
});

test('a refusal carries its code in x-switchyard-error-code and in each dialect (ctx.reject with a code, Lua reject.code)', T, async (t) => {
  const js = pluginFile(`export default { name: 'coded', hooks: { onRequest(ctx, request) {
    if (request.model === 'bad-code') throw ctx.reject(402, 'no credit', 'SWY_ERR_LIMIT_BUDGET_EXCEEDED');
    throw ctx.reject(402, 'no credit', 'credit_exhausted');
  } } };`);
  const { mock, gateway } = await setup(t, [{ use: js }]);
  const openai = await chat(gateway, 'mock-gpt');
  assert.equal(assertOpenAIError(openai, 402, 'plugin_credit_exhausted').message, 'no credit');
  assert.equal(openai.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_CREDIT_EXHAUSTED');
  const anthropic = await messages(gateway, 'mock-gpt');
  assert.equal(assertAnthropicError(anthropic, 402, 'billing_error').message, 'no credit');
  assert.equal(anthropic.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_CREDIT_EXHAUSTED');
  const outside = await chat(gateway, 'bad-code');
  assertOpenAIError(outside, 402, 'plugin_rejected');
  assert.equal(outside.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_REJECTED', 'a plugin cannot claim a code outside the plugin area');
  assert.equal(mock.requests.filter((request) => request.method === 'POST').length, 0);

  const lua = pluginFile(`return { on_request = function(req) return { reject = { status = 451, message = "not here", code = "region_blocked" } } end }`, 'coded.lua');
  const luaRig = await setup(t, [{ use: lua }]);
  const refused = await messages(luaRig.gateway, 'mock-gpt');
  assert.equal(assertAnthropicError(refused, 451, 'invalid_request_error').message, 'not here');
  assert.equal(refused.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_REGION_BLOCKED');
});

test('content-guard refuses a prompt and a whole answer with SWY_ERR_PLUGIN_CONTENT_BLOCKED, like its stream; redact block with SWY_ERR_PLUGIN_SENSITIVE_DATA', T, async (t) => {
  // budgets no call misses on a shared, niced machine (a late guard fails closed with another code)
  const budgets = { timeoutMs: 5000, streamTimeoutMs: 5000 };
  const { gateway } = await setup(t, [
    { use: 'redact', builtin: true, config: { mode: 'block' }, routes: ['blocked'], ...budgets },
    { use: 'content-guard', builtin: true, config: { words: ['mock', 'forbidden'] }, routes: ['mock-gpt'], ...budgets },
  ], { models: [{ name: 'blocked', targets: [{ provider: 'mock', model: 'mock-gpt' }] }] });
  const answer = await chat(gateway, 'mock-gpt');
  assert.match(assertOpenAIError(answer, 400, 'plugin_content_blocked').message, /stopped by content-guard/);
  assert.equal(answer.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_CONTENT_BLOCKED');
  const anthropic = await messages(gateway, 'mock-gpt');
  assertAnthropicError(anthropic, 400, 'invalid_request_error');
  assert.equal(anthropic.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_CONTENT_BLOCKED');
  const prompt = await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'a forbidden word' }] });
  assert.match(assertOpenAIError(prompt, 400, 'plugin_content_blocked').message, /refused by content-guard/);
  assert.equal(prompt.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_CONTENT_BLOCKED');
  const streamed = await chat(gateway, 'mock-gpt', { stream: true });
  assert.match(streamed.text, /"code":"plugin_content_blocked"/, 'the same code as the stream\'s error event');
  const secret = await chat(gateway, 'blocked', { messages: [{ role: 'user', content: 'my key is sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD' }] });
  assertOpenAIError(secret, 400, 'plugin_sensitive_data');
  assert.equal(secret.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_SENSITIVE_DATA');
});

test('a Lua state past memory_limit_mb fails that call (on_error decides, kind="memory") and is rebuilt; the gateway serves on', T, async (t) => {
  const hog = pluginFile(`calls = 0
return { on_request = function(req)
  calls = calls + 1
  if req.messages[1].content == "hog" then local s = string.rep("x", 8 * 1024 * 1024) end
  req.messages[1].content = "call " .. calls
  return req
end }`, 'hog.lua');
  const { mock, gateway } = await setup(t, [{ use: hog, onError: 'closed', memoryLimitMb: 4, timeoutMs: 5000 }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  assert.equal(mock.requests.filter((request) => request.method === 'POST').at(-1)!.body.messages[0].content, 'call 1');
  const refused = await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'hog' }] });
  assert.match(assertOpenAIError(refused, 500, 'plugin_failed').message, /ran out of memory \(limit 4 MB\); its state is rebuilt/);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  assert.equal(mock.requests.filter((request) => request.method === 'POST').at(-1)!.body.messages[0].content, 'call 1', 'a fresh state: the top-level code ran again');
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(metrics, /switchyard_plugin_errors_total\{plugin="hog",hook="onRequest",kind="memory"\} 1/);
  const open = await setup(t, [{ use: hog, memoryLimitMb: 4, timeoutMs: 5000 }]);
  assert.equal((await chat(open.gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'hog' }] })).status, 200, 'open: the request goes on without the hook');
});

test('Lua on_attempt, on_error and ctx.state: the same lifecycle as a JS plugin', T, async (t) => {
  const lua = pluginFile(`return {
  on_request = function(req, ctx) ctx.state.asked = req.model end,
  on_attempt = function(attempt, ctx) attempt.headers["x-asked"] = ctx.state.asked; return attempt end,
  on_error = function(err, ctx) return { message = "friendlier: " .. err.code .. " for " .. tostring(ctx.state.asked) } end,
}`, 'lifecycle.lua');
  const { mock, gateway } = await setup(t, [{ use: lua }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  assert.equal(mock.requests.find((request) => request.method === 'POST')!.headers['x-asked'], 'mock-gpt');
  const noProviders = await setup(t, [{ use: lua }], { providers: [] } as Partial<TestGatewayOptions>);
  const missing = await chat(noProviders.gateway, 'no-such-model');
  assert.equal(assertOpenAIError(missing, 404).message, 'friendlier: SWY_ERR_ROUTING_MODEL_NOT_FOUND for no-such-model');
  const again = await chat(noProviders.gateway, 'other-missing');
  assert.equal(assertOpenAIError(again, 404).message, 'friendlier: SWY_ERR_ROUTING_MODEL_NOT_FOUND for other-missing', 'each request its own state');
});

test('built-ins: redact blocks secrets, payload-rules caps max_tokens, content-guard ends a stream with an error event', T, async (t) => {
  const { mock, gateway } = await setup(t, [
    { use: 'redact', builtin: true, config: { mode: 'block' }, routes: ['blocked'] },
    { use: 'payload-rules', builtin: true, config: { rules: [{ models: ['mock-*'], caps: { max_tokens: 100 } }] } },
    { use: 'content-guard', builtin: true, config: { words: ['mock'] }, routes: ['mock-gpt'] },
  ], { models: [{ name: 'blocked', targets: [{ provider: 'mock', model: 'mock-gpt' }] }] });
  const blocked = await chat(gateway, 'blocked', { messages: [{ role: 'user', content: 'my key is sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD' }] });
  assert.equal(blocked.status, 400, blocked.text);
  assert.doesNotMatch(blocked.text, /abcdefghij/, 'the secret is never echoed');
  const streamed = await chat(gateway, 'mock-gpt', { stream: true, max_tokens: 5000 });
  assert.equal(mock.requests.filter((request) => request.method === 'POST').at(-1)!.body.max_tokens, 100);
  assert.match(streamed.text, /SWY_ERR_PLUGIN_CONTENT_BLOCKED|content/i);
  assert.doesNotMatch(openaiStreamText(streamed.events().filter((event) => !event.data.includes('"error"'))), /mock/, streamed.text);
});

test('a plugin that does not load stops the start with its file and line', T, async (t) => {
  const broken = pluginFile('export default {\n  name: "broken",\n  hooks: { onRequest( }\n};\n');
  const { mock } = await startMocks(t, { mock: {} });
  await assert.rejects(startGatewayFor(t, { providers: [openaiProvider('mock', mock)], plugins: [{ use: broken }] }), (error: Error) => {
    assert.match(error.message, /^plugins\[0\]: .*plugin\.ts:3/);
    return true;
  });
});

test("a TypeScript plugin may import definePlugin from 'switchyard' wherever its file is", T, async (t) => {
  const plugin = pluginFile(`import { definePlugin, type PluginDefinition } from 'switchyard';
const plugin: PluginDefinition<{ suffix: string }> = definePlugin({ name: 'typed', hooks: { onRequest(ctx, request) { request.messages[0]!.content.push({ type: 'text', text: ctx.config.suffix }); } } });
export default plugin;`);
  const { mock, gateway } = await setup(t, [{ use: plugin, config: { suffix: '!' } }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  assert.match(JSON.stringify(mock.requests.find((request) => request.method === 'POST')!.body.messages[0]), /!/);
});

test('check-config loads the plugins: each one that fails is reported at its line, with the file and line of its own error', T, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-plugin-check-'));
  writeFileSync(join(dir, 'bad.ts'), 'export default {\n  name: "x",\n  hooks: { onRequest( }\n};\n');
  writeFileSync(join(dir, 'good.ts'), 'export default { name: "ok", hooks: { onRequest() {} } };\n');
  writeFileSync(join(dir, 'switchyard.yaml'), 'providers:\n  - name: local\n    type: ollama\n    base_url: http://127.0.0.1:11434\nplugins:\n  - use: ./good.ts\n  - use: ./bad.ts\n  - use: nosuch\n  - use: redact\n    config: { mode: shout }\n');
  const { spawnSync } = await import('node:child_process');
  const run = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/switchyard.js'), 'check-config', '--config', join(dir, 'switchyard.yaml')], { encoding: 'utf8' });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /switchyard\.yaml:7:10 {2}plugins\[1\]\.use: .*bad\.ts:3: SyntaxError/);
  assert.match(run.stderr, /switchyard\.yaml:8:10 {2}plugins\[2\]\.use: no built-in plugin is named 'nosuch'/);
  assert.match(run.stderr, /switchyard\.yaml:9:10 {2}plugins\[3\]\.use: redact: config: mode: must be one of: redact, block, log/);
  assert.match(run.stderr, /3 problems/);
});

test('isolate: true runs a JS plugin in a thread of its own: its changes arrive, and a loop is stopped without holding the gateway', T, async (t) => {
  const plugin = pluginFile(`import { definePlugin } from 'switchyard';
export default definePlugin({ name: 'isolated', hooks: { onRequest(ctx, request) {
  const text = request.messages[0].content[0];
  if (text.text === 'loop') while (true) {}
  if (text.text === 'deny') throw ctx.reject(451, 'not here');
  if (text.text === 'coded') throw ctx.reject(451, 'not here either', 'region_blocked');
  if (text.text === 'miscoded') throw ctx.reject(451, 'nor here', 'SWY_ERR_AUTH_INVALID_KEY');
  text.text += ' (seen in a worker by ' + ctx.model + ')';
} } });`);
  const { mock, gateway } = await setup(t, [{ use: plugin, isolate: true, timeoutMs: 200, onError: 'closed' }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  assert.equal(mock.requests.find((request) => request.method === 'POST')!.body.messages[0].content, 'hi (seen in a worker by mock-gpt)');
  assert.equal(assertOpenAIError(await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'deny' }] }), 451, 'plugin_rejected').message, 'not here');
  // a code crosses the thread as plain data and is checked on the gateway's side
  const coded = await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'coded' }] });
  assertOpenAIError(coded, 451, 'plugin_region_blocked');
  assert.equal(coded.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_REGION_BLOCKED');
  assert.equal((await chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'miscoded' }] })).headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_REJECTED');
  const during = chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'loop' }] });
  // the gateway answers others while the plugin's thread loops
  const health = await fetch(`${gateway.url}/healthz`);
  assert.equal(health.status, 200);
  assertOpenAIError(await during, 504, 'plugin_timeout');
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200, 'a fresh thread serves the next request');
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(metrics, /switchyard_plugin_errors_total\{plugin="isolated",hook="onRequest",kind="timeout"\} 1/);
});

test('isolate: true caps the thread\'s JS heap at memory_limit_mb: a hog\'s thread is stopped (kind="memory"), the gateway serves on and a fresh thread takes the next call', T, async (t) => {
  const plugin = pluginFile(`let calls = 0;
export default { name: 'heap-hog', hooks: { onRequest(ctx, request) {
  calls += 1;
  const text = request.messages[0].content[0];
  if (text.text === 'hog') { const kept = []; for (;;) kept.push({ at: kept.length, text: 'x'.repeat(64) + kept.length }); }
  text.text = 'call ' + calls;
} } };`);
  const { mock, gateway } = await setup(t, [{ use: plugin, isolate: true, memoryLimitMb: 16, timeoutMs: 20_000, onError: 'closed' }]);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200);
  const hog = chat(gateway, 'mock-gpt', { messages: [{ role: 'user', content: 'hog' }] });
  // the gateway's own thread answers while the plugin's thread fills its heap
  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
  assert.match(assertOpenAIError(await hog, 500, 'plugin_failed').message, /ran out of memory \(limit 16 MB of JS heap; memory_limit_mb\)/);
  assert.equal((await chat(gateway, 'mock-gpt')).status, 200, 'a fresh thread serves the next request');
  assert.equal(mock.requests.filter((request) => request.method === 'POST').at(-1)!.body.messages[0].content, 'call 1', 'a fresh thread: the module ran again');
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(metrics, /switchyard_plugin_errors_total\{plugin="heap-hog",hook="onRequest",kind="memory"\} 1/);
});

test('isolate: true refuses hooks that must run on the gateway thread', T, async (t) => {
  const plugin = pluginFile(`export default { name: 'mixed', hooks: { onRequest() {}, onStreamEvent() {} } };`);
  const { mock } = await startMocks(t, { mock: {} });
  await assert.rejects(startGatewayFor(t, { providers: [openaiProvider('mock', mock)], plugins: [{ use: plugin, isolate: true }] }), /isolate: true a plugin may have onRequest and onComplete only; 'onStreamEvent'/);
});

test('the response cache keys on the request as the plugins left it, and a hit goes through onResponse', T, async (t) => {
  const plugin = pluginFile(`export default { name: 'cache-aware', hooks: {
  onRequest(ctx, request) { request.messages[0].content[0].text = 'normalized'; },
  onResponse(ctx, response) { response.content[0].text += ' [seen]'; },
} };`);
  const { mock, gateway } = await setup(t, [{ use: plugin }], { models: [{ name: 'cached', targets: [{ provider: 'mock', model: 'mock-gpt' }], cache: { ttlSeconds: 60, perKey: false } }] });
  const first = await chat(gateway, 'cached', { messages: [{ role: 'user', content: 'one wording' }] });
  const second = await chat(gateway, 'cached', { messages: [{ role: 'user', content: 'another wording' }] });
  assert.equal(second.headers.get('x-switchyard-cache'), 'hit', 'both became the same request');
  assert.equal(mock.requests.filter((request) => request.method === 'POST').length, 1);
  assert.equal(first.json().choices[0].message.content, `${MOCK_TEXT} [seen]`);
  assert.equal(second.json().choices[0].message.content, `${MOCK_TEXT} [seen]`);
});

test('a plugin with onRequest only: the answer still passes through as the provider sent it (a stream without usage unless asked)', T, async (t) => {
  const plugin = pluginFile(`export default { name: 'reader', hooks: { onRequest(ctx, request) { request.sampling.temperature = 0.5; } } };`);
  const answer = { id: 'chatcmpl-x', object: 'chat.completion', created: 1, model: 'mock-gpt', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, x_vendor_field: 'kept' };
  const { mock } = await startMocks(t, { mock: (request) => (request.body?.stream === true ? { kind: 'default' } : { kind: 'json', status: 200, body: answer }) });
  const gateway = await startGatewayFor(t, { providers: [openaiProvider('mock', mock)], plugins: [{ use: plugin }] });
  const whole = await chat(gateway, 'mock-gpt');
  assert.equal(whole.json().x_vendor_field, 'kept', 'bytes passed through, not re-encoded');
  assert.equal(mock.requests.at(-1)!.body.temperature, 0.5);
  // streamed without include_usage: translated, so the usage chunk the gateway asks for is not shown
  const streamed = await chat(gateway, 'mock-gpt', { stream: true });
  assert.equal(streamed.status, 200);
  assert.ok(!streamed.events().some((event) => event.data !== '[DONE]' && JSON.parse(event.data).choices?.length === 0), 'no usage chunk the caller did not ask for');
  // with include_usage: the stream passes through as it comes
  const withUsage = await chat(gateway, 'mock-gpt', { stream: true, stream_options: { include_usage: true } });
  assert.equal(withUsage.status, 200);
  assert.equal(mock.requests.at(-1)!.body.temperature, 0.5);
});

test('onResponse may refuse an answer: the caller gets the refusal in its dialect, nothing is retried', T, async (t) => {
  const plugin = pluginFile(`export default { name: 'answer-guard', hooks: { onResponse(ctx, response) { if (response.content.some((part) => part.type === 'text' && part.text.includes('mock'))) throw ctx.reject(422, 'the answer mentioned a mock'); } } };`);
  const { mock, gateway } = await setup(t, [{ use: plugin }]);
  assert.equal(assertOpenAIError(await chat(gateway, 'mock-gpt'), 422, 'plugin_rejected').message, 'the answer mentioned a mock');
  assert.equal(assertAnthropicError(await messages(gateway, 'mock-gpt'), 422, 'invalid_request_error').message, 'the answer mentioned a mock');
  assert.equal(mock.requests.filter((request) => request.method === 'POST').length, 2, 'one attempt per request');
});
