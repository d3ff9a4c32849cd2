// The config's version: a short digest of the effective config, the same in every process and on
// every instance that loaded the same config — what `/v0/status` and the management API report,
// so a rollout can be checked instance by instance.
import { hash } from 'node:crypto';
import type { GatewayConfig } from './types.ts';

const versions = new WeakMap<GatewayConfig, string>();

/** The first 12 hex digits of the SHA-256 of the effective config (computed once per config). */
export function configVersion(config: GatewayConfig): string {
  let version = versions.get(config);
  if (version === undefined) {
    version = hash('sha256', JSON.stringify(config), 'hex').slice(0, 12);
    versions.set(config, version);
  }
  return version;
}
