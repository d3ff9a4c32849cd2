// The complexity model of `strategy: auto`: a multinomial logistic regression (a softmax over the
// tier classes simple, medium, complex) on standardised features, shipped as JSON
// (default-model.json, written by scripts/auto-route/train.ts). Classifying is a few hundred
// multiply-adds and no allocation beyond the result.
import { FEATURE_NAMES } from './features.ts';

export interface ComplexityModel {
  version: 1;
  /** The feature names the model was trained on, in featureVector order. */
  features: string[];
  /** Per feature: the training mean and standard deviation it is standardised with. */
  mean: number[];
  scale: number[];
  /** One row per tier class (cheapest first), one weight per feature. */
  weights: number[][];
  bias: number[];
}

export interface Classification {
  /** The most probable class (0 = simple … k−1 = complex). */
  tier: number;
  /** Per class, summing to 1. */
  probabilities: number[];
  /** The expected complexity in [0, 1]: Σ p_i · i/(k−1). */
  score: number;
}

/** Why a model file cannot be used with this build's features, or undefined when it can. */
export function modelProblem(model: ComplexityModel): string | undefined {
  if (model.version !== 1) return `unknown model version ${String(model.version)}`;
  const names = model.features;
  if (names.length !== FEATURE_NAMES.length || names.some((name, index) => name !== FEATURE_NAMES[index])) {
    return 'the model was trained on other features than this build computes (retrain with scripts/auto-route/train.ts)';
  }
  const width = names.length;
  if (model.mean.length !== width || model.scale.length !== width) return 'mean and scale must have one entry per feature';
  if (model.weights.length < 2 || model.weights.length !== model.bias.length) return 'weights and bias need one row per class (at least two)';
  if (model.weights.some((row) => row.length !== width)) return 'every weight row needs one entry per feature';
  return undefined;
}

export function classify(model: ComplexityModel, vector: Float64Array): Classification {
  const classes = model.weights.length;
  const logits = new Array<number>(classes);
  let highest = -Infinity;
  for (let row = 0; row < classes; row++) {
    const weights = model.weights[row]!;
    let sum = model.bias[row]!;
    for (let feature = 0; feature < weights.length; feature++) {
      sum += weights[feature]! * ((vector[feature]! - model.mean[feature]!) / model.scale[feature]!);
    }
    logits[row] = sum;
    if (sum > highest) highest = sum;
  }
  let total = 0;
  for (let row = 0; row < classes; row++) {
    logits[row] = Math.exp(logits[row]! - highest);
    total += logits[row]!;
  }
  let tier = 0;
  let score = 0;
  for (let row = 0; row < classes; row++) {
    const probability = logits[row]! / total;
    logits[row] = probability;
    if (probability > logits[tier]!) tier = row;
    score += (probability * row) / (classes - 1);
  }
  return { tier, probabilities: logits, score };
}

/**
 * The configured tier (0 = cheapest … tierCount−1 = strongest) for a classification. With as
 * many tiers as classes, the most probable class. Otherwise the expected complexity `score` is
 * spread evenly over the tiers: tier = min(N−1, ⌊score · N⌋), so with two tiers a score under 0.5
 * stays cheap and with five the score's fifths map to the five tiers. One tier: always 0.
 */
export function tierFor(result: Classification, tierCount: number): number {
  if (tierCount <= 1) return 0;
  if (tierCount === result.probabilities.length) return result.tier;
  return Math.min(tierCount - 1, Math.floor(result.score * tierCount));
}
