// What a key's limits cost per request (issue #15's budget: ≤ 5 µs of CPU more than a plain key):
// the admit, commit and complete phase handlers of one config, run for a request of a key with
// every limit (allow-list glob, rpm, tpm, max_concurrent, a priced budget, and its team's rpm) and
// for a request of a plain key, alternating in rounds so drift and neighbours hit both alike. The
// limits are high enough never to refuse, so every request reserves, reports and settles.
// `npx node bench/micro/key-limits.ts [--rounds 5] [--requests 200000]`
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/main.ts';
import { RequestContext } from '../../src/pipeline/context.ts';
import { compilePhases, runPhase } from '../../src/pipeline/phases.ts';
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
const runtime = buildRuntime(config, pino({ level: 'silent' }));
const phases = compilePhases(runtime, { complete: [] });
const [plainPolicy, limitedPolicy] = runtime.keyPolicies;

const body = Buffer.from(JSON.stringify({ model: 'gpt-4o', max_tokens: 512, messages: [{ role: 'user', content: 'Say hello in one short sentence, please.' }] }));
const parsed: unknown = JSON.parse(body.toString('utf8'));
const response = { headersSent: true, statusCode: 200 } as unknown as ServerResponse;
const request = { url: '/v1/chat/completions', headers: {} } as unknown as IncomingMessage;
let headerCount = 0;

/** CPU time (user + system) per request, µs: the budget is CPU, and a busy machine's preemption is not. */
function run(limited: boolean): number {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const context = new RequestContext('req', request, response, openaiChat);
    context.phases = phases;
    context.policy = limited ? limitedPolicy : plainPolicy;
    context.surface = openaiChat;
    context.body = body;
    context.parsed = parsed;
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
run(false);
run(true);
for (let round = 0; round < rounds; round++) {
  plain.push(run(false));
  limited.push(run(true));
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
console.log(`admit + commit + complete handlers, ${requests} requests × ${rounds} rounds (median µs of CPU per request)`);
console.log(`  plain key:   ${median(plain).toFixed(3)} µs`);
console.log(`  limited key: ${median(limited).toFixed(3)} µs`);
console.log(`  difference:  ${(median(limited) - median(plain)).toFixed(3)} µs per request (budget: 5 µs)`);
if (headerCount === 0) console.log('(no headers were added)');
