// The key of the exact-response cache: a digest of what decides the answer, read from the
// canonical request, so the same question asked in two dialects (or with its JSON members in
// another order) is the same entry. What never changes the answer stays out: the client key
// (unless the cache is per key), the request id, `stream` (a hit is rendered either way),
// `metadata` (OpenAI's `user`, Anthropic's `metadata.user_id`: who asks, not what), the
// surface's rendering hints (`stream_options.include_usage`, …) and the fields a surface marks as
// inert (Ollama's `keep_alive`). Everything else is in, whole: messages (prompt-cache markers
// included — they are rare to differ between two otherwise equal requests, and leaving a field
// out is only safe when it can never change the answer), tools, hosted tools, tool choice,
// sampling, response format, reasoning, and the pass-through fields of the caller's dialect.
import { hash } from 'node:crypto';
import type { CanonicalRequest } from '../canonical/request.ts';
import { canonicalJson } from '../util/canonical-json.ts';

/** Bumped when what goes into a key changes, so entries of an older layout are never read. */
const KEY_VERSION = 'v1';

/**
 * The cache key of `request` on the route `route` (the name resolved, thinking suffix included);
 * `keyId` (the client key's id) only when the cache is kept apart per key.
 */
export function responseCacheKey(route: string, request: CanonicalRequest, keyId: string | undefined): string {
  const passThrough = request.passThrough;
  const answerFields = passThrough === undefined || (isEmpty(passThrough.fields) && isEmpty(passThrough.serverSide))
    ? undefined
    : { dialect: passThrough.dialect, fields: passThrough.fields, serverSide: passThrough.serverSide };
  const text = canonicalJson({
    route,
    key: keyId,
    messages: request.messages,
    tools: request.tools,
    hostedTools: request.hostedTools,
    toolChoice: request.toolChoice,
    parallelToolCalls: request.parallelToolCalls,
    sampling: request.sampling,
    responseFormat: request.responseFormat,
    reasoning: request.reasoning,
    passThrough: answerFields,
  });
  return `${KEY_VERSION}:${hash('sha256', text, 'base64url')}`;
}

function isEmpty(record: Record<string, unknown> | undefined): boolean {
  if (record === undefined) return true;
  for (const _ in record) return false;
  return true;
}
