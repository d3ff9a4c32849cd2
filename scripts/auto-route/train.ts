// Trains the auto router's complexity model on the train split of the evaluation set and writes
// src/routing/auto/default-model.json.
// `npx node scripts/auto-route/train.ts [--data data/auto-route/eval.jsonl] [--out src/routing/auto/default-model.json]`
//
// A multinomial logistic regression (softmax over simple, medium, complex) on the standardised
// features of src/routing/auto/features.ts, fitted by plain full-batch gradient descent with L2
// regularisation from all-zero weights: no randomness, so the same data gives the same file.
// Rows with `split: "test"` are never read for fitting; they are only scored at the end.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { FEATURE_NAMES, featureVector } from '../../src/routing/auto/features.ts';
import { classify, type ComplexityModel } from '../../src/routing/auto/model.ts';
import { rowInput, type EvalRow } from '../../src/routing/auto/evaluate.ts';

export const CLASSES = ['simple', 'medium', 'complex'] as const;
const ITERATIONS = 4000;
const LEARNING_RATE = 0.3;
const L2 = 0.003;

export function readRows(path: string): EvalRow[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as EvalRow);
}

const round = (value: number) => Number(value.toPrecision(6));

export function train(rows: readonly EvalRow[]): ComplexityModel {
  const training = rows.filter((row) => row.split !== 'test');
  const vectors = training.map((row) => featureVector(rowInput(row)));
  const labels = training.map((row) => CLASSES.indexOf(row.label as (typeof CLASSES)[number]));
  if (labels.some((label) => label < 0)) throw new Error('every training row needs a label of simple, medium or complex');
  const width = FEATURE_NAMES.length;
  const count = vectors.length;
  const mean = new Array<number>(width).fill(0);
  const scale = new Array<number>(width).fill(0);
  for (const vector of vectors) for (let feature = 0; feature < width; feature++) mean[feature]! += vector[feature]! / count;
  for (const vector of vectors) for (let feature = 0; feature < width; feature++) scale[feature]! += (vector[feature]! - mean[feature]!) ** 2 / count;
  // a feature constant in training gets scale 1: it standardises to 0 and its weight stays 0
  for (let feature = 0; feature < width; feature++) scale[feature] = Math.sqrt(scale[feature]!) || 1;
  const standardised = vectors.map((vector) => vector.map((value, feature) => (value - mean[feature]!) / scale[feature]!));
  const classes = CLASSES.length;
  const weights = Array.from({ length: classes }, () => new Array<number>(width).fill(0));
  const bias = new Array<number>(classes).fill(0);
  const probabilities = new Array<number>(classes);
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const weightGradient = Array.from({ length: classes }, () => new Array<number>(width).fill(0));
    const biasGradient = new Array<number>(classes).fill(0);
    standardised.forEach((vector, index) => {
      let highest = -Infinity;
      for (let row = 0; row < classes; row++) {
        let sum = bias[row]!;
        for (let feature = 0; feature < width; feature++) sum += weights[row]![feature]! * vector[feature]!;
        probabilities[row] = sum;
        highest = Math.max(highest, sum);
      }
      let total = 0;
      for (let row = 0; row < classes; row++) { probabilities[row] = Math.exp(probabilities[row]! - highest); total += probabilities[row]!; }
      for (let row = 0; row < classes; row++) {
        const error = probabilities[row]! / total - (labels[index] === row ? 1 : 0);
        biasGradient[row]! += error / count;
        for (let feature = 0; feature < width; feature++) weightGradient[row]![feature]! += (error * vector[feature]!) / count;
      }
    });
    for (let row = 0; row < classes; row++) {
      bias[row]! -= LEARNING_RATE * biasGradient[row]!;
      for (let feature = 0; feature < width; feature++) {
        weights[row]![feature]! -= LEARNING_RATE * (weightGradient[row]![feature]! + L2 * weights[row]![feature]!);
      }
    }
  }
  return {
    version: 1,
    features: [...FEATURE_NAMES],
    mean: mean.map(round),
    scale: scale.map(round),
    weights: weights.map((row) => row.map(round)),
    bias: bias.map(round),
  };
}

/** Accuracy and the confusion matrix (rows: label, columns: predicted class). */
export function confusion(model: ComplexityModel, rows: readonly EvalRow[]): { accuracy: number; matrix: number[][] } {
  const matrix = CLASSES.map(() => CLASSES.map(() => 0));
  let correct = 0;
  for (const row of rows) {
    const predicted = classify(model, featureVector(rowInput(row))).tier;
    const label = CLASSES.indexOf(row.label as (typeof CLASSES)[number]);
    matrix[label]![predicted]!++;
    if (predicted === label) correct++;
  }
  return { accuracy: rows.length === 0 ? 0 : correct / rows.length, matrix };
}

export function formatConfusion(matrix: number[][]): string {
  const lines = [`${'label \\ predicted'.padEnd(18)}${CLASSES.map((name) => name.padStart(9)).join('')}`];
  matrix.forEach((row, index) => lines.push(`${CLASSES[index]!.padEnd(18)}${row.map((value) => String(value).padStart(9)).join('')}`));
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { data: { type: 'string', default: 'data/auto-route/eval.jsonl' }, out: { type: 'string', default: 'src/routing/auto/default-model.json' } } });
  const rows = readRows(values.data);
  const model = train(rows);
  writeFileSync(values.out, JSON.stringify(model, null, 1) + '\n');
  for (const split of ['train', 'test'] as const) {
    const { accuracy, matrix } = confusion(model, rows.filter((row) => (row.split ?? 'train') === split));
    console.log(`${split}: accuracy ${(accuracy * 100).toFixed(1)}% on ${matrix.flat().reduce((a, b) => a + b, 0)} rows\n${formatConfusion(matrix)}\n`);
  }
  console.log(`model → ${values.out}`);
}
