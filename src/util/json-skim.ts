// A JSON body read without parsing it whole: one pass over the bytes checks its structure and
// notes where each top-level member's value lies, then only the members a reader asks for are
// decoded. A pass-through request goes upstream as its bytes; routing needs `model`, `stream` and a
// handful of small fields, while agents' bodies (their whole conversation and tool definitions) run
// to a megabyte. Nothing is allocated for what is skipped; JSON.parse runs only when something
// needs the whole value (translation, the response cache), and gives its own verdict then.
//
// The verdict is JSON's grammar exactly outside strings — bytes that are not ASCII, a byte-order
// mark, a stray comma or a bad number are refused where JSON.parse refuses them — and each
// string's extent as every parser finds it; the characters inside a string are checked only when
// it is decoded (top-level keys, the members asked for). Text JSON.parse accepts is always
// accepted, with the same members. Nesting has no limit (an explicit stack, one bit per open
// container, as describeJsonErrorPosition keeps).
import { ContainerStack } from './container-stack.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** Bytes of a string looked at in JavaScript before the native search takes over. */
const SHORT_STRING = 24;

/** What a value is, read from its first byte. */
export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

/**
 * What a reader wants of an object: a member's whole `value`, only its `kind` (a string or object
 * is then given as an empty one of its kind, `''` or `{}`; a list as `[]` when it is empty and as
 * `[undefined]` when it is not; a number, boolean or null as itself), or a nested shape (an object is skimmed with it; an array is given element by element,
 * each object element skimmed with it, anything else as its kind).
 */
export interface JsonShape {
  readonly [key: string]: 'value' | 'kind' | JsonShape;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/**
 * A JSON text checked whole, with its top-level object's members located (key, value span). A
 * member written twice is listed twice, in order (JSON.parse keeps the last).
 */
export class SkimmedJson {
  readonly bytes: Buffer;
  /** Whether JSON.parse would accept the text. */
  readonly valid: boolean;
  /** Byte offset where the text stops being valid JSON (-1 when it is valid). */
  readonly errorAt: number;
  /** The kind of the whole value (undefined when the text is not valid). */
  readonly kind: JsonKind | undefined;
  /** The top-level members' keys, in order (empty unless the value is an object). */
  readonly keys: string[] = [];
  /** [start, end) of each member's value, two numbers per member. */
  readonly spans: number[] = [];

  constructor(bytes: Buffer) {
    this.bytes = bytes;
    const errorAt = this.scan();
    this.valid = errorAt < 0;
    this.errorAt = errorAt;
    this.kind = this.valid ? kindAt(bytes, firstNonSpace(bytes, 0)) : undefined;
  }

  /** Index of the last top-level member named `key`, or -1. */
  indexOf(key: string): number {
    return this.keys.lastIndexOf(key);
  }

  /** How many times `key` is written at the top level. */
  count(key: string): number {
    let count = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] === key) count++;
    return count;
  }

  /** [start, end) of the last top-level `key`'s value in the bytes, or undefined. */
  span(key: string): readonly [number, number] | undefined {
    const index = this.indexOf(key);
    return index < 0 ? undefined : [this.spans[2 * index]!, this.spans[2 * index + 1]!];
  }

  /** The last top-level `key`'s value as JSON.parse gives it, or undefined when absent. */
  value(key: string): unknown {
    const index = this.indexOf(key);
    return index < 0 ? undefined : decodeValue(this.bytes, this.spans[2 * index]!, this.spans[2 * index + 1]!);
  }

  /**
   * The top-level object as `shape` reads it: only its members, each as the shape says (the text
   * must be valid and an object). Members are set in the order written, the last copy winning.
   */
  skim(shape: JsonShape): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[i]!;
      const wanted = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (wanted !== undefined) define(result, key, this.read(this.spans[2 * i]!, this.spans[2 * i + 1]!, wanted));
    }
    return result;
  }

  /** Just past the object skimObject read last. */
  private skimmedEnd = 0;
  /** The top-level member being read: its key and where its value starts. */
  private memberKey = '';
  private memberStart = -1;

  /**
   * One pass over the whole text, without recursion; returns where it stops being valid, or -1.
   * Records each top-level member (depth 1 of an object) as its value ends.
   */
  private scan(): number {
    const bytes = this.bytes;
    const length = bytes.length;
    const open = new ContainerStack();
    let at = firstNonSpace(bytes, 0);
    for (;;) {
      // a value is expected at `at`
      if (at >= length) return at;
      const code = bytes[at]!;
      if (code === OPEN_BRACE || code === OPEN_BRACKET) {
        const isObject = code === OPEN_BRACE;
        at = firstNonSpace(bytes, at + 1);
        if (bytes[at] === (isObject ? CLOSE_BRACE : CLOSE_BRACKET)) {
          at++;
        } else {
          open.push(isObject);
          if (isObject) {
            at = this.key(at, open.depth === 1);
            if (at < 0) return ~at;
          }
          continue;
        }
      } else if (code === QUOTE) {
        at = this.stringEnd(at);
        if (at < 0) return ~at;
      } else if (code === 0x74 /* t */) {
        if (bytes[at + 1] !== 0x72 || bytes[at + 2] !== 0x75 || bytes[at + 3] !== 0x65) return literalError(bytes, at, 'true');
        at += 4;
      } else if (code === 0x66 /* f */) {
        if (bytes[at + 1] !== 0x61 || bytes[at + 2] !== 0x6c || bytes[at + 3] !== 0x73 || bytes[at + 4] !== 0x65) return literalError(bytes, at, 'false');
        at += 5;
      } else if (code === 0x6e /* n */) {
        if (bytes[at + 1] !== 0x75 || bytes[at + 2] !== 0x6c || bytes[at + 3] !== 0x6c) return literalError(bytes, at, 'null');
        at += 4;
      } else {
        at = numberEnd(bytes, at);
        if (at < 0) return ~at;
      }
      // a value ended at `at`: close what ends here, then a comma leads to the next value
      for (;;) {
        if (open.depth === 1 && open.top) {
          this.keys.push(this.memberKey);
          this.spans.push(this.memberStart, at);
        }
        at = firstNonSpace(bytes, at);
        if (open.depth === 0) return at === length ? -1 : at;
        const next = bytes[at];
        const inObject = open.top;
        if (next === COMMA) {
          at = firstNonSpace(bytes, at + 1);
          if (inObject) {
            at = this.key(at, open.depth === 1);
            if (at < 0) return ~at;
          }
          break;
        }
        if (next !== (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) return at;
        at++;
        open.pop();
      }
    }
  }

  /**
   * `"name" :` of an object member at `at`, and the white space after it; returns where the
   * value starts, or ~(error position). A top-level key is decoded and its value's start kept.
   */
  private key(at: number, topLevel: boolean): number {
    const bytes = this.bytes;
    if (bytes[at] !== QUOTE) return ~at;
    const end = this.stringEnd(at);
    if (end < 0) return end;
    let next = firstNonSpace(bytes, end);
    if (bytes[next] !== COLON) return ~next;
    next = firstNonSpace(bytes, next + 1);
    if (topLevel) {
      try {
        this.memberKey = decodeString(bytes, at, end);
      } catch {
        return ~at; // a key the gateway reads must be a valid string
      }
      this.memberStart = next;
    }
    return next;
  }

  /**
   * Just past the string opened at `start`, or ~(error position): its closing quote is found with
   * native searches (an agent's body is mostly strings — file contents, tool output — and crossing
   * them byte by byte in JavaScript cost more than JSON.parse itself). What lies between the quotes
   * is not checked: a string the gateway does not read is the same-dialect upstream's to judge, and
   * one it reads is decoded exactly (decodeString). A string's end is where every parser that
   * accepts the text finds it (the first quote after an even run of backslashes); text on which a
   * parser would find another end (a `\u` escape short of its four hex digits) is text every strict
   * parser refuses — the upstream's parser included, which then answers 400 for it.
   */
  private stringEnd(start: number): number {
    const bytes = this.bytes;
    // most strings are short (keys, roles, types): looked at here, a native call costs more
    const near = Math.min(start + SHORT_STRING, bytes.length);
    for (let at = start + 1; at < near; at++) {
      const code = bytes[at];
      if (code === QUOTE) return at + 1;
      if (code === BACKSLASH) break; // an escape: the native search and the backslash count below
    }
    let at = start;
    for (;;) {
      at = bytes.indexOf(QUOTE, at + 1);
      if (at < 0) return ~bytes.length;
      let slashes = 0;
      while (bytes[at - 1 - slashes] === BACKSLASH) slashes++;
      if ((slashes & 1) === 0) return at + 1;
    }
  }

  /** Reads one member's value as a shape entry asks. */
  private read(start: number, end: number, wanted: 'value' | 'kind' | JsonShape): unknown {
    const bytes = this.bytes;
    if (wanted === 'value') return decodeValue(bytes, start, end);
    const kind = kindAt(bytes, start);
    if (wanted === 'kind' || (kind !== 'object' && kind !== 'array')) return standIn(bytes, start, end, kind);
    if (kind === 'object') return this.skimObject(start, wanted);
    const elements: unknown[] = [];
    let at = firstNonSpace(bytes, start + 1);
    if (bytes[at] === CLOSE_BRACKET) return elements;
    for (;;) {
      if (kindAt(bytes, at) === 'object') {
        elements.push(this.skimObject(at, wanted));
        at = firstNonSpace(bytes, this.skimmedEnd);
      } else {
        const elementEnd = this.skipValue(at);
        elements.push(standIn(bytes, at, elementEnd, kindAt(bytes, at)));
        at = firstNonSpace(bytes, elementEnd);
      }
      if (bytes[at] !== COMMA) return elements;
      at = firstNonSpace(bytes, at + 1);
    }
  }

  /** A nested object (already validated) as `shape` reads it. */
  private skimObject(start: number, shape: JsonShape): Record<string, unknown> {
    const bytes = this.bytes;
    const result: Record<string, unknown> = {};
    let at = firstNonSpace(bytes, start + 1);
    if (bytes[at] === CLOSE_BRACE) {
      this.skimmedEnd = at + 1;
      return result;
    }
    for (;;) {
      const keyEnd = this.stringEnd(at);
      const key = decodeString(bytes, at, keyEnd);
      const valueStart = firstNonSpace(bytes, firstNonSpace(bytes, keyEnd) + 1);
      const valueEnd = this.skipValue(valueStart);
      const wanted = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (wanted !== undefined) define(result, key, this.read(valueStart, valueEnd, wanted));
      at = firstNonSpace(bytes, valueEnd);
      if (bytes[at] !== COMMA) {
        this.skimmedEnd = at + 1; // past its `}`
        return result;
      }
      at = firstNonSpace(bytes, at + 1);
    }
  }

  /** Where a valid value starting at `at` ends (the text was validated: strings skipped natively). */
  private skipValue(at: number): number {
    const bytes = this.bytes;
    const code = bytes[at];
    if (code === QUOTE) return this.stringEnd(at);
    if (code !== OPEN_BRACE && code !== OPEN_BRACKET) {
      let end = at + 1;
      for (; end < bytes.length; end++) {
        const next = bytes[end]!;
        if (next === COMMA || next === CLOSE_BRACE || next === CLOSE_BRACKET || isSpace(next)) break;
      }
      return end;
    }
    let depth = 0;
    for (let i = at; i < bytes.length; i++) {
      const byte = bytes[i];
      if (byte === QUOTE) i = this.stringEnd(i) - 1;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return bytes.length;
  }
}

/** Sets a member as JSON.parse does: an own data property, `__proto__` included. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** A value given only by its kind: an empty string, array or object, or the scalar itself. */
function standIn(bytes: Buffer, start: number, end: number, kind: JsonKind | undefined): unknown {
  switch (kind) {
    case 'string': return '';
    case 'array': return bytes[firstNonSpace(bytes, start + 1)] === CLOSE_BRACKET ? [] : [undefined];
    case 'object': return {};
    default: return decodeValue(bytes, start, end);
  }
}

function kindAt(bytes: Buffer, at: number): JsonKind | undefined {
  switch (bytes[at]) {
    case OPEN_BRACE: return 'object';
    case OPEN_BRACKET: return 'array';
    case QUOTE: return 'string';
    case 0x74: case 0x66: return 'boolean';
    case 0x6e: return 'null';
    case undefined: return undefined;
    default: return 'number';
  }
}

/** A valid value's bytes as JSON.parse gives them; a plain string without the detour through JSON.parse. */
function decodeValue(bytes: Buffer, start: number, end: number): unknown {
  if (bytes[start] === QUOTE) return decodeString(bytes, start, end);
  return JSON.parse(bytes.toString('utf8', start, end));
}

/** A string token [start, end) (its quotes included), decoded as JSON.parse decodes it (or throws as it does). */
function decodeString(bytes: Buffer, start: number, end: number): string {
  for (let i = start + 1; i < end - 1; i++) {
    const code = bytes[i]!;
    if (code === BACKSLASH || code < 0x20) return JSON.parse(bytes.toString('utf8', start, end)) as string;
  }
  return bytes.toString('utf8', start + 1, end - 1);
}

function firstNonSpace(bytes: Buffer, at: number): number {
  while (at < bytes.length && isSpace(bytes[at]!)) at++;
  return at;
}


/** Just past the number starting at `at` (JSON's grammar), or ~(error position). */
function numberEnd(bytes: Buffer, at: number): number {
  if (bytes[at] === MINUS) at++;
  const first = bytes[at];
  if (first === ZERO) at++;
  else if (first !== undefined && first > ZERO && first <= NINE) at = digitsEnd(bytes, at);
  else return ~at;
  if (bytes[at] === DOT) {
    const end = digitsEnd(bytes, at + 1);
    if (end === at + 1) return ~end;
    at = end;
  }
  if ((bytes[at]! | 0x20) === 0x65 /* e */) {
    at++;
    if (bytes[at] === PLUS || bytes[at] === MINUS) at++;
    const end = digitsEnd(bytes, at);
    if (end === at) return ~end;
    at = end;
  }
  return at;
}

function digitsEnd(bytes: Buffer, at: number): number {
  while (at < bytes.length && bytes[at]! >= ZERO && bytes[at]! <= NINE) at++;
  return at;
}

function literalError(bytes: Buffer, at: number, word: string): number {
  for (let i = 0; i < word.length; i++) if (bytes[at + i] !== word.charCodeAt(i)) return at + i;
  return at;
}
