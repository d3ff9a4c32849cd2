// Offline evaluation of a tier router (issue #19, "Offline evaluation"): rows in the shape
// RouterBench-style exports use — a prompt or messages, a quality score and a cost per tier — and
// a decision function; the answer is the quality kept (as a share of always taking the strongest
// tier), the cost, the savings and, for labelled rows, the accuracy. Also the baselines the router
// must beat. Pure: the caller reads the file and times the decisions.
import { mulberry32 } from '../../util/mulberry32.ts';
import type { AutoInput } from './features.ts';

export interface EvalMessage { role: 'system' | 'user' | 'assistant'; content: string }

export interface EvalRow {
  id: string;
  prompt?: string;
  messages?: EvalMessage[];
  /** The cheapest tier expected to answer well (a tier name), when the set is labelled. */
  label?: string;
  split?: 'train' | 'test';
  category?: string;
  /** Per tier name: the answer's quality in [0, 1]. */
  quality: Record<string, number>;
  /** Per tier name: the answer's cost (dollars). */
  cost: Record<string, number>;
}

export interface EvalResult {
  name: string;
  rows: number;
  /** Mean quality over the strongest tier's mean quality (1 = as good as always-strongest). */
  quality: number;
  /** Total cost of the decisions. */
  cost: number;
  /** 1 − cost / cost of always-strongest. */
  savings: number;
  /** Share of rows decided exactly at their label; undefined when the rows carry no labels. */
  accuracy: number | undefined;
  /** How many rows went to each tier, in tier order. */
  decisions: number[];
}

/** The auto router's input for a row: what autoInputFrom would make of the same request. */
export function rowInput(row: EvalRow): AutoInput {
  const messages: EvalMessage[] = row.messages ?? [{ role: 'user', content: row.prompt ?? '' }];
  let system = '';
  let lastUser = '';
  let characters = 0;
  for (const message of messages) {
    characters += message.content.length;
    if (message.role === 'system') system = system === '' ? message.content : `${system}\n\n${message.content}`;
    else if (message.role === 'user' && message.content !== '') lastUser = message.content;
  }
  return { system, lastUser, turns: messages.length, tools: 0, images: false, promptTokens: Math.ceil(characters / 4) };
}

/** Reads a value a row must have for every tier (missing ones are a broken row, not a zero). */
function perTier(row: EvalRow, field: 'quality' | 'cost', tier: string): number {
  const value = row[field][tier];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`row ${row.id} has no ${field} for tier '${tier}'`);
  return value;
}

export function evaluate(rows: readonly EvalRow[], decide: (row: EvalRow) => number, tiers: readonly string[], name = 'router'): EvalResult {
  const strongest = tiers[tiers.length - 1]!;
  let quality = 0;
  let strongestQuality = 0;
  let cost = 0;
  let strongestCost = 0;
  let labelled = 0;
  let correct = 0;
  const decisions = tiers.map(() => 0);
  for (const row of rows) {
    const tier = Math.max(0, Math.min(tiers.length - 1, decide(row)));
    decisions[tier]!++;
    quality += perTier(row, 'quality', tiers[tier]!);
    cost += perTier(row, 'cost', tiers[tier]!);
    strongestQuality += perTier(row, 'quality', strongest);
    strongestCost += perTier(row, 'cost', strongest);
    if (row.label !== undefined) {
      labelled++;
      if (tiers[tier] === row.label) correct++;
    }
  }
  return {
    name,
    rows: rows.length,
    quality: strongestQuality === 0 ? 0 : quality / strongestQuality,
    cost,
    savings: strongestCost === 0 ? 0 : 1 - cost / strongestCost,
    accuracy: labelled === 0 ? undefined : correct / labelled,
    decisions,
  };
}

export function alwaysStrongest(tiers: readonly string[]): (row: EvalRow) => number {
  return () => tiers.length - 1;
}

export function alwaysCheapest(): (row: EvalRow) => number {
  return () => 0;
}

/** A uniformly random tier per row, from a seeded generator (mulberry32), so runs compare. */
export function random(tiers: readonly string[], seed = 19): (row: EvalRow) => number {
  const next = mulberry32(seed);
  return () => Math.floor(next() * tiers.length);
}

/**
 * A keyword scorer in the manner of LiteLLM's: any of a short list of "complex" words sends the
 * request to the strongest tier; otherwise the prompt's length decides (under 60 estimated tokens
 * the cheapest, under 600 the middle, else the strongest). The baseline the learned score must beat.
 */
export const COMPLEX_KEYWORDS: readonly string[] = ['prove', 'theorem', 'derive', 'analyze', 'analyse', 'architecture',
  'optimize', 'algorithm', 'step by step', 'debug', 'design', 'complex', 'reasoning', 'evaluate'];
const COMPLEX_PATTERN = new RegExp(`\\b(?:${COMPLEX_KEYWORDS.join('|')})`, 'i');

export function keywordOnly(tiers: readonly string[]): (row: EvalRow) => number {
  return (row) => {
    const input = rowInput(row);
    if (COMPLEX_PATTERN.test(input.lastUser)) return tiers.length - 1;
    if (input.promptTokens < 60) return 0;
    if (input.promptTokens < 600) return Math.min(1, tiers.length - 1);
    return tiers.length - 1;
  };
}

/** The evaluation as a plain-text table, one line per result. */
export function formatTable(results: readonly EvalResult[]): string {
  const header = ['router', 'quality', 'cost $', 'savings', 'accuracy', 'decisions'];
  const lines = results.map((result) => [
    result.name,
    `${(result.quality * 100).toFixed(1)}%`,
    result.cost.toFixed(4),
    `${(result.savings * 100).toFixed(1)}%`,
    result.accuracy === undefined ? '—' : `${(result.accuracy * 100).toFixed(1)}%`,
    result.decisions.join('/'),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const render = (cells: readonly string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [render(header), ...lines.map(render)].join('\n');
}

/**
 * The best quality reachable at no more than `cost` by sending each row, at random, to one of two
 * of the given routers (any mix of two lies on the segment between their points). A router worth
 * having sits above this line for the baselines: otherwise a coin toss between baselines matches it.
 */
export function mixtureQuality(results: readonly EvalResult[], cost: number): number {
  let best = -Infinity;
  for (const first of results) {
    if (first.cost <= cost) best = Math.max(best, first.quality);
    for (const second of results) {
      if (first.cost >= cost || second.cost <= cost) continue;
      const share = (cost - first.cost) / (second.cost - first.cost);
      best = Math.max(best, first.quality + share * (second.quality - first.quality));
    }
  }
  return best;
}
