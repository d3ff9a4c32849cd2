// The shipped model against the baselines on the held-out split of the evaluation set: the table
// of src/routing/auto/evaluate.ts and the cost–quality scatter.
// `npx node scripts/auto-route/report.ts [--data data/auto-route/eval.jsonl] [--split test|train|all] [--svg FILE]`
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL } from '../../src/routing/auto/default-model.ts';
import { alwaysCheapest, alwaysStrongest, evaluate, formatTable, keywordOnly, random, rowInput, type EvalRow } from '../../src/routing/auto/evaluate.ts';
import { featureVector } from '../../src/routing/auto/features.ts';
import { classify, tierFor } from '../../src/routing/auto/model.ts';
import { svgPlot } from '../../src/routing/auto/svg-plot.ts';

export const TIERS = ['simple', 'medium', 'complex'];

export function modelRouter(tiers: readonly string[]): (row: EvalRow) => number {
  return (row) => tierFor(classify(DEFAULT_MODEL, featureVector(rowInput(row))), tiers.length);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { data: { type: 'string', default: 'data/auto-route/eval.jsonl' }, split: { type: 'string', default: 'test' }, svg: { type: 'string' } } });
  const rows = readFileSync(values.data, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as EvalRow)
    .filter((row) => values.split === 'all' || (row.split ?? 'train') === values.split);
  const results = [
    evaluate(rows, modelRouter(TIERS), TIERS, 'score (default model)'),
    evaluate(rows, keywordOnly(TIERS), TIERS, 'keyword-only'),
    evaluate(rows, random(TIERS), TIERS, 'random (seed 19)'),
    evaluate(rows, alwaysCheapest(), TIERS, 'always cheapest'),
    evaluate(rows, alwaysStrongest(TIERS), TIERS, 'always strongest'),
  ];
  console.log(`${rows.length} rows (split: ${values.split})\n${formatTable(results)}`);
  if (values.svg !== undefined) {
    writeFileSync(values.svg, svgPlot(results));
    console.log(`plot → ${values.svg}`);
  }
}
