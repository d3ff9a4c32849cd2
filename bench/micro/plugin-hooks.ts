// What a JS plugin costs per request and per stream event (issue #18: one no-op JS request hook
// ≤ 1 µs per request; per-event cost of a no-op stream hook reported), through the plugin host's
// real handlers (src/pipeline/plugin-host.ts) on a small (~1 KB) OpenAI chat request:
// - hook only: the decode handler with a no-op onRequest, the canonical request already decoded
//   (choosing the plugins, the hook's context, the call under its budget, the routed-model check);
// - canonical view: the same with the body decoded to canonical form each time (JSON.parse and the
//   surface's decoder), and encoded again for a same-dialect provider (the provider's encoder):
//   what reading the request costs on a route that would otherwise pass bytes through;
// - stream event: a text delta through the stream phase with a no-op onStreamEvent, against the
//   surface's encoder alone.
// CPU time per operation (process.cpuUsage), interleaved rounds, median.
// `nice -n 19 npx node bench/micro/plugin-hooks.ts [--rounds 9] [--iterations 50000]`
import { cpuRounds } from '../lib/cpu-rounds.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { RequestContext } from '../../src/pipeline/context.ts';
import { withStreamFilters, type Phases } from '../../src/pipeline/phases.ts';
import { PluginHost } from '../../src/pipeline/plugin-host.ts';
import type { LoadedPlugin } from '../../src/plugins/load.ts';
import type { PluginInstance } from '../../src/plugins/api.ts';
import { openaiProvider } from '../../src/providers/openai/index.ts';
import { openaiChat } from '../../src/surfaces/openai/index.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, iterations: { type: 'string', default: '50000' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

const body = Buffer.from(JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You are a helpful assistant. '.repeat(8) },
    { role: 'user', content: 'Please summarise the following text about gateways and plugins. '.repeat(6) },
    { role: 'assistant', content: 'Sure, here is a summary of the text you sent.' },
    { role: 'user', content: 'Thanks, now in French please, and keep it short.' },
  ],
  temperature: 0.7,
  max_tokens: 256,
}));

function host(instance: PluginInstance): PluginHost {
  const plugin: LoadedPlugin = {
    name: 'noop', file: '', watch: [], instance,
    entry: { index: 0, use: 'noop', builtin: false, config: {}, routes: [], keys: [], onError: 'open', isolate: false, timeoutMs: 50, streamTimeoutMs: 1, memoryLimitMb: 64 },
  };
  return new PluginHost([plugin], { logger: createLogger({ level: 'silent', format: 'json' }), failures: new Map() });
}

const requestHost = host({ onRequest: () => undefined });
const streamHost = host({ onStreamEvent: () => undefined });
const surfaceRequest = { params: {}, query: '', headers: {}, items: undefined } as never;
const prebuilt = openaiChat.chat!.decodeRequest(JSON.parse(body.toString()), surfaceRequest);

function context(): RequestContext {
  const request = { url: '/v1/chat/completions', headers: {} } as IncomingMessage;
  const made = new RequestContext('bench', request, {} as ServerResponse, openaiChat);
  made.surface = openaiChat;
  made.summary = { model: 'gpt-4o-mini', stream: false };
  made.routeModel = 'gpt-4o-mini';
  made.surfaceRequest = surfaceRequest;
  return made;
}

const decode = requestHost.handlers.decode!;
const providerCodec = openaiProvider.chat!;
const providerContext = {} as never;

function hookOnly(): void {
  const made = context();
  made.canonical = prebuilt;
  decode(made, undefined as never);
}
function contextOnly(): void {
  const made = context();
  made.canonical = prebuilt;
}
function canonicalView(): void {
  const made = context();
  const request = openaiChat.chat!.decodeRequest(JSON.parse(body.toString('utf8')), surfaceRequest) as CanonicalRequest;
  made.canonical = request;
  decode(made, undefined as never);
  Buffer.from(providerCodec.encodeRequest(made.canonical, 'gpt-4o-mini', providerContext).body, 'utf8');
}

const part: StreamPart = { type: 'text-delta', index: 0, delta: 'Hello' };
const streamContext = context();
streamContext.phases = { stream: [streamHost.handlers.stream!] } as unknown as Phases;
streamContext.plugins = undefined;
// the request's plugin run, as the decode phase would have set it
const runContext = context();
runContext.surface = { ...openaiChat, chat: undefined } as never;
streamHost.handlers.decode!(runContext, undefined as never);
streamContext.plugins = runContext.plugins;
const plainEncoder = openaiChat.chat!.createStreamEncoder(prebuilt, surfaceRequest);
const filtered = withStreamFilters(openaiChat.chat!.createStreamEncoder(prebuilt, surfaceRequest), streamContext);
const encodePlain = () => void plainEncoder.encode(part);
const encodeFiltered = () => void filtered.encode(part);

const cases: Record<string, () => void> = {
  'request context alone (baseline)': contextOnly,
  '+ a no-op onRequest (hook only)': hookOnly,
  '+ canonical view (decode, hook, encode)': canonicalView,
  'stream part, surface encoder alone': encodePlain,
  'stream part, + a no-op onStreamEvent': encodeFiltered,
};
const medians = cpuRounds(cases, rounds, iterations);
const median = (name: string) => medians.get(name)!;
console.log(`plugin hooks, ${body.length} B OpenAI chat request, ${rounds} rounds × ${iterations}, CPU µs per operation (median); load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
for (const [name, value] of medians) console.log(`  ${name.padEnd(44)} ${value.toFixed(3)} µs`);
const base = median('request context alone (baseline)');
console.log(`  no-op onRequest adds ${(median('+ a no-op onRequest (hook only)') - base).toFixed(3)} µs; the canonical view adds ${(median('+ canonical view (decode, hook, encode)') - base).toFixed(3)} µs`);
console.log(`  no-op onStreamEvent adds ${(median('stream part, + a no-op onStreamEvent') - median('stream part, surface encoder alone')).toFixed(3)} µs per event`);
