// Response header values the gateway writes may carry what a client or an upstream chose (a model
// name echoed in `x-switchyard-model`, an upstream's content type or retry-after). Node refuses —
// throws on — any value with a character outside tab and Latin-1 minus controls, so every value is
// made safe here, once, before a response head is written. Reading one is here too: the first
// value of a header Node may give as a list.

/** Visible ASCII, space and tab: written as is (nearly every value, tested first). */
const PLAIN = /^[\t\x20-\x7e]*$/;
/** What an encoded value escapes: everything but visible ASCII and space, and `%` itself. */
const UNSAFE = /[^\x20-\x24\x26-\x7e]/gu;

/**
 * `value` as a header value that cannot make Node throw. Visible ASCII stays as it is; a value with
 * anything else is percent-encoded as UTF-8 (`模型` → `%E6%A8%A1%E5%9E%8B`, `%` → `%25`), so
 * `decodeURIComponent` gives the original back. A lone surrogate becomes U+FFFD.
 */
export function headerSafe(value: string): string {
  if (PLAIN.test(value)) return value;
  return value.toWellFormed().replace(UNSAFE, encodeURIComponent);
}

/** Makes every value of a flat name/value header list safe, in place. */
export function makeHeadersSafe(headers: string[]): string[] {
  for (let i = 1; i < headers.length; i += 2) {
    const value = headers[i]!;
    if (!PLAIN.test(value)) headers[i] = headerSafe(value);
  }
  return headers;
}

/** The first value of a request or response header (Node gives a list for a repeated one), if any. */
export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
