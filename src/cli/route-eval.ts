// `switchyard route eval FILE.jsonl`: the configured auto router (or the shipped model alone)
// against the baselines on rows of {prompt | messages, per-tier quality, per-tier cost} — the shape
// RouterBench-style exports use, and the shipped set data/auto-route/eval.jsonl. Prints quality
// as a share of always-strongest, cost, savings, accuracy (labelled rows) and the decision
// latency; writes a cost–quality plot with --svg.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CanonicalRequest } from '../canonical/request.ts';
import type { AutoRouting } from '../config/types.ts';
import { AutoRouter } from '../routing/auto/decide.ts';
import { DEFAULT_MODEL } from '../routing/auto/default-model.ts';
import { alwaysCheapest, alwaysStrongest, evaluate, formatTable, keywordOnly, random, type EvalRow } from '../routing/auto/evaluate.ts';
import { svgPlot } from '../routing/auto/svg-plot.ts';

export const routeUsage = `Usage:
  switchyard route eval FILE.jsonl [--config FILE] [--alias NAME] [--split test|train|all] [--svg FILE] [--json]

  Evaluates an auto alias (strategy: auto) offline: its rules and complexity score against
  always-strongest, always-cheapest, random and a keyword-only router, on rows of
  { prompt | messages, quality: { <tier>: q }, cost: { <tier>: $ }, label?, split? }.

Options:
  -c, --config FILE   The config whose auto alias is evaluated (its rules and tier names); without
                      it, the shipped complexity model alone over the rows' tiers.
      --alias NAME    Which auto alias (default: the config's first).
      --split S       Rows of this split only: test (default when rows have splits), train, all.
      --svg FILE      Write the cost–quality plot.
      --json          Print the results as JSON.

Example:
  switchyard route eval data/auto-route/eval.jsonl --config switchyard.yaml --svg eval.svg`;

class RouteUsageError extends Error {}

function requestOf(row: EvalRow): CanonicalRequest {
  const messages = row.messages ?? [{ role: 'user' as const, content: row.prompt ?? '' }];
  return { model: 'auto', messages: messages.map((message) => ({ role: message.role, content: [{ type: 'text', text: message.content }] })), sampling: {}, stream: false };
}

/** The rows' tier names, cheapest first (by their mean cost). */
function rowTiers(rows: readonly EvalRow[]): string[] {
  const totals = new Map<string, number>();
  for (const row of rows) for (const [tier, cost] of Object.entries(row.cost)) totals.set(tier, (totals.get(tier) ?? 0) + cost);
  return [...totals].sort((a, b) => a[1] - b[1]).map(([tier]) => tier);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export async function runRoute(argv: readonly string[]): Promise<number> {
  try {
    if (argv[0] !== 'eval') throw new RouteUsageError(argv[0] === undefined ? 'a subcommand is needed' : `unknown subcommand '${argv[0]}'`);
    const { values, positionals } = parseArgs({
      args: [...argv.slice(1)], allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, alias: { type: 'string' }, split: { type: 'string' }, svg: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help === true) {
      process.stdout.write(routeUsage + '\n');
      return 0;
    }
    const file = positionals[0];
    if (file === undefined) throw new RouteUsageError('the rows file (JSONL) is needed');
    let rows = readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line, index) => {
      try {
        return JSON.parse(line) as EvalRow;
      } catch (error) {
        throw new RouteUsageError(`${file}:${index + 1}: not JSON: ${(error as Error).message}`);
      }
    });
    const split = values.split ?? (rows.some((row) => row.split !== undefined) ? 'test' : 'all');
    if (split !== 'all') rows = rows.filter((row) => (row.split ?? 'train') === split);
    if (rows.length === 0) throw new RouteUsageError(`${file} has no rows${split === 'all' ? '' : ` in split '${split}'`}`);
    const tiers = rowTiers(rows);

    let routing: AutoRouting = { tiers: tiers.map((name) => ({ name, route: name })), rules: [] };
    let name = 'score (shipped model)';
    if (values.config !== undefined) {
      const { loadConfigFile } = await import('../config/load.ts');
      const config = loadConfigFile(values.config).config;
      const alias = config.models.find((candidate) => candidate.auto !== undefined && (values.alias === undefined || candidate.name === values.alias));
      if (alias === undefined) throw new RouteUsageError(`${values.config} has no auto alias${values.alias === undefined ? '' : ` named '${values.alias}'`}`);
      const names = alias.auto!.tiers.map((tier) => tier.name);
      // the config's tiers are the rows' tiers by name, else by position when they are as many
      if (!names.every((tier) => tiers.includes(tier)) && names.length !== tiers.length) {
        throw new RouteUsageError(`alias '${alias.name}' has tiers ${names.join(', ')}; the rows price ${tiers.join(', ')} (name them alike, or as many tiers)`);
      }
      routing = alias.auto!;
      name = `${alias.name} (rules + score)`;
    }
    const router = new AutoRouter(name, routing, DEFAULT_MODEL);
    const tierIndex = (tier: number) => {
      const wanted = routing.tiers[tier]!.name;
      const byName = tiers.indexOf(wanted);
      return byName >= 0 ? byName : tier;
    };
    const latencies: number[] = [];
    const facts = { header: () => undefined, keyId: '', team: undefined };
    const configured = (row: EvalRow): number => {
      const started = performance.now();
      const decision = router.decide(requestOf(row), facts);
      latencies.push((performance.now() - started) * 1000);
      // a rule that names a model outright counts as the strongest tier (its cost is not in the rows)
      return decision.tier === undefined ? tiers.length - 1 : tierIndex(decision.tier);
    };
    // one untimed pass first: the latency is the decision's, not the compiler's warming up
    for (const row of rows) router.decide(requestOf(row), facts);
    const results = [
      evaluate(rows, configured, tiers, name),
      evaluate(rows, keywordOnly(tiers), tiers, 'keyword-only'),
      evaluate(rows, random(tiers), tiers, 'random (seed 19)'),
      evaluate(rows, alwaysCheapest(), tiers, 'always cheapest'),
      evaluate(rows, alwaysStrongest(tiers), tiers, 'always strongest'),
    ];
    const sorted = [...latencies].sort((a, b) => a - b);
    const latency = { p50_us: Math.round(percentile(sorted, 0.5)), p99_us: Math.round(percentile(sorted, 0.99)) };
    if (values.json === true) process.stdout.write(JSON.stringify({ rows: rows.length, split, tiers, results, decision_latency: latency }, null, 2) + '\n');
    else process.stdout.write(`${rows.length} rows (split: ${split}); tiers, cheapest first: ${tiers.join(', ')}\n${formatTable(results)}\ndecision latency (${name}): p50 ${latency.p50_us} µs, p99 ${latency.p99_us} µs\n`);
    if (values.svg !== undefined) {
      writeFileSync(values.svg, svgPlot(results));
      if (values.json !== true) process.stdout.write(`plot → ${values.svg}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof RouteUsageError) {
      process.stderr.write(`switchyard route: ${error.message}\n\n${routeUsage}\n`);
      return 2;
    }
    const { ConfigError, formatProblems } = await import('../config/config-error.ts');
    if (error instanceof ConfigError) {
      process.stderr.write(formatProblems(error.source, error.problems) + '\n');
      return 1;
    }
    throw error;
  }
}
