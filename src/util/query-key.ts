// A client key may come as `?key=`. Auth reads it and providers that forward the client's query
// (Anthropic's `?beta=true`, Gemini's `?alt=sse`) drop it, and both must see the same parameter
// names: decoded, as URLSearchParams decodes them, so `?%6bey=` or `?k%65y=` is the key for both
// and can never reach a provider's URL.

/** The query parameter auth reads a client key from (its decoded name). */
export const KEY_PARAMETER = 'key';

/** The client key sent as `?key=` (first one, decoded), if any. */
export function queryKey(query: string): string | undefined {
  if (query.length === 0) return undefined;
  const value = new URLSearchParams(query).get(KEY_PARAMETER);
  return value !== null && value.length > 0 ? value : undefined;
}

/**
 * Whether a raw `name` (still percent-encoded) names the key parameter. Auth accepts only `key`;
 * any case of it is dropped here too, since forwarding a possible secret to a provider costs more
 * than dropping a parameter no provider defines.
 */
function isKeyName(raw: string): boolean {
  let name = raw;
  if (raw.includes('%') || raw.includes('+')) {
    // decoded exactly as auth decodes it (invalid escapes kept as they are)
    const first = new URLSearchParams(`${raw}=`).keys().next();
    name = first.done === true ? '' : first.value;
  }
  return name.length === KEY_PARAMETER.length && name.toLowerCase() === KEY_PARAMETER;
}

/**
 * The query without any key parameter, the rest kept byte for byte (so `beta=true` reaches the
 * provider exactly as the client wrote it).
 */
export function withoutQueryKey(query: string): string {
  if (query.length === 0) return query;
  const pairs = query.split('&');
  let kept = 0;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i]!;
    const equals = pair.indexOf('=');
    if (!isKeyName(equals < 0 ? pair : pair.slice(0, equals))) pairs[kept++] = pair;
  }
  if (kept === pairs.length) return query;
  pairs.length = kept;
  return pairs.join('&');
}
