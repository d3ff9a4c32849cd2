// The `unsupported_tools` policy, one step after a provider encoder: what the encoder left out
// because the provider cannot express it (hosted tools with no equivalent there, server-side
// fields of another dialect — never the caller's own function tools) is either dropped, the
// request going on without it and the answer saying so (`x-switchyard-dropped`, the access log's
// `dropped`), or refused with a 400 naming it, for this provider (another target may take it).
// A request the encoder left nothing out of never gets here.
import { invalidRequest } from '../canonical/errors.ts';
import type { ProviderConfig, UnsupportedTools } from '../config/types.ts';

/**
 * What was dropped, as the comma-separated list `x-switchyard-dropped` carries; throws the 400 when
 * the policy (the route's, else the provider's) is `reject`.
 */
export function applyUnsupportedTools(unsupported: readonly string[], routePolicy: UnsupportedTools | undefined, provider: { readonly name: string; readonly config: ProviderConfig }, kind: string): string {
  const policy = routePolicy ?? provider.config.unsupportedTools;
  if (policy === 'drop') return unsupported.join(',');
  const names = unsupported.map((name) => `'${name}'`).join(', ');
  const one = unsupported.length === 1;
  throw invalidRequest(
    `The field${one ? '' : 's'} ${names} cannot be expressed for provider '${provider.name}' (${kind}), whose unsupported_tools policy is reject; remove ${one ? 'it' : 'them'}, route to a provider that has ${one ? 'it' : 'them'}, or set unsupported_tools: drop to send the request without ${one ? 'it' : 'them'}. See docs/translation.md.`,
    unsupported[0],
  );
}
