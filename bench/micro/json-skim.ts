// What reading an agent's request costs the gateway, per body (bench/bodies/agent-bodies.ts: the
// recorded Claude Code, Codex and OpenAI-chat requests grown to 64 KB, 256 KB and 1 MB):
// - before: decode as it was — the bytes made a string, JSON.parse, and the duplicate-model search;
// - pass-through now: the skim (src/util/json-skim.ts) of the structure and the top-level members the
//   surface reads (pipeline/request-body.ts), nothing else;
// - what a translated request cannot avoid in JavaScript: JSON.parse of the body, JSON.stringify of
//   a body as large, and its UTF-8 encoding for the socket — the floor of any translator that turns
//   the request into objects, whatever its own converters cost.
// CPU time per call (process.cpuUsage), interleaved rounds, median, so a busy machine slows every
// case alike. `npx node bench/micro/json-skim.ts [--rounds 9] [--iterations 30]`
import { cpuRounds } from '../lib/cpu-rounds.ts';
import { parseArgs } from 'node:util';
import { agentBody, bodyDialects, bodySizes, type BodySize } from '../bodies/agent-bodies.ts';
import { SkimmedJson } from '../../src/util/json-skim.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, iterations: { type: 'string', default: '30' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

// what the OpenAI and Anthropic surfaces read (SurfaceAdapter.topLevel)
const TOP_LEVEL = { model: 'value', stream: 'value', n: 'value', messages: 'kind', input: 'kind', prompt: 'kind', max_tokens: 'value' } as const;

let sink: unknown;
const cases: Record<string, () => void> = {};
for (const size of Object.keys(bodySizes) as BodySize[]) {
  for (const dialect of bodyDialects) {
    const body = Buffer.from(agentBody(dialect, bodySizes[size], { model: 'agent-model', stream: false }), 'utf8');
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    const label = `${size.padStart(6)} ${dialect.padEnd(11)}`;
    cases[`${label} before: toString + JSON.parse + model search`] = () => { sink = [JSON.parse(body.toString('utf8')), body.indexOf('"model"'), body.lastIndexOf('"model"')]; };
    cases[`${label} now, pass-through: skim + top level`] = () => { sink = new SkimmedJson(body).skim(TOP_LEVEL); };
    cases[`${label} translation floor: parse + stringify + UTF-8`] = () => { sink = [JSON.parse(body.toString('utf8')), Buffer.from(JSON.stringify(parsed), 'utf8')]; };
  }
}

for (const [name, value] of cpuRounds(cases, rounds, iterations, 5)) console.log(`${name.padEnd(72)} ${value.toFixed(0).padStart(6)} µs`);
void sink;
