// What the shared state store adds to a request of a limited key (issue #15: "the Redis path's
// added latency is reported"): the admit, commit and complete handlers of one config, for a key
// with rpm, tpm, max_concurrent and a priced budget, run one request at a time — in process, then
// with `state.redis` — alternating in rounds. Wall time per request (admit waits for the script
// that takes all of the key's limits: one round trip), and the CPU it costs the gateway. Needs a server:
// `SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:6379 npx node bench/micro/key-limits-redis.ts [--rounds 5] [--requests 5000]`
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/main.ts';
import { jsonPayload } from '../../src/pipeline/request-body.ts';
import { RequestContext } from '../../src/pipeline/context.ts';
import { compilePhases, runPhase, type Phases } from '../../src/pipeline/phases.ts';
import type { Runtime } from '../../src/pipeline/runtime.ts';
import { LocalStateStores } from '../../src/state/local-stores.ts';
import { RedisStateStores } from '../../src/state/redis-stores.ts';
import { openaiChat } from '../../src/surfaces/openai/index.ts';

const url = process.env.SWITCHYARD_TEST_REDIS_URL;
if (url === undefined) {
  console.log('skipped: set SWITCHYARD_TEST_REDIS_URL (apt-get install redis-server; redis-server --port 6379; SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:6379)');
  process.exit(0);
}
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '5000' } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const { config } = parseConfigText([
  'auth:',
  '  keys:',
  '    - { key: limited-key, name: ci, rpm: 1000000000, tpm: 1000000000000, max_concurrent: 1000000, budget: { usd: 1000000000, period: month } }',
  'providers:',
  '  - { name: openai, type: openai, api_key: sk-test, models: ["gpt-*"] }',
  'storage: { enabled: false }',
].join('\n') + '\n', 'bench.yaml', {});
const logger = pino({ level: 'silent' });
const shared = new RedisStateStores({ ...config.state, redis: url, keyPrefix: `switchyard-bench:${process.pid}:` }, logger);
await shared.shared.whenConnected(5000);
if (!shared.shared.available) throw new Error(`no Redis server answers at ${url}`);
const local = buildRuntime(config, logger, new LocalStateStores());
const redis = buildRuntime(config, logger, shared);
const phasesOf = new Map<Runtime, Phases>([[local, compilePhases(local, { complete: [] })], [redis, compilePhases(redis, { complete: [] })]]);

const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', max_tokens: 512, messages: [{ role: 'user', content: 'Say hello in one short sentence, please.' }] }));
const payload = jsonPayload(body);
const response = { headersSent: true, statusCode: 200 } as unknown as ServerResponse;
const request = { url: '/v1/chat/completions', headers: {} } as unknown as IncomingMessage;
let id = 0;

/** Wall µs per request (median of the requests) and CPU µs per request. */
async function run(runtime: Runtime): Promise<{ wall: number; p99: number; cpu: number }> {
  const phases = phasesOf.get(runtime)!;
  const policy = runtime.keyPolicies[0];
  const walls = new Float64Array(requests);
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const begun = performance.now();
    const context = new RequestContext(`req-${id++}`, request, response, openaiChat);
    context.phases = phases;
    context.policy = policy;
    context.surface = openaiChat;
    context.body = body;
    context.payload = payload;
    context.modelAsked = 'gpt-4o';
    let outcome = runPhase(phases.admit, context, runtime);
    if (outcome instanceof Promise) outcome = await outcome;
    if (outcome !== undefined) throw new Error('refused');
    const headers: string[] = [];
    for (const commit of phases.commit) commit(context, headers);
    context.usage = { inputTokens: 12, outputTokens: 9 };
    for (const complete of phases.complete) complete.requestEnded(context, false);
    walls[i] = performance.now() - begun;
  }
  const used = process.cpuUsage(started);
  walls.sort();
  return { wall: walls[requests >> 1]! * 1000, p99: walls[Math.floor(requests * 0.99)]! * 1000, cpu: (used.user + used.system) / requests };
}

const results = { local: [] as { wall: number; p99: number; cpu: number }[], redis: [] as { wall: number; p99: number; cpu: number }[] };
await run(local);
await run(redis);
for (let round = 0; round < rounds; round++) {
  results.local.push(await run(local));
  results.redis.push(await run(redis));
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
const show = (name: keyof typeof results) => {
  const list = results[name];
  return `median ${median(list.map((r) => r.wall)).toFixed(1)} µs, p99 ${median(list.map((r) => r.p99)).toFixed(1)} µs wall; ${median(list.map((r) => r.cpu)).toFixed(1)} µs CPU`;
};
console.log(`admit + commit + complete of a limited key (rpm, tpm, max_concurrent, budget), one request at a time, ${requests} requests × ${rounds} rounds`);
console.log(`  in process:   ${show('local')}`);
console.log(`  state.redis:  ${show('redis')}`);
console.log(`  added by Redis: ${(median(results.redis.map((r) => r.wall)) - median(results.local.map((r) => r.wall))).toFixed(1)} µs wall per request (median), ${(median(results.redis.map((r) => r.cpu)) - median(results.local.map((r) => r.cpu))).toFixed(1)} µs CPU`);
await shared.close();
