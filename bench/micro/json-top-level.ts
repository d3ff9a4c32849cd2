// What finding the routing fields in a request's text costs next to the JSON.parse every proxied
// request already pays: the top-level scan (which refuses a duplicate `model` or `stream`) and the
// byte splice of a renamed model, on a ~265 kB request shaped like Claude Code's after a long
// session (its 24 tools and system prompt, then turns of tool calls and file contents).
// Interleaved rounds, median per call, so a busy machine slows every measure alike.
// CPU time (process.cpuUsage), so time the process spends descheduled on a busy machine is not counted.
// `npx node bench/micro/json-top-level.ts [--rounds 15] [--iterations 200]`
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { findTopLevelString, replaceTopLevelString } from '../../src/util/json-splice.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, iterations: { type: 'string', default: '200' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);
const root = new URL('../..', import.meta.url);

/** The recorded Claude Code request, grown with turns of Read calls and file contents to `bytes`. */
function agentRequest(bytes: number): string {
  const fixture = JSON.parse(readFileSync(new URL('test/fixtures/clients/claude-code-request.json', root), 'utf8'));
  const body = structuredClone(fixture.requests['tool-result-turn'].body);
  const source = readFileSync(new URL('src/pipeline/runner.ts', root), 'utf8');
  for (let turn = 0; JSON.stringify(body).length < bytes; turn++) {
    const start = (turn * 1777) % (source.length - 2500);
    body.messages.push({ role: 'assistant', content: [{ type: 'text', text: `Reading part ${turn} — let me look.` }, { type: 'tool_use', id: `toolu_${turn}`, name: 'Read', input: { file_path: `/work/src/file-${turn}.ts`, offset: start, limit: 60 } }] });
    body.messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${turn}`, content: `${source.slice(start, start + 2000)}\n“quoted” naïve \\ path C:\\dir` }] });
  }
  return JSON.stringify(body);
}

const text = agentRequest(257 * 1024);
const body = Buffer.from(text, 'utf8');
const parsed = JSON.parse(text) as Record<string, unknown>;
const model = parsed.model as string;
// the same request with `model` written last, after the tools (one of which has a "model"
// property): the quick path cannot decide, so this measures the exact scan
const { model: _, ...rest } = parsed;
const lastText = JSON.stringify({ ...rest, model });
const lastBody = Buffer.from(lastText, 'utf8');
const found = findTopLevelString(body, text, 'model', model);
const foundLast = findTopLevelString(lastBody, lastText, 'model', model);
if (found.duplicate || found.span === undefined || foundLast.duplicate || foundLast.chars === undefined) throw new Error('the model was not found');

let sink: unknown;
const cases: Record<string, () => void> = {
  'JSON.parse': () => { sink = JSON.parse(text); },
  'findTopLevelString, model first (quick)': () => { sink = findTopLevelString(body, text, 'model', model); },
  'findTopLevelString, model last (exact)': () => { sink = findTopLevelString(lastBody, lastText, 'model', model); },
  'replaceTopLevelString, model first': () => { sink = replaceTopLevelString(body, found, parsed, 'model', 'claude-sonnet-4-5-20250929'); },
  'replaceTopLevelString, model last': () => { sink = replaceTopLevelString(lastBody, foundLast, parsed, 'model', 'claude-sonnet-4-5-20250929'); },
};

function microseconds(run: () => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
for (const run of Object.values(cases)) for (let i = 0; i < 50; i++) run(); // warm up
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of Object.entries(cases)) samples.get(name)!.push(microseconds(run));
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[list.length >> 1]!;
const parse = median(samples.get('JSON.parse')!);
console.log(`request: ${body.length} bytes, ${rounds} rounds × ${iterations} calls`);
for (const [name, list] of samples) {
  const value = median(list);
  console.log(`${name.padEnd(40)} ${value.toFixed(1).padStart(8)} µs  ${(100 * value / parse).toFixed(1).padStart(5)} % of JSON.parse`);
}
void sink;
