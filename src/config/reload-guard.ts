// A reload that would open the gateway or empty it is refused unless the file says so in so many
// words. The accident it stops: an editor that truncates the file on save, a file cut short, or an
// unset `${SWITCHYARD_KEY}` turns the document into one without `auth.keys` (client
// authentication silently off) or without `providers` (every request a 404), and it is valid YAML.
import type { GatewayConfig } from './types.ts';

/** Lists the file writes out as empty (`keys: []`, `providers: []`), as opposed to leaving them out. */
export interface WrittenEmpty {
  authKeys: boolean;
  providers: boolean;
}

export const NOTHING_WRITTEN_EMPTY: WrittenEmpty = Object.freeze({ authKeys: false, providers: false });

export interface ReloadRefusal {
  /** One sentence for the log, naming what would go and how to do it on purpose. */
  message: string;
  /** What the reload would remove: counts and names, never a key. */
  removes: { clientKeys?: number; providers?: string[] };
}

/** Undefined when the new snapshot may replace the running one. */
export function refuseReload(before: GatewayConfig, after: GatewayConfig, written: WrittenEmpty): ReloadRefusal | undefined {
  const reasons: string[] = [];
  const removes: ReloadRefusal['removes'] = {};
  const keysBefore = before.auth.keys.length;
  if (keysBefore > 0 && after.auth.keys.length === 0 && !written.authKeys) {
    const count = keysBefore === 1 ? 'the only client key' : `all ${keysBefore} client keys`;
    reasons.push(`it would turn client authentication off (removes ${count}; an unset \${VAR} or a half-saved file does that) — to turn it off on purpose, write auth.keys: []`);
    removes.clientKeys = keysBefore;
  }
  if (before.providers.length > 0 && after.providers.length === 0 && !written.providers) {
    const names = before.providers.map((provider) => provider.name);
    reasons.push(`it would remove every provider (${names.join(', ')}) — to do that on purpose, write providers: []`);
    removes.providers = names;
  }
  return reasons.length === 0 ? undefined : { message: reasons.join('; and '), removes };
}
