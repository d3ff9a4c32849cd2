// What every provider encoder does with what only some dialects can express: hosted tools (web
// search, …) and server-side fields. Its own dialect's go upstream verbatim; another dialect's are
// mapped where the provider has an equivalent (a web search) and otherwise named as unsupported,
// for the pipeline's `unsupported_tools` policy to drop (reported) or refuse. Requests without
// either pay one property check.
import type { UpstreamRequest } from '../../canonical/adapters.ts';
import type { CanonicalRequest, HostedTool } from '../../canonical/request.ts';
import type { JsonObject } from '../../util/json-value.ts';

/** The upstream form of a hosted tool of another dialect, or undefined when the provider has no equivalent. */
export type HostedToolMapper = (tool: HostedTool, request: CanonicalRequest, model: string) => JsonObject | undefined;

export interface EncodedHostedTools {
  /** Tool entries for the upstream body, in the order the caller listed them. */
  readonly tools: JsonObject[];
  /** Caller field names the provider cannot express. */
  readonly unsupported: string[];
}

/**
 * The request's hosted tools for a provider of `dialect`, and the server-side fields of another
 * dialect (unsupported); undefined when the request has neither.
 */
export function encodeHostedTools(request: CanonicalRequest, model: string, dialect: string, map: HostedToolMapper): EncodedHostedTools | undefined {
  const hosted = request.hostedTools;
  const passThrough = request.passThrough;
  const serverSide = passThrough !== undefined && passThrough.dialect !== dialect ? passThrough.serverSide : undefined;
  if (hosted === undefined && serverSide === undefined) return undefined;
  const tools: JsonObject[] = [];
  const unsupported: string[] = [];
  if (hosted !== undefined) {
    for (const tool of hosted) {
      // a cached-only search (Codex's default) has no equivalent anywhere else: live search would do more
      const encoded = tool.dialect === dialect ? tool.raw : tool.cachedOnly === true ? undefined : map(tool, request, model);
      if (encoded !== undefined) tools.push(encoded);
      else if (!unsupported.includes(tool.field)) unsupported.push(tool.field);
    }
  }
  if (serverSide !== undefined) for (const name of Object.keys(serverSide)) unsupported.push(name);
  return { tools, unsupported };
}

/** Marks what the encoder left out on the upstream request (nothing when the list is empty). */
export function withUnsupported(upstream: UpstreamRequest, hosted: EncodedHostedTools | undefined): UpstreamRequest {
  if (hosted !== undefined && hosted.unsupported.length > 0) upstream.unsupported = hosted.unsupported;
  return upstream;
}

/** Every hosted tool of another dialect is left out (a provider with none: Ollama). */
export function noHostedTool(): undefined {
  return undefined;
}

/** Whether the request has a web search the provider may run (to track what grounding needs). */
export function asksWebSearch(request: CanonicalRequest): boolean {
  const hosted = request.hostedTools;
  if (hosted === undefined) return false;
  for (const tool of hosted) if (tool.kind === 'web-search') return true;
  return false;
}
