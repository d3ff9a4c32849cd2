// What a key's limits cost per request (issue #15's budget: ≤ 5 µs of CPU more than a plain key):
// the admit, commit and complete phase handlers of one config, run for a request of a key with
// every limit (allow-list glob, rpm, tpm, max_concurrent, a priced budget, and its team's rpm) and
// for a request of a plain key, alternating in rounds so drift and neighbours hit both alike. The
// limits are high enough never to refuse, so every request reserves, reports and settles.
// A third case is the default set-up: a key store open (storage on) and no key or team with
// limits anywhere — what a plain request pays then for the limits there are not.
// `npx node bench/micro/key-limits.ts [--rounds 5] [--requests 200000]`
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/main.ts';
import { jsonPayload } from '../../src/pipeline/request-body.ts';
import { RequestContext } from '../../src/pipeline/context.ts';
import { compilePhases, runPhase, type Phases } from '../../src/pipeline/phases.ts';
import type { Runtime } from '../../src/pipeline/runtime.ts';
import { KeyStore } from '../../src/governance/key-store.ts';
import { SqliteKeyDatabase } from '../../src/state/key-sqlite.ts';
import { openaiChat } from '../../src/surfaces/openai/index.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '200000' } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const { config } = parseConfigText([
  'auth:',
  '  teams: [{ name: agents, rpm: 1000000000 }]',
  '  keys:',
  '    - plain-key',
  '    - { key: limited-key, name: ci, team: agents, models: ["gpt-*"], rpm: 1000000000, tpm: 1000000000000, max_concurrent: 1000000, budget: { usd: 1000000000, period: month, soft_usd: 999999999 } }',
  'providers:',
  '  - { name: openai, type: openai, api_key: sk-test, models: ["gpt-*"] }',
  'storage: { enabled: false }',
].join('\n') + '\n', 'bench.yaml', {});
const limitedRuntime = buildRuntime(config, pino({ level: 'silent' }));
const limitedPhases = compilePhases(limitedRuntime, { complete: [] });
const [plainPolicy, limitedPolicy] = limitedRuntime.keyPolicies;

// the default: storage on, so a key store is open, and no limits in the YAML nor in the store
const { config: unlimitedConfig } = parseConfigText([
  'auth: { keys: [plain-key] }',
  'providers:',
  '  - { name: openai, type: openai, api_key: sk-test, models: ["gpt-*"] }',
].join('\n') + '\n', 'bench.yaml', {});
const storeDirectory = mkdtempSync(join(tmpdir(), 'switchyard-bench-keys-'));
const store = new KeyStore(new SqliteKeyDatabase(join(storeDirectory, 'usage.db')));
await store.load();
const storeRuntime = buildRuntime(unlimitedConfig, pino({ level: 'silent' }), undefined, undefined, { keyStore: store });
const storePhases = compilePhases(storeRuntime, { complete: [] });

const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', max_tokens: 512, messages: [{ role: 'user', content: 'Say hello in one short sentence, please.' }] }));
const payload = jsonPayload(body);
const response = { headersSent: true, statusCode: 200 } as unknown as ServerResponse;
const request = { url: '/v1/chat/completions', headers: {} } as unknown as IncomingMessage;
let headerCount = 0;

/** CPU time (user + system) per request, µs: the budget is CPU, and a busy machine's preemption is not. */
function run(limited: boolean, phases: Phases = limitedPhases, runtime: Runtime = limitedRuntime): number {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const context = new RequestContext('req', request, response, openaiChat);
    context.phases = phases;
    context.policy = limited ? limitedPolicy : plainPolicy;
    context.surface = openaiChat;
    context.body = body;
    context.payload = payload;
    context.modelAsked = 'gpt-4o';
    if (runPhase(phases.admit, context, runtime) !== undefined) throw new Error('refused');
    const headers: string[] = [];
    for (const commit of phases.commit) commit(context, headers);
    headerCount += headers.length;
    context.provider = 'openai';
    context.upstreamModel = 'gpt-4o';
    context.usage = { inputTokens: 12, outputTokens: 9 };
    for (const complete of phases.complete) complete.requestEnded(context, false);
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / requests;
}

const plain: number[] = [];
const limited: number[] = [];
const unlimited: number[] = [];
const runUnlimited = () => run(false, storePhases, storeRuntime);
run(false);
run(true);
runUnlimited();
for (let round = 0; round < rounds; round++) {
  plain.push(run(false));
  limited.push(run(true));
  unlimited.push(runUnlimited());
}
await store.close();
rmSync(storeDirectory, { recursive: true, force: true });
const median = (list: number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
console.log(`admit + commit + complete handlers, ${requests} requests × ${rounds} rounds (median µs of CPU per request)`);
console.log(`  plain key:   ${median(plain).toFixed(3)} µs`);
console.log(`  limited key: ${median(limited).toFixed(3)} µs`);
console.log(`  difference:  ${(median(limited) - median(plain)).toFixed(3)} µs per request (budget: 5 µs)`);
console.log(`  plain key, key store open, no limits anywhere: ${median(unlimited).toFixed(3)} µs (admit ${storePhases.admit.length}, commit ${storePhases.commit.length}, complete ${storePhases.complete.length} handlers)`);
if (headerCount === 0) console.log('(no headers were added)');
