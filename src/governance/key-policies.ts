// The policies of the YAML's keys (`auth.keys` written as mappings, `auth.teams`), built once per
// config load: one frozen `KeyPolicy` per named key, shared by all its requests. Plain string keys
// have none (no name, no limits: they cost nothing).
import type { AuthConfig, LimitsConfig } from '../config/types.ts';
import { clientKeyId } from '../util/client-key-id.ts';
import type { KeyPolicy, Limits } from './policy.ts';

function frozenLimits(limits: LimitsConfig | undefined): Limits | undefined {
  if (limits === undefined) return undefined;
  const budget = limits.budget === undefined ? undefined : Object.freeze({ ...limits.budget });
  return Object.freeze({
    ...limits,
    ...(limits.models !== undefined ? { models: Object.freeze([...limits.models]) } : {}),
    ...(budget !== undefined ? { budget } : {}),
  });
}

/** The policy of each of `auth.keys`, in its order (undefined for a key written as a plain string). */
export function configKeyPolicies(auth: AuthConfig): readonly (KeyPolicy | undefined)[] {
  const teams = new Map((auth.teams ?? []).map((team) => [team.name, frozenLimits(team.limits)]));
  const named = new Map<string, KeyPolicy>();
  for (const client of auth.clients ?? []) {
    const limits = frozenLimits(client.limits);
    const teamLimits = client.team === undefined ? undefined : teams.get(client.team);
    const policy: KeyPolicy = Object.freeze({
      id: clientKeyId(client.key),
      name: client.name,
      source: 'config' as const,
      ...(client.team !== undefined ? { team: client.team } : {}),
      ...(limits !== undefined ? { limits } : {}),
      ...(teamLimits !== undefined ? { teamLimits } : {}),
      ...(client.cache !== undefined ? { cache: Object.freeze({ ttlSeconds: client.cache.ttlSeconds, perKey: client.cache.perKey }) } : {}),
    });
    named.set(client.key, policy);
  }
  return Object.freeze(auth.keys.map((key) => named.get(key)));
}

/** Whether a policy has anything to enforce (a key and team without limits cost nothing). */
export function enforces(policy: KeyPolicy | undefined): boolean {
  return policy !== undefined && (policy.limits !== undefined || policy.teamLimits !== undefined);
}
