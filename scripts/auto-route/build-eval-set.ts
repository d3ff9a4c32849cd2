// Builds the labelled evaluation set of the auto router: data/auto-route/eval.jsonl.
// `npx node scripts/auto-route/build-eval-set.ts [--seed 19] [--out data/auto-route/eval.jsonl]`
//
// No internet and no model calls: every prompt comes from the templates in ./templates.ts, filled
// from word lists with a seeded generator, so the same seed writes the same file byte for byte.
// Labels are by construction: each template carries the cheapest tier the rubric of
// docs/auto-routing-eval.md expects to answer it well; no answer was generated or graded.
// Per-tier quality and cost follow from the label and the prompt's size by the formulas below.
// A stratified 25 % of each (category, label) group is held out as `split: "test"`; training
// (scripts/auto-route/train.ts) never reads it.
import { mulberry32 } from '../../src/util/mulberry32.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { EvalMessage, EvalRow } from '../../src/routing/auto/evaluate.ts';
import { TEMPLATES, type Label, type Random } from './templates.ts';

export const TIERS: readonly Label[] = ['simple', 'medium', 'complex'];

/** Nominal prices per million tokens (input, output): a small open model, a mini model, a frontier model. */
export const PRICES: Readonly<Record<Label, { input: number; output: number }>> = {
  simple: { input: 0.10, output: 0.40 },
  medium: { input: 0.40, output: 1.60 },
  complex: { input: 3.00, output: 15.00 },
};
/** The answer length every cost assumes, in tokens. */
export const OUTPUT_TOKENS = 400;
/** Quality of a tier by how many tiers short of the label it is (0: at or above the label). */
export const QUALITY_SHORT_BY = [1.0, 0.55, 0.25] as const;
export const TEST_SHARE = 0.25;

export function seededRandom(seed: number): Random {
  const next = mulberry32(seed);
  return {
    next,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    integer: (low, high) => low + Math.floor(next() * (high - low + 1)),
  };
}

function promptTokens(content: string | EvalMessage[]): number {
  const characters = typeof content === 'string' ? content.length : content.reduce((sum, message) => sum + message.content.length, 0);
  return Math.ceil(characters / 4);
}

export function qualityFor(label: Label): Record<Label, number> {
  const needed = TIERS.indexOf(label);
  return Object.fromEntries(TIERS.map((tier, index) => [tier, QUALITY_SHORT_BY[Math.max(0, needed - index)]!])) as Record<Label, number>;
}

export function costFor(tokens: number): Record<Label, number> {
  return Object.fromEntries(TIERS.map((tier) => {
    const price = PRICES[tier];
    return [tier, Number(((tokens * price.input + OUTPUT_TOKENS * price.output) / 1e6).toPrecision(6))];
  })) as Record<Label, number>;
}

export function buildEvalSet(seed: number): EvalRow[] {
  const random = seededRandom(seed);
  const rows: EvalRow[] = [];
  const seen = new Set<string>();
  TEMPLATES.forEach((template, templateIndex) => {
    let made = 0;
    // distinct prompts only; a template with few fillers gives fewer rows rather than repeats
    for (let attempt = 0; made < template.count && attempt < template.count * 20; attempt++) {
      const content = template.make(random);
      const key = typeof content === 'string' ? content : JSON.stringify(content);
      if (seen.has(key)) continue;
      seen.add(key);
      made++;
      rows.push({
        id: `${template.category}-${templateIndex}-${made}`,
        ...(typeof content === 'string' ? { prompt: content } : { messages: content }),
        label: template.label,
        category: template.category,
        quality: qualityFor(template.label),
        cost: costFor(promptTokens(content)),
      });
    }
  });
  // stratified hold-out: in each (category, label) group, a shuffled TEST_SHARE goes to test
  const groups = new Map<string, EvalRow[]>();
  for (const row of rows) {
    const key = `${row.category}/${row.label}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const group of groups.values()) {
    const order = group.map((row) => ({ row, sort: random.next() })).sort((a, b) => a.sort - b.sort);
    const testCount = Math.max(1, Math.round(group.length * TEST_SHARE));
    order.forEach(({ row }, index) => { row.split = index < testCount ? 'test' : 'train'; });
  }
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: '19' }, out: { type: 'string', default: 'data/auto-route/eval.jsonl' } } });
  const rows = buildEvalSet(Number(values.seed));
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  const count = (predicate: (row: EvalRow) => boolean) => rows.filter(predicate).length;
  console.log(`${rows.length} rows → ${values.out} (test ${count((row) => row.split === 'test')}; ` +
    TIERS.map((tier) => `${tier} ${count((row) => row.label === tier)}`).join(', ') + ')');
  const categories = [...new Set(rows.map((row) => row.category))];
  console.log(categories.map((category) => `${category} ${count((row) => row.category === category)}`).join(', '));
}
