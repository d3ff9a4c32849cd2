// lookup, with shared session pins (`state.redis`): a request of a route with `affinity: session`
// that names a session waits for the fleet's pin of that session (one round trip) before the
// planner, which reads pins synchronously, picks its target — so a session whose last request
// went through another instance stays on its target. Compiled only when the state store shares
// pins and some route has session affinity: without Redis nothing runs, nothing is allocated.
// Fallback routes entered later use this instance's copy of their pins.
import { sessionPinId } from '../routing/planner.ts';
import type { RequestHandler } from './phases.ts';
import type { Runtime } from './runtime.ts';
import { sessionIdOf } from './session-id.ts';

export function sharedPinLookup(runtime: Runtime): RequestHandler | undefined {
  if (runtime.sessions.fetch === undefined || !runtime.config.models.some((alias) => alias.affinity === 'session')) return undefined;
  return (context, current) => {
    const route = context.resolved!;
    if (route.policy.affinity !== 'session') return undefined;
    const session = sessionIdOf(context.request.headers, current.config.routing.sessionHeader, context.payload!);
    if (session === undefined) return undefined;
    // the planner's clock
    return current.sessions.fetch!(sessionPinId(route.requested, session), Date.now(), current.config.routing.sessionTtlMs);
  };
}
