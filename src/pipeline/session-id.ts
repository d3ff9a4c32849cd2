// The session a request belongs to (for affinity, and for an auto alias's tier): the configured
// session header, else the built-in ones, else the body's `prompt_cache_key` or Anthropic's
// `metadata.user_id`. A long id (a client's choice, up to the body limit) is kept as its digest.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { headerValue } from '../util/header-value.ts';
import type { RequestPayload } from './request-body.ts';

/** Session ids longer than this are pinned by their SHA-256 digest, so 50,000 pins stay small. */
const SESSION_ID_KEPT = 256;
/** Built-in session headers, most specific first. */
const SESSION_HEADERS = ['x-session-id', 'x-claude-code-session-id', 'session-id'];

export function sessionIdOf(headers: IncomingHttpHeaders, configuredHeader: string | undefined, payload: RequestPayload): string | undefined {
  let found: string | undefined;
  if (configuredHeader !== undefined) found = headerValue(headers, configuredHeader) || undefined;
  for (let i = 0; found === undefined && i < SESSION_HEADERS.length; i++) found = headerValue(headers, SESSION_HEADERS[i]!) || undefined;
  if (found === undefined) {
    const cacheKey = payload.member('prompt_cache_key');
    if (typeof cacheKey === 'string' && cacheKey !== '') found = cacheKey;
    else {
      const metadata = payload.member('metadata') as { user_id?: unknown } | null | undefined;
      if (metadata !== null && typeof metadata === 'object' && typeof metadata.user_id === 'string' && metadata.user_id !== '') found = metadata.user_id;
    }
  }
  if (found !== undefined && found.length > SESSION_ID_KEPT) found = createHash('sha256').update(found).digest('base64url');
  return found;
}
