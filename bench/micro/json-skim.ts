// What reading a pass-through request's routing fields costs with the one-pass skim
// (src/util/json-skim.ts) next to decoding and parsing the whole body, as decode did before:
// OpenAI chat bodies with 24 tools and a long history, 256 KB and 1 MB. CPU time per call
// (process.cpuUsage), interleaved rounds, median, so a busy machine slows every case alike.
// `npx node bench/micro/json-skim.ts [--rounds 15] [--iterations 100]`
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SkimmedJson, type JsonShape } from '../../src/util/json-skim.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, iterations: { type: 'string', default: '100' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);
const root = new URL('../..', import.meta.url);

/** An OpenAI chat request with 24 tools, grown with turns of tool calls and file contents to `bytes`. */
function openAIChatBody(bytes: number): Buffer {
  const source = readFileSync(new URL('src/pipeline/runner.ts', root), 'utf8');
  const tools = Array.from({ length: 24 }, (_, i) => ({
    type: 'function',
    function: {
      name: `tool_${i}`, description: source.slice(i * 300, i * 300 + 600),
      parameters: { type: 'object', properties: { path: { type: 'string', description: 'A file path' }, offset: { type: 'integer' }, model: { type: 'string' } }, required: ['path'] },
    },
  }));
  const body = { model: 'gpt-4.1', stream: false, tools, messages: [{ role: 'system', content: source.slice(0, 4000) }, { role: 'user', content: 'Fix the failing test.' }] as unknown[] };
  for (let turn = 0; JSON.stringify(body).length < bytes; turn++) {
    const start = (turn * 1777) % (source.length - 2500);
    body.messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${turn}`, type: 'function', function: { name: 'tool_1', arguments: JSON.stringify({ path: `/work/src/file-${turn}.ts`, offset: start }) } }] });
    body.messages.push({ role: 'tool', tool_call_id: `call_${turn}`, content: `${source.slice(start, start + 2000)}\n“quoted” naïve \\ path C:\\dir` });
  }
  return Buffer.from(JSON.stringify(body), 'utf8');
}

// what the OpenAI chat surface and the gateway read (src/surfaces/openai/index.ts, pipeline/request-body.ts)
const SHAPE: JsonShape = { model: 'value', stream: 'value', n: 'value', messages: { role: 'value' }, max_tokens: 'value', metadata: 'value', prompt_cache_key: 'value' };

const TOP_LEVEL: JsonShape = { model: 'value', stream: 'value', n: 'value', messages: 'kind', max_tokens: 'value', metadata: 'value', prompt_cache_key: 'value' };

let sink: unknown;
const bodies = [['256 KB', openAIChatBody(256 * 1024)], ['1 MB', openAIChatBody(1024 * 1024)]] as const;
const cases: Record<string, () => void> = {};
for (const [size, body] of bodies) {
  cases[`${size}: toString + JSON.parse (before)`] = () => { sink = JSON.parse(body.toString('utf8')); };
  cases[`${size}: one-pass check + top-level members`] = () => { const skimmed = new SkimmedJson(body); sink = skimmed.skim(TOP_LEVEL); };
  cases[`${size}: the same + each message's role`] = () => { const skimmed = new SkimmedJson(body); sink = skimmed.skim(SHAPE); };
}

function microseconds(run: () => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
for (const run of Object.values(cases)) for (let i = 0; i < 20; i++) run(); // warm up
for (let round = 0; round < rounds; round++) for (const [name, run] of Object.entries(cases)) samples.get(name)!.push(microseconds(run));
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
for (const [name, list] of samples) console.log(`${name.padEnd(50)} ${median(list).toFixed(0).padStart(6)} µs`);
void sink;
