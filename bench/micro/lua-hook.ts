// What a Lua request hook costs per call (issue #18: one no-op Lua request hook ≤ 15 µs), on a small
// (~1 KB) chat request, against a no-op JavaScript hook in the same run:
// - no-op: `on_request` returns nil without reading the request (the view is built with model and
//   stream only; messages are filled in on first read);
// - reads messages: walks the messages and returns nil;
// - rewrites one message: changes one message's text and returns the request (everything is read back);
// - stream event: a no-op `on_stream_event` on a text delta.
// CPU time per call (process.cpuUsage), interleaved rounds, median.
// `nice -n 19 npx node bench/micro/lua-hook.ts [--rounds 9] [--iterations 20000]`
import { cpuRounds } from '../lib/cpu-rounds.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLuaPlugin } from '../../src/plugins/lua/load-lua-plugin.ts';
import type { CanonicalRequest, PluginInstance, StreamPart } from '../../src/plugins/api.ts';
import { fakePluginContext } from '../../test/helpers/plugin-context.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, iterations: { type: 'string', default: '20000' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

const dir = mkdtempSync(join(tmpdir(), 'swy-lua-bench-'));
async function hooks(name: string, source: string): Promise<PluginInstance> {
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, source);
  return (await loadLuaPlugin(file)).setup!({}, { dir, log: () => {} });
}

const noop = await hooks('noop', 'return { on_request = function(req) return nil end, on_stream_event = function(part) return nil end }');
const reads = await hooks('reads', 'return { on_request = function(req) local n = 0 for _, m in ipairs(req.messages) do n = n + #m.content end return nil end }');
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
};

const medians = cpuRounds(cases, rounds, iterations, 2000);
console.log(`request body ≈ ${size} bytes JSON; ${rounds} rounds × ${iterations} calls; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
for (const [name, value] of medians) console.log(`${name.padEnd(44)} ${value.toFixed(2).padStart(7)} µs/call`);
void sink;
