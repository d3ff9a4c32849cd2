// What a Lua request hook costs per call (issue #18: one no-op Lua request hook ≤ 15 µs), on a small
// (~1 KB) chat request, against a no-op JavaScript hook in the same run:
// - no-op: `on_request` returns nil without reading the request (the view is built with model and
//   stream only; messages are filled in on first read);
// - reads messages: walks the messages and returns nil;
// - rewrites one message: changes one message's text and returns the request (everything is read back);
// - stream event: a no-op `on_stream_event` on a text delta;
// - taking ctx: a no-op `on_request(req, ctx)`, each call a new request (its context table, and
//   its `ctx.state` table made and let go when the request ends);
// - 100 tables: makes 100 small tables and returns nil — what each allocation costs (with the
//   memory limit, every allocation and every free is a call from WebAssembly into JavaScript).
// CPU time per call (process.cpuUsage), interleaved rounds, median.
// `--memory-limit-mb 0` runs the states without a memory limit (Lua's own allocator, no allocation
// counting), to compare with the default limit (every allocation is a call into JavaScript).
// `nice -n 19 npx node bench/micro/lua-hook.ts [--rounds 9] [--iterations 20000] [--memory-limit-mb 64]`
import { cpuRounds } from '../lib/cpu-rounds.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLuaPlugin } from '../../src/plugins/lua/load-lua-plugin.ts';
import type { CanonicalRequest, PluginInstance, StreamPart } from '../../src/plugins/api.ts';
import { fakePluginContext } from '../../test/helpers/plugin-context.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, iterations: { type: 'string', default: '20000' }, 'memory-limit-mb': { type: 'string', default: '64' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);
const memoryLimitMb = Number(values['memory-limit-mb']);

const dir = mkdtempSync(join(tmpdir(), 'swy-lua-bench-'));
async function hooks(name: string, source: string): Promise<PluginInstance> {
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, source);
  // budgets no call misses on a loaded machine: the count hook compares wall time, and a call the
  // scheduler preempts would be interrupted (the budgets cost nothing to check, whatever their size)
  return (await loadLuaPlugin(file, { memoryLimitMb, requestBudgetMs: 10_000, streamBudgetMs: 10_000 })).setup!({}, { dir, log: () => {} });
}

const noop = await hooks('noop', 'return { on_request = function(req) return nil end, on_stream_event = function(part) return nil end }');
const reads = await hooks('reads', 'return { on_request = function(req) local n = 0 for _, m in ipairs(req.messages) do n = n + #m.content end return nil end }');
const withContext = await hooks('context', 'return { on_request = function(req, ctx) return nil end }');
const tables = await hooks('tables', 'return { on_request = function(req) for i = 1, 100 do local t = { i } end return nil end }');
const rewrites = await hooks('rewrites', 'return { on_request = function(req) req.messages[2].content = "Summarise briefly: " .. req.messages[2].content return req end }');
rmSync(dir, { recursive: true, force: true });

function request(): CanonicalRequest {
  return {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'You are a helpful assistant. '.repeat(8) }] },
      { role: 'user', content: [{ type: 'text', text: 'Please summarise the following text about gateways and plugins. '.repeat(6) }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Sure, here is a summary of the text you sent.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Thanks, now in French please, and keep it short.' }] },
    ],
    sampling: { temperature: 0.7, maxTokens: 256 },
    stream: false,
  };
}
const size = Buffer.byteLength(JSON.stringify(request()));
const ctx = fakePluginContext();
const jsHook = { onRequest: (_ctx: unknown, _request: CanonicalRequest): undefined => undefined };
const part: StreamPart = { type: 'text-delta', index: 0, delta: 'Hello' };
const shared = request();

let sink: unknown;
const cases: Record<string, () => void> = {
  'JS no-op onRequest (baseline)': () => { sink = jsHook.onRequest(ctx, shared); },
  'Lua no-op on_request': () => { sink = noop.onRequest!(ctx, shared); },
  'Lua on_request reading every message': () => { sink = reads.onRequest!(ctx, shared); },
  'Lua on_request rewriting one message': () => { const fresh = request(); sink = rewrites.onRequest!(ctx, fresh); },
  '  (making the fresh request it rewrites)': () => { sink = request(); },
  'Lua no-op on_stream_event (text delta)': () => { sink = noop.onStreamEvent!(ctx, part); },
  'Lua no-op on_request(req, ctx), new request': () => {
    const fresh = { ...ctx };
    sink = withContext.onRequest!(fresh, shared);
    withContext.requestEnded!(fresh);
  },
  '  (making the new request\'s context)': () => { sink = { ...ctx }; },
  'Lua on_request making 100 small tables': () => { sink = tables.onRequest!(ctx, shared); },
};

const medians = cpuRounds(cases, rounds, iterations, 2000);
console.log(`request body ≈ ${size} bytes JSON; memory limit ${memoryLimitMb === 0 ? 'off' : `${memoryLimitMb} MB`}; ${rounds} rounds × ${iterations} calls; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
for (const [name, value] of medians) console.log(`${name.padEnd(44)} ${value.toFixed(2).padStart(7)} µs/call`);
void sink;
