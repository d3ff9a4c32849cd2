// Byte-level reading of JSON text the gateway does not parse whole: the top-level members of a
// request (json-splice.ts), a usage object cut out of pass-through bytes (streaming/usage-sniffer.ts).
// Each string is skipped with one native indexOf for its closing quote, not byte by byte.

const BACKSLASH = 0x5c;
const QUOTE = 0x22;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** JSON's insignificant white space: space, line feed, carriage return, tab. */
export function isJsonSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Whether the quote at `index` is escaped (an odd run of backslashes before it). */
export function isEscaped(bytes: Buffer | string, index: number): boolean {
  let slashes = 0;
  if (typeof bytes === 'string') while (bytes.charCodeAt(index - 1 - slashes) === BACKSLASH) slashes++;
  else while (bytes[index - 1 - slashes] === BACKSLASH) slashes++;
  return (slashes & 1) === 1;
}

/** Index of the quote closing the string that opens at `start`, or -1. */
export function closingQuote(bytes: Buffer | string, start: number): number {
  let end = start;
  for (;;) {
    end = bytes.indexOf('"', end + 1);
    if (end < 0 || !isEscaped(bytes, end)) return end;
  }
}

/** Index just past the `}` closing the object opened at `start`, or -1 when it is cut off. */
export function objectEnd(bytes: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) {
      i = closingQuote(bytes, i);
      if (i < 0) return -1;
    } else if (byte === OPEN_BRACE) {
      depth++;
    } else if (byte === CLOSE_BRACE) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
