// The static method+path table, built once at start from every dialect's routes. Exact paths
// are a map lookup; families of paths (Gemini's /v1beta/models/{model}:{method}) are prefixes
// with a matcher. Routes with a condition (`when`, e.g. a header) are tried before plain ones.
import type { DialectRoute, LocalSurfaceHandler, SurfaceAdapter, SurfaceRequest } from '../canonical/adapters.ts';

/** One path's handling; `Local` is the gateway's own handler type (the pipeline's `LocalHandler`). */
export interface RouteEntry<Local = unknown> {
  /** PUT, PATCH and DELETE only for the gateway's own endpoints (the management API). */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A proxied surface: reads a body and goes upstream. */
  surface?: SurfaceAdapter;
  /** Answered by the gateway itself (health). */
  local?: Local;
  /** Answered by the gateway in a dialect (model lists). */
  dialectLocal?: LocalSurfaceHandler;
  /** The dialect of errors on this route (defaults to `surface`). */
  errors?: SurfaceAdapter;
  when?: (request: SurfaceRequest) => boolean;
  /** Answers without a client key (health probes). */
  public?: boolean;
}

/** One of the gateway's own routes: an exact path, or a family of paths when `match` is given. */
export interface GatewayRoute<Local = unknown> {
  path: string;
  entry: RouteEntry<Local>;
  match?: (rest: string) => Record<string, string> | undefined;
}

export type RouteMatch<Local = unknown> =
  | { kind: 'found'; entry: RouteEntry<Local>; params: Record<string, string> | undefined }
  | { kind: 'method-not-allowed'; allowed: string[]; errors: SurfaceAdapter | undefined }
  | { kind: 'not-found' };

interface PrefixEntry<Local> {
  prefix: string;
  match: (rest: string) => Record<string, string> | undefined;
  entry: RouteEntry<Local>;
}

function fromDialect<Local>(route: DialectRoute): RouteEntry<Local> {
  return {
    method: route.method,
    ...(route.surface !== undefined ? { surface: route.surface } : {}),
    ...(route.local !== undefined ? { dialectLocal: route.local } : {}),
    ...(route.errors !== undefined ? { errors: route.errors } : {}),
    ...(route.when !== undefined ? { when: route.when } : {}),
  };
}

export class RouteTable<Local = unknown> {
  private readonly exact = new Map<string, RouteEntry<Local>[]>();
  private readonly prefixes: PrefixEntry<Local>[] = [];
  private readonly errorPrefixes: { prefix: string; surface: SurfaceAdapter }[];

  /**
   * `gatewayRoutes` with a `match` are families under `path` (the management API's
   * `/v0/management/keys/{id}`): `match` gets the rest of the path and returns its parameters.
   */
  constructor(dialectRoutes: readonly DialectRoute[], gatewayRoutes: readonly GatewayRoute<Local>[], errorPrefixes: readonly { prefix: string; surface: SurfaceAdapter }[]) {
    for (const { path, entry, match } of gatewayRoutes) {
      if (match !== undefined) this.prefixes.push({ prefix: path, match, entry });
      else this.addExact(path, entry);
    }
    for (const route of dialectRoutes) {
      const entry = fromDialect<Local>(route);
      if (route.match !== undefined) this.prefixes.push({ prefix: route.path, match: route.match, entry });
      else this.addExact(route.path, entry);
    }
    for (const entries of this.exact.values()) entries.sort((a, b) => Number(b.when !== undefined) - Number(a.when !== undefined));
    this.prefixes.sort((a, b) => Number(b.entry.when !== undefined) - Number(a.entry.when !== undefined));
    // longest prefix first, so /v1beta/ beats /
    this.errorPrefixes = [...errorPrefixes].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  private addExact(path: string, entry: RouteEntry<Local>): void {
    const list = this.exact.get(path);
    if (list === undefined) this.exact.set(path, [entry]);
    else list.push(entry);
  }

  lookup(method: string, path: string, request: SurfaceRequest): RouteMatch<Local> {
    const wanted = method === 'HEAD' ? 'GET' : method;
    const allowed: string[] = [];
    let errors: SurfaceAdapter | undefined;
    const exact = this.exact.get(path);
    if (exact !== undefined) {
      for (const entry of exact) {
        if (entry.when !== undefined && !entry.when(request)) continue;
        if (entry.method === wanted) return { kind: 'found', entry, params: undefined };
        if (!allowed.includes(entry.method)) allowed.push(entry.method);
        errors ??= entry.errors ?? entry.surface;
      }
    }
    for (const prefix of this.prefixes) {
      if (!path.startsWith(prefix.prefix)) continue;
      const entry = prefix.entry;
      if (entry.when !== undefined && !entry.when(request)) continue;
      const params = prefix.match(path.slice(prefix.prefix.length));
      if (params === undefined) continue;
      if (entry.method === wanted) return { kind: 'found', entry, params };
      if (!allowed.includes(entry.method)) allowed.push(entry.method);
      errors ??= entry.errors ?? entry.surface;
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed, errors } : { kind: 'not-found' };
  }

  /** The dialect for errors on a path no route took. */
  errorSurfaceFor(path: string): SurfaceAdapter | undefined {
    for (const entry of this.errorPrefixes) if (path.startsWith(entry.prefix)) return entry.surface;
    return undefined;
  }
}
