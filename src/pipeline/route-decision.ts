// What an auto alias decided for a request (`model: auto`, auto-route.ts), as the answer's header
// and the access log show it. Apart from auto-route.ts so that neither loads the router's model.
import type { DroppedTarget } from '../routing/auto/constraints.ts';

/** What an auto alias decided for one request: in the response header, the access log and the usage record. */
export interface RouteDecision {
  readonly alias: string;
  /** The tier's name, or '' when a rule named a model outright. */
  readonly tier: string;
  /** `rule:<n>`, `score:<0.00–1.00>` or `session`. */
  readonly by: string;
  readonly score: number | undefined;
  /** The alternatives the score weighed: the model's probabilities of simple, medium and complex. */
  readonly probabilities: readonly number[] | undefined;
  /** Where it went: the tier's route or the model a rule named. */
  readonly route: string;
  /** Microseconds the decision took (reading the request included). */
  readonly micros: number;
  /** The targets the hard constraints left out, and why (absent when none). */
  readonly dropped?: readonly DroppedTarget[];
}

/** The decision as the access log writes it (a JSON object). */
export function routeDecisionJson(decision: RouteDecision): string {
  return JSON.stringify({ alias: decision.alias, ...(decision.tier !== '' ? { tier: decision.tier } : { model: decision.route }), by: decision.by, ...(decision.score !== undefined ? { score: Math.round(decision.score * 1000) / 1000 } : {}), ...(decision.probabilities !== undefined ? { p: decision.probabilities.map((p) => Math.round(p * 1000) / 1000) } : {}), us: decision.micros, ...(decision.dropped !== undefined ? { dropped: decision.dropped } : {}) });
}

/** The `x-switchyard-route` value. */
export function routeHeader(decision: RouteDecision): string {
  return decision.tier === '' ? `model=${decision.route}; by=${decision.by}` : `tier=${decision.tier}; by=${decision.by}`;
}

