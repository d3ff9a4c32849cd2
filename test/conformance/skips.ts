// Cases of the matrix that cannot hold, each with its reason. A skip names the narrowest scope
// it can (client, upstream, scenario, stream); the reasons also appear in docs/translation.md.
// Skips live in the dialect file that causes them (`export const skips: Skip[]`).

export interface Skip {
  client?: string;
  upstream?: string;
  scenario?: string;
  stream?: boolean;
  reason: string;
}

/** Each dialect file may export `skips`; the matrix passes them all here. */
export function skipFor(skips: readonly Skip[], client: string, upstream: string, scenario: string, stream: boolean): string | undefined {
  for (const skip of skips) {
    if (skip.client !== undefined && skip.client !== client) continue;
    if (skip.upstream !== undefined && skip.upstream !== upstream) continue;
    if (skip.scenario !== undefined && skip.scenario !== scenario) continue;
    if (skip.stream !== undefined && skip.stream !== stream) continue;
    return skip.reason;
  }
  return undefined;
}
