import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLuaPlugin, LuaPluginError, LuaPluginLoadError, PluginMemoryError, PluginTimeoutError, type LuaPluginOptions } from '../../src/plugins/lua/load-lua-plugin.ts';
import type { AttemptInfo, CanonicalRequest, CanonicalResponse, CompletionSummary, PluginInstance, PluginRejection, StreamPart } from '../../src/plugins/api.ts';
import { fakePluginContext } from '../helpers/plugin-context.ts';

const root = mkdtempSync(join(tmpdir(), 'swy-lua-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** Writes a plugin (a folder with handler.lua, plus other files) and returns its folder. */
function pluginFolder(handler: string, files: Record<string, string> = {}): string {
  const dir = join(root, `plugin-${++counter}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'handler.lua'), handler);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

async function instance(handler: string, config: unknown = {}, options?: LuaPluginOptions): Promise<PluginInstance & { logged: string[] }> {
  const definition = await loadLuaPlugin(pluginFolder(handler), options);
  const logged: string[] = [];
  const hooks = await definition.setup!(config, { dir: '', log: (message) => logged.push(message) });
  return Object.assign(hooks, { logged });
}

function chat(...texts: string[]): CanonicalRequest {
  return {
    model: 'gpt-test',
    messages: texts.map((text, i) => ({ role: i === 0 ? 'system' : 'user', content: [{ type: 'text', text }] })),
    sampling: { temperature: 0.2, maxTokens: 100 },
    stream: false,
  };
}

function response(text: string): CanonicalResponse {
  return { id: 'r1', model: 'up-model', created: 1, content: [{ type: 'text', text }], finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 2 } };
}

function rejection(error: unknown): PluginRejection {
  assert.ok(error instanceof Error && (error as Partial<PluginRejection>).rejection === true, `expected a rejection, got ${String(error)}`);
  return error as PluginRejection;
}

test('a folder plugin: handler.lua returns a table of hooks; nil changes nothing', async () => {
  const hooks = await instance('return { on_request = function(req) return nil end }');
  const request = chat('be brief', 'hello');
  const before = structuredClone(request);
  assert.equal(hooks.onRequest!(fakePluginContext(), request), undefined);
  assert.deepEqual(request, before);
  assert.equal(hooks.onResponse, undefined, 'only the hooks the script defines');
  assert.equal(hooks.onStreamEvent, undefined);
});

test('a single-file plugin with global hooks (switchAILocal style) rewrites the model', async () => {
  const file = join(root, 'single.lua');
  writeFileSync(file, 'function on_request(data)\n  data.model = "gpt-other"\n  return data\nend\n');
  const definition = await loadLuaPlugin(file);
  assert.equal(definition.name, 'single');
  const hooks = await definition.setup!({}, { dir: '', log: () => {} });
  const request = chat('hi');
  hooks.onRequest!(fakePluginContext(), request);
  assert.equal(request.model, 'gpt-other');
});

test('method hooks (Plugin:on_request) get the plugin table as self; a second parameter gets the context', async () => {
  const hooks = await instance(`
    local Plugin = { suffix = "-x" }
    function Plugin:on_request(req, ctx)
      req.model = req.model .. self.suffix .. "-" .. ctx.key_id .. "-" .. ctx.dialect .. "-" .. config.tag
      return req
    end
    return Plugin`, { tag: 't1' });
  const request = chat('hi');
  hooks.onRequest!(fakePluginContext({ keyId: 'k1', dialect: 'anthropic' }), request);
  assert.equal(request.model, 'gpt-test-x-k1-anthropic-t1');
});

test('each configured instance has its own state and config', async () => {
  const definition = await loadLuaPlugin(pluginFolder('count = 0\nreturn { on_request = function(req) count = count + 1; req.model = config.prefix .. count; return req end }'));
  const a = await definition.setup!({ prefix: 'a' }, { dir: '', log: () => {} });
  const b = await definition.setup!({ prefix: 'b' }, { dir: '', log: () => {} });
  const r1 = chat('x');
  const r2 = chat('x');
  const r3 = chat('x');
  a.onRequest!(fakePluginContext(), r1);
  a.onRequest!(fakePluginContext(), r2);
  b.onRequest!(fakePluginContext(), r3);
  assert.deepEqual([r1.model, r2.model, r3.model], ['a1', 'a2', 'b1']);
  await a.dispose?.();
  await b.dispose?.();
});

test('a string content is written back onto its text part, keeping what Lua does not see', async () => {
  const hooks = await instance(`return { on_request = function(req)
    req.messages[2].content = "Hello " .. req.messages[2].content
    return req
  end }`);
  const request = chat('sys', 'world');
  request.messages[1]!.content = [{ type: 'text', text: 'world', cacheControl: { type: 'ephemeral' } }];
  const system = request.messages[0];
  hooks.onRequest!(fakePluginContext(), request);
  assert.deepEqual(request.messages[1]!.content, [{ type: 'text', text: 'Hello world', cacheControl: { type: 'ephemeral' } }]);
  assert.equal(request.messages[0], system, 'an unchanged message is the same object');
  assert.deepEqual(request.sampling, { temperature: 0.2, maxTokens: 100 });
});

test('content with several parts is a list: text edited, an image kept with its bytes, a part added', async () => {
  const hooks = await instance(`return { on_request = function(req)
    local content = req.messages[1].content
    assert(type(content) == "table" and #content == 2)
    assert(content[2].type == "image" and content[2].media_type == "image/png" and content[2].data == nil)
    content[1].text = content[1].text:upper()
    table.insert(content, { type = "text", text = "added" })
    return req
  end }`);
  const request: CanonicalRequest = {
    model: 'm', sampling: {}, stream: false,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' } }] }],
  };
  hooks.onRequest!(fakePluginContext(), request);
  assert.deepEqual(request.messages[0]!.content, [
    { type: 'text', text: 'LOOK' },
    { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' } },
    { type: 'text', text: 'added' },
  ]);
});

test('params, tools and metadata read and write; messages can be added and removed', async () => {
  const hooks = await instance(`return { on_request = function(req)
    req.params.max_tokens = math.min(req.params.max_tokens, 50)
    req.params.temperature = nil
    req.metadata.user = "u-" .. #req.tools
    req.tools[1].description = "changed"
    table.insert(req.messages, 1, { role = "system", content = "policy" })
    table.remove(req.messages, 3)
    return req
  end }`);
  const request = chat('sys', 'first', 'second');
  request.tools = [{ name: 'lookup', description: 'd', parameters: { type: 'object', properties: { q: { type: 'string' } } } }];
  hooks.onRequest!(fakePluginContext(), request);
  assert.deepEqual(request.sampling, { maxTokens: 50 });
  assert.deepEqual(request.metadata, { user: 'u-1' });
  assert.deepEqual(request.tools, [{ name: 'lookup', description: 'changed', parameters: { type: 'object', properties: { q: { type: 'string' } } } }]);
  assert.deepEqual(request.messages.map((message) => [message.role, message.content]), [
    ['system', [{ type: 'text', text: 'policy' }]],
    ['system', [{ type: 'text', text: 'sys' }]],
    ['user', [{ type: 'text', text: 'second' }]],
  ]);
});

test('pairs and json.encode see the whole request; the view is detached after the call', async () => {
  const hooks = await instance(`
    local kept
    return { on_request = function(req)
      if kept then
        req.model = tostring(kept.messages) .. "/" .. tostring(rawget(kept, "params"))
        return req
      end
      kept = req
      local keys = {}
      for key in pairs(req) do keys[#keys + 1] = key end
      table.sort(keys)
      local decoded = switchyard.json.decode(switchyard.json.encode(req))
      req.model = table.concat(keys, ",") .. "|" .. decoded.messages[1].content
      return req
    end }`);
  const request = chat('one');
  hooks.onRequest!(fakePluginContext(), request);
  assert.equal(request.model, 'messages,metadata,model,params,stream,tools|one');
  const second = chat('two');
  hooks.onRequest!(fakePluginContext(), second);
  assert.match(second.model, /^table: .*\/table: /, 'a kept view holds the data it had, plain');
});

test('reject by returning { reject = … }, by error("…") and by error({ status, message })', async () => {
  const byTable = await instance('return { on_request = function(req) return { reject = { status = 429, message = "slow down" } } end }');
  const byTableError = rejection(((): unknown => { try { byTable.onRequest!(fakePluginContext(), chat('x')); } catch (error) { return error; } })());
  assert.equal(byTableError.status, 429);
  assert.equal(byTableError.message, 'slow down');

  const byError = await instance('return { on_request = function(req) if req.model == "gpt-test" then error("model not allowed") end end }');
  const byErrorError = rejection(((): unknown => { try { byError.onRequest!(fakePluginContext(), chat('x')); } catch (error) { return error; } })());
  assert.equal(byErrorError.status, 403);
  assert.equal(byErrorError.message, 'model not allowed', 'the message without the file position');

  const byErrorTable = await instance('return { on_request = function(req) error({ status = 451, message = "not here" }) end }');
  const byErrorTableError = rejection(((): unknown => { try { byErrorTable.onRequest!(fakePluginContext(), chat('x')); } catch (error) { return error; } })());
  assert.equal(byErrorTableError.status, 451);
});

test('a refusal may name its error code: { reject = { …, code } } and error({ …, code }); a code outside the plugin area is SWY_ERR_PLUGIN_REJECTED', async () => {
  const thrown = (hooks: PluginInstance, model = 'gpt-test'): PluginRejection => {
    const request = chat('x');
    request.model = model;
    try {
      hooks.onRequest!(fakePluginContext(), request);
    } catch (error) {
      return rejection(error);
    }
    assert.fail('expected a rejection');
  };
  const byTable = await instance('return { on_request = function(req) return { reject = { status = 400, message = "blocked", code = req.model } } end }');
  const blocked = thrown(byTable, 'content_blocked');
  assert.deepEqual([blocked.status, blocked.message, blocked.code], [400, 'blocked', 'SWY_ERR_PLUGIN_CONTENT_BLOCKED']);
  assert.equal(thrown(byTable, 'SWY_ERR_PLUGIN_QUOTA_SPENT').code, 'SWY_ERR_PLUGIN_QUOTA_SPENT');
  assert.equal(thrown(byTable, 'SWY_ERR_AUTH_INVALID_KEY').code, 'SWY_ERR_PLUGIN_REJECTED', 'a plugin cannot pass for the gateway\'s auth errors');
  assert.equal(thrown(byTable, 'SWY_ERR_PLUGIN_TIMEOUT').code, 'SWY_ERR_PLUGIN_REJECTED', 'nor for its own failures');
  assert.equal(thrown(byTable, 'not a code!').code, 'SWY_ERR_PLUGIN_REJECTED');

  const byError = await instance('return { on_request = function(req) error({ status = 429, message = "slow down", code = "rate_limited" }) end }');
  const slow = thrown(byError);
  assert.deepEqual([slow.status, slow.message, slow.code], [429, 'slow down', 'SWY_ERR_PLUGIN_RATE_LIMITED']);
  // error("…") has no code
  assert.equal(thrown(await instance('return { on_request = function(req) error("no") end }')).code, 'SWY_ERR_PLUGIN_REJECTED');
});

test('a runtime error is a LuaPluginError (a bug), not a rejection, and names the file and line', async () => {
  const hooks = await instance('return { on_request = function(req)\n  local x = nil\n  return x.field\nend }');
  assert.throws(() => hooks.onRequest!(fakePluginContext(), chat('x')), (error: unknown) => {
    assert.ok(error instanceof LuaPluginError);
    assert.equal(error.code, 'lua_error');
    assert.match(error.message, /handler\.lua:3: attempt to index a nil value/);
    return true;
  });
  // an error() the script caught itself does not make a later bug a rejection
  const caught = await instance('return { on_request = function(req) pcall(error, "nope") local t = nil; return t.x end }');
  assert.throws(() => caught.onRequest!(fakePluginContext(), chat('x')), LuaPluginError);
});

test('on_response changes take effect; content is a string when the answer is one text part', async () => {
  const hooks = await instance(`return { on_response = function(res)
    res.content = res.content:gsub("secret", "[hidden]")
    res.model = "shown-model"
    return res
  end }`);
  const answer = response('the secret is out');
  hooks.onResponse!(fakePluginContext(), answer);
  assert.deepEqual(answer.content, [{ type: 'text', text: 'the [hidden] is out' }]);
  assert.equal(answer.model, 'shown-model');
  assert.deepEqual(answer.usage, { inputTokens: 3, outputTokens: 2 });
});

test('on_stream_event: nil keeps, a table replaces, false drops, a list inserts', async () => {
  const hooks = await instance(`return { on_stream_event = function(part)
    if part.type ~= "text-delta" then return nil end
    if part.delta == "drop" then return false end
    if part.delta == "two" then return { part, { type = "text-delta", index = part.index, delta = "!" } } end
    part.delta = part.delta:upper()
    return part
  end }`);
  const ctx = fakePluginContext({ stream: true });
  const end: StreamPart = { type: 'text-end', index: 0 };
  assert.equal(hooks.onStreamEvent!(ctx, end), undefined);
  assert.deepEqual(hooks.onStreamEvent!(ctx, { type: 'text-delta', index: 0, delta: 'abc' }), { type: 'text-delta', index: 0, delta: 'ABC' });
  assert.equal(hooks.onStreamEvent!(ctx, { type: 'text-delta', index: 0, delta: 'drop' }), null);
  assert.deepEqual(hooks.onStreamEvent!(ctx, { type: 'text-delta', index: 1, delta: 'two' }), [
    { type: 'text-delta', index: 1, delta: 'two' },
    { type: 'text-delta', index: 1, delta: '!' },
  ]);
});

test('on_complete is called with the summary', async () => {
  const hooks = await instance(`return { on_complete = function(summary)
    switchyard.log(summary.request_id .. " " .. summary.status .. " " .. summary.usage.output_tokens .. " " .. tostring(summary.stream))
  end }`);
  await hooks.onComplete!(fakePluginContext(), {
    requestId: 'req-9', status: 200, keyId: '', model: 'm', provider: 'p', upstreamModel: 'u', stream: true, attempts: 1,
    usage: { inputTokens: 1, outputTokens: 7 }, costUsd: undefined, durationMs: 5, firstByteMs: 1, cached: false, aborted: false, error: undefined,
  });
  assert.deepEqual(hooks.logged, ['req-9 200 7 true']);
});

test('the sandbox: no io, os limited to time/date/clock, no files outside the plugin folder, no debug or bytecode', async () => {
  const outside = join(root, 'outside.lua');
  writeFileSync(outside, 'return { leaked = true }');
  const dir = pluginFolder(`
    local helper = require("lib.helper")
    local results = {}
    local function check(name, f) local ok, err = pcall(f); results[#results + 1] = name .. "=" .. tostring(ok) end
    check("io", function() return io.open("/etc/passwd") end)
    check("os.execute", function() return os.execute("true") end)
    check("os.getenv", function() return os.getenv("HOME") end)
    check("os.time", function() return os.time() + os.clock() + #os.date("%Y") end)
    check("loadfile", function() return loadfile("${outside}") end)
    check("dofile", function() return dofile("${outside}") end)
    check("require outside", function() return require("../outside") end)
    check("require missing", function() return require("nothere") end)
    check("debug", function() return debug.getinfo(1) end)
    check("package", function() return package.loadlib("x", "y") end)
    check("bytecode", function() return assert(load(string.dump(function() end))) end)
    check("load text", function() return assert(load("return 1 + 1"))() end)
    check("gc", function() setmetatable({}, { __gc = function() end }) end)
    check("helper", function() assert(helper.twice(2) == 4) end)
    return { on_request = function(req) req.model = table.concat(results, " "); return req end }`, { 'lib/helper.lua': 'return { twice = function(n) return n * 2 end }' });
  const hooks = await (await loadLuaPlugin(dir)).setup!({}, { dir: '', log: () => {} });
  const request = chat('x');
  hooks.onRequest!(fakePluginContext(), request);
  assert.equal(request.model, [
    'io=false', 'os.execute=false', 'os.getenv=false', 'os.time=true', 'loadfile=false', 'dofile=false', 'require outside=false',
    'require missing=false', 'debug=false', 'package=false', 'bytecode=false', 'load text=true', 'gc=false', 'helper=true',
  ].join(' '));
});

test('an infinite loop is interrupted within its budget, even when the script catches errors', async () => {
  const looping = await instance('return { on_request = function(req) while true do end end, on_stream_event = function(part) while true do pcall(function() while true do end end) end end }', {}, { requestBudgetMs: 20, streamBudgetMs: 1 });
  assert.throws(() => looping.onRequest!(fakePluginContext(), chat('x')), (error: unknown) => {
    assert.ok(error instanceof PluginTimeoutError);
    assert.equal(error.code, 'timeout');
    assert.equal(error.budgetMs, 20);
    return true;
  });
  assert.throws(() => looping.onStreamEvent!(fakePluginContext(), { type: 'text-delta', index: 0, delta: 'x' }), PluginTimeoutError);
  // the state is usable after an interruption
  assert.throws(() => looping.onRequest!(fakePluginContext(), chat('x')), PluginTimeoutError);

  const counted = await instance('return { on_request = function(req) local n = 0; while true do n = n + 1 end end }', {}, { requestBudgetMs: 60_000, instructionLimit: 100_000 });
  assert.throws(() => counted.onRequest!(fakePluginContext(), chat('x')), /100000 instructions/);
});

test('memory_limit_mb: a hook that needs more fails with a memory error, and the state is rebuilt from the file', async () => {
  const hooks = await instance(`
    local kept = {}
    calls = 0
    return { on_request = function(req)
      calls = calls + 1
      if req.model == "big" then local s = string.rep("x", 4 * 1024 * 1024) end
      if req.model == "leak" then for i = 1, 1e9 do kept[#kept + 1] = string.rep("y", 1000) .. i end end
      if req.model == "caught" then local ok, err = pcall(string.rep, "x", 4 * 1024 * 1024); req.model = tostring(ok) .. ":" .. err; return req end
      req.model = "calls=" .. calls .. " kb<limit=" .. tostring(collectgarbage("count") < 2048)
      return req
    end }`, {}, { memoryLimitMb: 2, requestBudgetMs: 10_000 });
  const ask = (model: string): string => {
    const request = chat('x');
    request.model = model;
    hooks.onRequest!(fakePluginContext(), request);
    return request.model;
  };
  assert.equal(ask('count'), 'calls=1 kb<limit=true');
  assert.equal(ask('count'), 'calls=2 kb<limit=true');
  for (const model of ['big', 'leak']) {
    assert.throws(() => ask(model), (error: unknown) => {
      assert.ok(error instanceof PluginMemoryError, String(error));
      assert.equal(error.code, 'memory', 'the host counts it as kind="memory" and applies on_error');
      assert.match(error.message, /ran out of memory \(limit 2 MB\); its state is rebuilt/);
      return true;
    });
    // a fresh state: the file's top-level code ran again (calls starts over), and it is small again
    assert.equal(ask('count'), 'calls=1 kb<limit=true', `after ${model}`);
  }
  // a script that catches the refusal goes on with the same state
  assert.equal(ask('caught'), 'false:not enough memory');
  assert.equal(ask('count'), 'calls=3 kb<limit=true');

  // the other states of the process are unharmed, and 0 turns the limit off
  const unlimited = await instance('return { on_request = function(req) req.model = tostring(#string.rep("x", 4 * 1024 * 1024)) return req end }', {}, { memoryLimitMb: 0 });
  const request = chat('x');
  unlimited.onRequest!(fakePluginContext(), request);
  assert.equal(request.model, String(4 * 1024 * 1024));
});

test('memory_limit_mb: a state that cannot be rebuilt fails every call, saying why', async () => {
  const dir = pluginFolder('local lib = require("lib")\nreturn { on_request = function(req) if req.model == "big" then local s = string.rep("x", 4 * 1024 * 1024) end end }', { 'lib.lua': 'return {}' });
  const hooks = await (await loadLuaPlugin(dir, { memoryLimitMb: 2 })).setup!({}, { dir: '', log: () => {} });
  // the module the top-level code requires is gone: the fresh state's set-up fails
  rmSync(join(dir, 'lib.lua'));
  const big = chat('x');
  big.model = 'big';
  assert.throws(() => hooks.onRequest!(fakePluginContext(), big), PluginMemoryError);
  assert.throws(() => hooks.onRequest!(fakePluginContext(), chat('x')), (error: unknown) => {
    assert.ok(error instanceof LuaPluginError);
    assert.match(error.message, /ran out of memory and could not be rebuilt \(.*module "lib" not found.*\); it fails until it is reloaded/);
    return true;
  });
  await hooks.dispose!();
});

test('memory_limit_mb: top-level code past the limit fails the load, naming the setting', async () => {
  const dir = pluginFolder('big = string.rep("x", 4 * 1024 * 1024)\nreturn { on_request = function(req) end }');
  const definition = await loadLuaPlugin(dir, { memoryLimitMb: 2 });
  await assert.rejects(async () => definition.setup!({}, { dir: '', log: () => {} }), (error: unknown) => {
    assert.ok(error instanceof LuaPluginLoadError);
    assert.match(error.message, /handler\.lua: the top-level code ran out of memory \(limit 2 MB; memory_limit_mb\)/);
    return true;
  });
});

test('ctx.state is one table per request, the same in each of its hooks, and let go when the request ends', async () => {
  const hooks = await instance(`return {
    on_request = function(req, ctx) ctx.state.seen = (ctx.state.seen or 0) + 1; ctx.state.model = req.model end,
    on_stream_event = function(part, ctx)
      if part.type == "text-delta" then part.delta = ctx.state.model .. "#" .. ctx.state.seen; return part end
    end,
    on_complete = function(summary, ctx) switchyard.log(ctx.request_id .. " " .. tostring(ctx.state.model) .. " " .. ctx.surface) end,
  }`);
  assert.equal(typeof hooks.requestEnded, 'function', 'offered because a hook takes ctx');
  const first = fakePluginContext();
  const second = fakePluginContext();
  hooks.onRequest!(first, chat('x'));
  hooks.onRequest!(first, { ...chat('x'), model: 'other' });
  hooks.onRequest!(second, chat('x'));
  const delta = (ctx: ReturnType<typeof fakePluginContext>) => (hooks.onStreamEvent!(ctx, { type: 'text-delta', index: 0, delta: '' }) as { delta: string }).delta;
  assert.equal(delta(first), 'other#2');
  assert.equal(delta(second), 'gpt-test#1', 'each request has its own table');
  await hooks.onComplete!(first, {} as CompletionSummary);
  assert.deepEqual(hooks.logged, ['req-test other openai-chat']);
  hooks.requestEnded!(first);
  hooks.onRequest!(first, chat('x'));
  assert.equal(delta(first), 'gpt-test#1', 'a new table once the request ended');

  const noContext = await instance('return { on_request = function(req) end }');
  assert.equal(noContext.requestEnded, undefined, 'nothing to let go when no hook takes ctx');
});

test('on_error sees the error and may replace its status and message (the code stays)', async () => {
  const hooks = await instance(`return { on_error = function(err, ctx)
    if err.code == "SWY_ERR_PLUGIN_REJECTED" then return nil end
    return { status = 503, message = "try later (" .. err.status .. " " .. err.message .. ") for " .. ctx.request_id }
  end }`);
  const error = { status: 502, code: 'SWY_ERR_UPSTREAM_STATUS', message: 'bad gateway' };
  assert.deepEqual(hooks.onError!(fakePluginContext(), error), { status: 503, code: 'SWY_ERR_UPSTREAM_STATUS', message: 'try later (502 bad gateway) for req-test' });
  assert.equal(hooks.onError!(fakePluginContext(), { status: 403, code: 'SWY_ERR_PLUGIN_REJECTED', message: 'no' }), undefined);
});

test('on_attempt sees the attempt and may set headers by returning it; nil changes nothing', async () => {
  const hooks = await instance(`return { on_attempt = function(attempt)
    if attempt.attempt > 1 then attempt.headers["x-ignored"] = "in place" return nil end
    if attempt.provider == "blocked" then return { reject = { status = 403, message = "not this provider", code = "provider_blocked" } } end
    attempt.headers["X-Team"] = "search"
    attempt.headers["x-model"] = attempt.provider .. "/" .. attempt.model .. "/" .. attempt.dialect
    return attempt
  end }`);
  const attempt = (provider: string, number: number): AttemptInfo => ({ provider, model: 'm1', attempt: number, dialect: 'openai', headers: { 'x-existing': 'kept' } });
  const first = attempt('up', 1);
  hooks.onAttempt!(fakePluginContext(), first);
  assert.deepEqual(first.headers, { 'x-existing': 'kept', 'x-team': 'search', 'x-model': 'up/m1/openai' });
  const second = attempt('up', 2);
  hooks.onAttempt!(fakePluginContext(), second);
  assert.deepEqual(second.headers, { 'x-existing': 'kept' });
  assert.throws(() => hooks.onAttempt!(fakePluginContext(), attempt('blocked', 1)), (error: unknown) => rejection(error).code === 'SWY_ERR_PLUGIN_PROVIDER_BLOCKED');
});

test('a syntax error fails the load with the file and the line', async () => {
  const dir = pluginFolder('local Plugin = {}\n\nfunction Plugin.on_request(req)\n  req.model = = "x"\nend\nreturn Plugin\n');
  await assert.rejects(loadLuaPlugin(dir), (error: unknown) => {
    assert.ok(error instanceof LuaPluginLoadError);
    assert.equal(error.file, join(dir, 'handler.lua'));
    assert.equal(error.line, 4);
    assert.match(error.message, /handler\.lua:4: syntax error: unexpected symbol near '='/);
    return true;
  });
  await assert.rejects(loadLuaPlugin(join(root, 'missing-plugin')), LuaPluginLoadError);
  const failing = await loadLuaPlugin(pluginFolder('local x = config.limit.value\nreturn {}'));
  assert.throws(() => failing.setup!({}, { dir: '', log: () => {} }), /handler\.lua:1: error in top-level code: .*attempt to index a nil value/);
});

test('switchyard.cache is bounded (LRU) and keeps values per instance; print goes to the log', async () => {
  const hooks = await instance(`return { on_request = function(req)
    local cache = switchyard.cache
    cache.set("a", 1); cache.set("b", { n = 2 }); cache.get("a"); cache.set("c", "three")
    req.model = tostring(cache.get("a")) .. "," .. tostring(cache.get("b")) .. "," .. tostring(cache.get("c"))
    print("cached", 3)
    return req
  end }`, {}, { cacheEntries: 2 });
  const request = chat('x');
  hooks.onRequest!(fakePluginContext(), request);
  assert.equal(request.model, '1,nil,three');
  assert.deepEqual(hooks.logged, ['cached\t3']);
});

test('examples/plugins/pii-redactor redacts emails and phone numbers in user messages', async () => {
  const definition = await loadLuaPlugin(join(import.meta.dirname, '../../examples/plugins/pii-redactor'));
  const logged: string[] = [];
  const hooks = await definition.setup!({}, { dir: '', log: (message) => logged.push(message) });
  const request = chat('system: contact admin@corp.example', 'Mail me at jane.doe@example.com or call 555-123-4567 or (555) 987-6543.');
  request.messages.push({ role: 'user', content: [{ type: 'text', text: 'also +1 555 123 4567' }, { type: 'image', source: { kind: 'url', url: 'https://x/y.png' } }] });
  hooks.onRequest!(fakePluginContext(), request);
  assert.deepEqual(request.messages[0]!.content, [{ type: 'text', text: 'system: contact admin@corp.example' }], 'system messages are left alone');
  assert.deepEqual(request.messages[1]!.content, [{ type: 'text', text: 'Mail me at [EMAIL REDACTED] or call [PHONE REDACTED] or [PHONE REDACTED].' }]);
  assert.deepEqual(request.messages[2]!.content, [{ type: 'text', text: 'also [PHONE REDACTED]' }, { type: 'image', source: { kind: 'url', url: 'https://x/y.png' } }]);
  assert.ok(logged.length > 0);
  const clean = chat('sys', 'nothing to hide');
  const before = structuredClone(clean);
  hooks.onRequest!(fakePluginContext(), clean);
  assert.deepEqual(clean, before);
});
