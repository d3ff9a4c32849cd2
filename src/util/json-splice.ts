// A JSON object's top-level string member found in the request's bytes without parsing them
// again, and a byte-level splice of it: a pass-through request whose model name changes is neither
// re-parsed nor re-serialised (bodies from coding agents run to hundreds of kilobytes), and one
// that writes the member twice is refused — JSON.parse keeps the last `"model"`, other parsers the
// first, so the provider could bill another model than the one the gateway routed and allowed.
//
// Cost, by bench/micro/json-top-level.ts on a 265 kB request shaped like Claude Code's after a
// long session (its 24 tools — one with a nested "model" property — and 200 turns of tool calls
// and file contents), median CPU time per call as a share of JSON.parse of the same text (0.6 to
// 0.9 ms on the shared 2-core machine): the quick path (two native Buffer searches and a look at
// each hit), which every recorded client's request takes, 6-8 %; the exact scan, taken only when
// the quick path cannot decide (the top-level model is not the first "model" member, several hold
// its value, or keys or values are written with escapes), 31-34 % (one indexOf per string, the
// failed quick look included); the splice itself 4-5 % (a copy of the body), 53 % when the exact
// scan found the member (its byte offset is counted through the text). The character scan and
// text re-encoding the splice replaced cost 354 % of JSON.parse per renamed attempt.

import { closingQuote, isEscaped, isJsonSpace } from './json-scan.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** [start, end) of a value, its quotes included. */
export type Span = readonly [number, number];

export interface TopLevelString {
  /** The key appears more than once at the top level (written literally or with escapes). */
  duplicate: boolean;
  /** Where its string value is in the body's bytes (found by the quick path). */
  span: Span | undefined;
  /** Where its string value is in the decoded text (found by the exact scan; `span` is then derived from it). */
  chars: Span | undefined;
}

/**
 * Where the top-level member `key` of a JSON object is, and whether it is written twice. `body` is
 * the object's bytes (valid JSON), `text` the same decoded, `value` what JSON.parse made of the
 * member (a string: routing has checked it).
 */
export function findTopLevelString(body: Buffer, text: string, key: string, value: string): TopLevelString {
  const found = quickFind(body, key, value) ?? exactFind(text, key);
  // the exact scan's place in the text becomes a place in the bytes now (rare), so that a later
  // splice needs only the bytes and the request's decoded text need not be kept
  const chars = found.chars;
  if (found.span === undefined && chars !== undefined) {
    const start = Buffer.byteLength(text.slice(0, chars[0]), 'utf8');
    const old = Buffer.from(text.slice(chars[0], chars[1]), 'utf8');
    if (body.subarray(start, start + old.length).equals(old)) found.span = [start, start + old.length];
  }
  return found;
}

/**
 * The common case, decided from a few native searches of the bytes instead of a walk over every
 * string. The last top-level `key` holds `value` (JSON.parse keeps the last). If exactly one `key`
 * member in the whole text holds `value` written plainly, and no `key` member comes before it, then
 * that one is the top-level member and no copy precedes it — so there is none. Anything less clear
 * (escapes in the key's letters or in a value, the member not first, several holding the value)
 * returns undefined: the exact scan decides.
 */
function quickFind(body: Buffer, key: string, value: string): TopLevelString | undefined {
  // a key can be written with escapes (`"mod\u0065l"`); then only the exact scan can tell
  for (const probe of escapeProbes(key)) {
    for (let hit = body.indexOf(probe); hit >= 0; hit = body.indexOf(probe, hit + 1)) {
      if (body[hit - 1] === 0x75 /* u */ && body[hit - 2] === BACKSLASH) return undefined;
    }
  }
  // a value decoded from bytes that were not UTF-8 does not encode back to them
  if (value.includes('\ufffd')) return undefined;
  const wanted = Buffer.from(JSON.stringify(value), 'utf8');
  const needle = `${key}"`;
  let members = 0;
  let found: Span | undefined;
  for (let hit = body.indexOf(needle); hit >= 0; hit = body.indexOf(needle, hit + needle.length)) {
    // `"key"` as a whole string (an opening quote is never escaped; a closing one is never followed by a letter)
    const open = hit - 1;
    if (body[open] !== QUOTE || isEscaped(body, open)) continue;
    let at = hit + needle.length;
    while (isJsonSpace(body[at])) at++;
    if (body[at] !== COLON) continue; // the string "key" as a value, not a member
    members++;
    at++;
    while (isJsonSpace(body[at])) at++;
    if (body[at] !== QUOTE) continue;
    const end = closingQuote(body, at);
    if (end < 0) return undefined;
    if (body.subarray(at, end).includes(BACKSLASH)) return undefined; // an escaped value may hold `value` in another spelling
    if (end + 1 - at !== wanted.length || !body.subarray(at, end + 1).equals(wanted)) continue;
    if (found !== undefined || members !== 1) return undefined;
    found = [at, end + 1];
  }
  return found === undefined ? undefined : { duplicate: false, span: found, chars: undefined };
}

const probes = new Map<string, string[]>();

/**
 * What a `\uXXXX` escape of one of an ASCII key's characters contains: `00` and its first hex
 * digit (`006` for every letter of `model`) — searched for rather than `\u`, far more common.
 */
function escapeProbes(key: string): string[] {
  let found = probes.get(key);
  if (found === undefined) {
    found = [...new Set(Array.from(key, (char) => `00${(char.charCodeAt(0) >> 4).toString(16)}`))];
    probes.set(key, found);
  }
  return found;
}

/** Which string the key at [start, end] (its quotes) of `text` names, decoded only when it holds escapes. */
function keyIs(text: string, start: number, end: number, key: string): boolean {
  if (end - start - 1 === key.length && text.startsWith(key, start + 1)) return true;
  for (let i = start + 1; i < end; i++) {
    if (text.charCodeAt(i) === BACKSLASH) return JSON.parse(text.slice(start, end + 1)) === key;
  }
  return false;
}

/**
 * Every top-level member of the object, in one pass: nested values are walked only for their
 * brackets and strings, and each string is skipped with one indexOf for its closing quote.
 */
function exactFind(text: string, key: string): TopLevelString {
  const length = text.length;
  let i = 0;
  while (isJsonSpace(text.charCodeAt(i))) i++;
  const result: TopLevelString = { duplicate: false, span: undefined, chars: undefined };
  if (text.charCodeAt(i) !== OPEN_BRACE) return result;
  let depth = 0;
  let expectKey = false;
  let seen = false;
  /** The next top-level value is the member's. */
  let pending = false;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      const end = closingQuote(text, i);
      if (end < 0) break;
      if (expectKey) {
        expectKey = false;
        pending = keyIs(text, i, end, key);
        if (pending) {
          if (seen) {
            result.duplicate = true;
            return result;
          }
          seen = true;
        }
      } else if (pending && depth === 1) {
        result.chars = [i, end + 1];
        pending = false;
      }
      i = end;
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      pending = false;
      expectKey = code === OPEN_BRACE && depth === 1;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    } else if (code === COMMA && depth === 1) {
      expectKey = true;
      pending = false;
    }
  }
  return result;
}

/**
 * The body with the top-level string `member` (from findTopLevelString) replaced by `value`: the
 * bytes around it are copied as they are. When its place in the bytes is unknown (or the body is
 * not clean UTF-8, so the text's offsets do not map onto it), the parsed body is re-serialised.
 */
export function replaceTopLevelString(body: Buffer, member: TopLevelString | undefined, parsed: Record<string, unknown>, key: string, value: string): Buffer {
  const span = member?.span;
  if (span === undefined) return Buffer.from(JSON.stringify({ ...parsed, [key]: value }), 'utf8');
  return Buffer.concat([body.subarray(0, span[0]), Buffer.from(JSON.stringify(value), 'utf8'), body.subarray(span[1])]);
}
