// The auto router's complexity score (issue #19): features on crafted prompts, determinism,
// bounded inputs, the shipped model against this build's features, and the regression guard — on
// the held-out test split of data/auto-route/eval.jsonl the shipped model must beat the
// keyword-only baseline. (The hard constraints are test/unit/auto-constraints.test.ts's.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import { DEFAULT_MODEL } from '../../src/routing/auto/default-model.ts';
import {
  alwaysCheapest, alwaysStrongest, evaluate, keywordOnly, mixtureQuality, random, rowInput, type EvalRow,
} from '../../src/routing/auto/evaluate.ts';
import { autoInputFrom, FEATURE_NAMES, featureVector, SYSTEM_WINDOW, USER_HEAD, USER_TAIL, type AutoInput } from '../../src/routing/auto/features.ts';
import { classify, modelProblem, tierFor } from '../../src/routing/auto/model.ts';
import { svgPlot } from '../../src/routing/auto/svg-plot.ts';
import { buildEvalSet } from '../../scripts/auto-route/build-eval-set.ts';

const TIERS = ['simple', 'medium', 'complex'];
const input = (lastUser: string, extra: Partial<AutoInput> = {}): AutoInput =>
  ({ system: '', lastUser, turns: 1, tools: 0, images: false, promptTokens: Math.ceil(lastUser.length / 4), ...extra });
const score = (text: string) => classify(DEFAULT_MODEL, featureVector(input(text)));
const feature = (vector: Float64Array, name: string) => vector[FEATURE_NAMES.indexOf(name)]!;
const rows = (): EvalRow[] => readFileSync(new URL('../../data/auto-route/eval.jsonl', import.meta.url), 'utf8')
  .split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as EvalRow);

test('a theorem proof and a chemistry mechanism score above chit-chat; number theory is not simple', () => {
  const chat = score('hey! how was your weekend? anything fun?');
  const proof = score('Prove that there are infinitely many primes of the form 4k + 3.');
  const mechanism = score('Propose a mechanism for the acid-catalysed dehydration of 2-methylcyclohexanol and explain the product ratio.');
  assert.equal(chat.tier, 0);
  assert.ok(proof.score > chat.score + 0.3, `proof ${proof.score} vs chat ${chat.score}`);
  assert.ok(mechanism.score > chat.score + 0.3, `mechanism ${mechanism.score} vs chat ${chat.score}`);
  assert.notEqual(score('Find all primes p such that p^2 + 8 is also prime.').tier, 0);
  assert.notEqual(score('Is 2^89 - 1 prime? Explain how you know.').tier, 0);
});

test('features count what they name', () => {
  const code = featureVector(input('Fix this:\n```\nfunction add(a, b) {\n  return a + b;\n}\n```\nWhy does it fail?'));
  assert.ok(feature(code, 'code_fences') >= 1);
  assert.ok(feature(code, 'code_lines_log') > 0);
  assert.ok(feature(code, 'questions_log') > 0);
  const steps = featureVector(input('1. Read the file\n2. Then sort it\n3. Finally write the result'));
  assert.ok(feature(steps, 'list_lines_log') >= Math.log1p(3) - 1e-9);
  assert.ok(feature(steps, 'terms_steps_log') > 0);
  const math = featureVector(input('Evaluate $\\int_0^1 x^2 \\, dx$ and \\frac{1}{2} ≤ 3'));
  assert.ok(feature(math, 'latex_log') > 0 && feature(math, 'math_symbols_log') > 0);
  const law = featureVector(input('Is the landlord liable for breach of the lease under the statute?'));
  assert.ok(feature(law, 'terms_law_log') >= Math.log1p(3) - 1e-9);
  // a stem matches words it starts, a whole word only itself: "hi" is chat, "history" is not
  assert.equal(feature(featureVector(input('history')), 'terms_chat_log'), 0);
  assert.ok(feature(featureVector(input('hi')), 'terms_chat_log') > 0);
  const shape = featureVector(input('x', { tools: 3, images: true, turns: 7 }));
  assert.equal(feature(shape, 'images'), 1);
  assert.equal(feature(shape, 'tools_log'), Math.log1p(3));
  assert.equal(feature(shape, 'turns_log'), Math.log1p(7));
});

test('autoInputFrom reads system, the latest user turn, tools and images from a canonical request', () => {
  const request: CanonicalRequest = {
    model: 'auto', stream: false, sampling: {},
    tools: [{ name: 'search', parameters: {} }],
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'You are terse.' }] },
      { role: 'user', content: [{ type: 'text', text: 'first question' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'an answer' }, { type: 'tool-call', id: 't', name: 'search', arguments: '{"q":"x"}' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 't', content: 'found it' }] },
      { role: 'user', content: [{ type: 'text', text: 'look at' }, { type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'this' }] },
    ],
  };
  const result = autoInputFrom(request);
  assert.equal(result.system, 'You are terse.');
  assert.equal(result.lastUser, 'look at\nthis');
  assert.equal(result.turns, 5);
  assert.equal(result.tools, 1);
  assert.equal(result.images, true);
  const characters = 'You are terse.first questionan answer{"q":"x"}found itlook atthis'.length;
  assert.equal(result.promptTokens, Math.ceil(characters / 4));
});

test('deterministic: the same input gives the same vector and decision; the set builds byte for byte', () => {
  const text = 'Design a rate limiter shared by 40 gateway instances; explain the trade-offs.';
  assert.deepEqual(featureVector(input(text)), featureVector(input(text)));
  assert.deepEqual(score(text), score(text));
  assert.deepEqual(buildEvalSet(19), buildEvalSet(19));
});

test('a 1 MB prompt and a 1 MB system prompt are scored (only a window is scanned)', () => {
  const paragraph = 'The contract clause says the supplier must deliver within 30 days; then prove the bound.\n';
  const huge = paragraph.repeat(Math.ceil(1_048_576 / paragraph.length));
  const vector = featureVector(input(huge, { system: huge, promptTokens: huge.length / 2 }));
  assert.equal(vector.length, FEATURE_NAMES.length);
  assert.ok(vector.every(Number.isFinite));
  // the counts saturate at the windows: 1 MB counts like its first and last 2 KB
  const window = featureVector(input(`${huge.slice(0, USER_HEAD)}${huge.slice(-USER_TAIL)}`, { system: huge.slice(0, SYSTEM_WINDOW) }));
  assert.equal(feature(vector, 'terms_law_log'), feature(window, 'terms_law_log'));
  const result = classify(DEFAULT_MODEL, vector);
  assert.ok(result.score >= 0 && result.score <= 1);
});

test('the shipped model file loads and matches FEATURE_NAMES', () => {
  assert.equal(modelProblem(DEFAULT_MODEL), undefined);
  assert.deepEqual(DEFAULT_MODEL.features, [...FEATURE_NAMES]);
  assert.equal(DEFAULT_MODEL.weights.length, 3);
  assert.match(modelProblem({ ...DEFAULT_MODEL, features: ['other'] })!, /retrain/);
});

test('tierFor maps the three classes onto 1…N configured tiers', () => {
  const at = (score: number, tier = 1) => ({ tier, probabilities: [0.2, 0.5, 0.3], score });
  assert.equal(tierFor(at(0.9), 1), 0);
  assert.equal(tierFor(at(0.9, 1), 3), 1);
  assert.equal(tierFor(at(0.49), 2), 0);
  assert.equal(tierFor(at(0.5), 2), 1);
  assert.equal(tierFor(at(0.0), 5), 0);
  assert.equal(tierFor(at(0.65), 5), 3);
  assert.equal(tierFor(at(1.0), 5), 4);
  const probabilities = classify(DEFAULT_MODEL, featureVector(input('hello'))).probabilities;
  assert.ok(Math.abs(probabilities.reduce((sum, value) => sum + value, 0) - 1) < 1e-9);
});

test('the evaluation set: ≥ 600 rows, three labels, a stratified ≥ 20 % test split, formulas as documented', () => {
  const all = rows();
  assert.ok(all.length >= 600);
  const test = all.filter((row) => row.split === 'test');
  assert.ok(test.length >= 0.2 * all.length);
  for (const category of new Set(all.map((row) => row.category))) {
    assert.ok(test.some((row) => row.category === category), `no ${category} row in the test split`);
  }
  for (const row of all) {
    const needed = TIERS.indexOf(row.label!);
    assert.ok(needed >= 0);
    TIERS.forEach((tier, index) => assert.equal(row.quality[tier], [1, 0.55, 0.25][Math.max(0, needed - index)]));
    assert.ok(row.cost.simple! < row.cost.medium! && row.cost.medium! < row.cost.complex!);
  }
  assert.deepEqual(all, buildEvalSet(19).map((row) => JSON.parse(JSON.stringify(row)) as EvalRow), 'eval.jsonl is stale: rerun scripts/auto-route/build-eval-set.ts');
});

test('on the held-out split the shipped model beats the keyword-only baseline', () => {
  const test = rows().filter((row) => row.split === 'test');
  const router = evaluate(test, (row) => tierFor(classify(DEFAULT_MODEL, featureVector(rowInput(row))), TIERS.length), TIERS, 'score');
  const keyword = evaluate(test, keywordOnly(TIERS), TIERS, 'keyword-only');
  const cheapest = evaluate(test, alwaysCheapest(), TIERS, 'always cheapest');
  const strongest = evaluate(test, alwaysStrongest(TIERS), TIERS, 'always strongest');
  // Beating it means: more right decisions, and more quality at the router's cost than any random
  // mix of keyword-only and the fixed tiers can buy (the baseline topped up with the strongest tier).
  assert.ok(router.accuracy! > keyword.accuracy! + 0.1, `accuracy ${router.accuracy} vs keyword ${keyword.accuracy}`);
  const reachable = mixtureQuality([keyword, cheapest, strongest], router.cost);
  assert.ok(router.quality > reachable + 0.05, `quality ${router.quality} at cost ${router.cost}; the baselines reach ${reachable}`);
  assert.ok(router.quality >= 0.9, `quality ${router.quality}`);
  assert.ok(router.savings >= 0.4, `savings ${router.savings}`);
  // and it is no coin toss
  const coin = evaluate(test, random(TIERS), TIERS, 'random');
  assert.ok(router.quality > coin.quality && router.cost < coin.cost * 1.2);
  const svg = svgPlot([router, keyword, coin, cheapest, strongest]);
  assert.match(svg, /^<svg[^>]*>/);
  assert.equal((svg.match(/<circle /g) ?? []).length, 5);
});
