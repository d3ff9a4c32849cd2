// What one auto-routing score decision costs (issue #19: ≤ 0.2 ms p99 for a 50 KB prompt):
// featureVector + classify with the shipped model, timed one decision at a time, p50/p99 over
// `--decisions` on 1 KB, 50 KB and 1 MB prompts made of the evaluation set's own text (code, math,
// prose and logs mixed). Beside it, the baseline of the same run: one bare charCodeAt pass over the
// scanned windows of the user turn (its first and last 2 KB), so a noisy machine shows as a ratio, not a bare number.
// `nice -n 19 npx node bench/micro/auto-score.ts [--decisions 10000]`
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL } from '../../src/routing/auto/default-model.ts';
import type { EvalRow } from '../../src/routing/auto/evaluate.ts';
import { featureVector, USER_HEAD, USER_TAIL, type AutoInput } from '../../src/routing/auto/features.ts';
import { classify, tierFor } from '../../src/routing/auto/model.ts';

const { values } = parseArgs({ options: { decisions: { type: 'string', default: '10000' } } });
const decisions = Number(values.decisions);

const corpus = readFileSync(new URL('../../data/auto-route/eval.jsonl', import.meta.url), 'utf8').split('\n')
  .filter((line) => line !== '').map((line) => JSON.parse(line) as EvalRow)
  .map((row) => row.prompt ?? row.messages!.map((message) => message.content).join('\n')).join('\n\n');

function prompt(bytes: number): string {
  return corpus.repeat(Math.ceil(bytes / corpus.length)).slice(0, bytes);
}

function percentile(sorted: Float64Array, share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!;
}

let sink = 0;

function bareScan(text: string): number {
  const window = text.length > USER_HEAD + USER_TAIL ? [text.slice(0, USER_HEAD), text.slice(-USER_TAIL)] : [text];
  let sum = 0;
  for (const part of window) for (let index = 0; index < part.length; index++) sum += part.charCodeAt(index);
  return sum;
}

function time(run: () => number): Float64Array {
  for (let index = 0; index < Math.min(2000, decisions); index++) sink += run();
  const samples = new Float64Array(decisions);
  for (let index = 0; index < decisions; index++) {
    const started = process.hrtime.bigint();
    sink += run();
    samples[index] = Number(process.hrtime.bigint() - started) / 1000;
  }
  return samples.sort();
}

const before = loadavg();
console.log(`auto score, ${decisions} decisions per size; load average ${before.map((value) => value.toFixed(2)).join(' ')}`);
for (const [label, bytes] of [['1 KB', 1024], ['50 KB', 50 * 1024], ['1 MB', 1024 * 1024]] as const) {
  const text = prompt(bytes);
  const input: AutoInput = { system: 'You are a helpful assistant. Answer precisely.', lastUser: text, turns: 3, tools: 2, images: false, promptTokens: Math.ceil(text.length / 4) };
  const decision = time(() => tierFor(classify(DEFAULT_MODEL, featureVector(input)), 3));
  const baseline = time(() => bareScan(text));
  const p50 = percentile(decision, 0.5), p99 = percentile(decision, 0.99);
  console.log(`${label.padEnd(6)} decision p50 ${p50.toFixed(1)} µs  p99 ${p99.toFixed(1)} µs   ` +
    `bare pass over the window p50 ${percentile(baseline, 0.5).toFixed(1)} µs (decision = ${(p50 / percentile(baseline, 0.5)).toFixed(1)}× it)`);
}
console.log(`load average after ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
if (sink === 0.5) console.log('');
