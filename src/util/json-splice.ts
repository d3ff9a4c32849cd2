// Byte-cheap edits of a JSON object's top-level string field, so a pass-through request whose
// model name changes is not parsed and re-serialised as a whole (bodies from coding agents run to
// hundreds of kilobytes).

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

function skipString(text: string, start: number): number {
  // start points at the opening quote; returns the index after the closing quote
  let i = start + 1;
  const length = text.length;
  while (i < length) {
    const code = text.charCodeAt(i);
    if (code === BACKSLASH) i += 2;
    else if (code === QUOTE) return i + 1;
    else i++;
  }
  return -1;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * Finds the value span of a top-level key whose value is a string: [start, end) covering the
 * quotes. Returns undefined when the key is absent, not a string, or the text is not an object.
 */
export function findTopLevelStringField(text: string, key: string): [number, number] | undefined {
  const wanted = JSON.stringify(key);
  let i = 0;
  const length = text.length;
  while (i < length && isSpace(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  let depth = 0;
  let expectKey = false;
  let found: [number, number] | undefined;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = skipString(text, i);
      if (end < 0) return undefined;
      if (depth === 1 && expectKey) {
        const isWanted = end - i === wanted.length && text.startsWith(wanted, i);
        let j = end;
        while (j < length && isSpace(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) !== COLON) return undefined;
        j++;
        while (j < length && isSpace(text.charCodeAt(j))) j++;
        if (isWanted) {
          if (text.charCodeAt(j) !== QUOTE) return undefined;
          const valueEnd = skipString(text, j);
          if (valueEnd < 0) return undefined;
          // JSON.parse keeps the last duplicate; so do we.
          found = [j, valueEnd];
          i = valueEnd - 1;
        } else {
          i = j - 1;
        }
        expectKey = false;
        continue;
      }
      i = end - 1;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      expectKey = code === OPEN_BRACE && depth === 1;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    } else if (code === 0x2c /* , */ && depth === 1) {
      expectKey = true;
    }
  }
  return found;
}

/** Returns the body with a top-level string field set to `value`, preferring a splice. */
export function replaceTopLevelString(body: Buffer, parsed: Record<string, unknown>, key: string, value: string): Buffer {
  const text = body.toString('utf8');
  const span = findTopLevelStringField(text, key);
  if (span !== undefined && JSON.parse(text.slice(span[0], span[1])) === parsed[key]) {
    return Buffer.from(text.slice(0, span[0]) + JSON.stringify(value) + text.slice(span[1]), 'utf8');
  }
  return Buffer.from(JSON.stringify({ ...parsed, [key]: value }), 'utf8');
}
