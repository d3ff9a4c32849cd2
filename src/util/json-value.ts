// Narrowing of parsed JSON from clients and upstreams, where any field may hold any value. The
// decoders read fields through these instead of String(), `??` and `for…of` on trust: String()
// throws on an object whose `toString` key is not a function (`{"toString": 1}`), a count may be
// negative, a string or 1e400 (Infinity), and a list may be a number.

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A line of JSON output that holds an object; undefined for anything else (a stray log line, a list). */
export function objectFromLine(line: string): JsonObject | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return isObject(value) ? value : undefined;
}

/** The value if it is a JSON object, else undefined: for reading nested fields with `?.`. */
export function objectFrom(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** A string field, else undefined. */
export function stringFrom(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The first item of a list, else undefined (for `choices[0]`, `candidates[0]`). */
export function firstOf(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : undefined;
}

/** What a JSON value is, for a message that says what was expected instead: `a string`, `an array`, `null`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Text from a JSON field: a string as it is, a number or boolean as written, anything else `fallback`. */
export function textFrom(value: unknown, fallback = ''): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return fallback;
}

/** A token count from an answer: a whole number from 0 to 2^53 − 1, else undefined. */
export function countFrom(value: unknown): number | undefined {
  if (typeof value !== 'number' || !(value >= 0) || value > Number.MAX_SAFE_INTEGER) return undefined;
  return Math.round(value);
}

/** A finite number, else undefined (JSON's 1e400 parses to Infinity). */
export function finiteFrom(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A list from an answer where the list is optional: the array, or an empty one for anything else. */
export function listFrom(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : NO_ITEMS;
}

const NO_ITEMS: readonly unknown[] = Object.freeze([]);

/** A JSON value as a message shows it: a string as it is, anything else as JSON, cut to `max` characters. */
export function shown(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = typeof value;
    }
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** An array of strings, else undefined. */
export function stringsFrom(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every(isString) ? value : undefined;
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** An array of finite numbers (an embedding), else undefined. */
export function numbersFrom(value: unknown): number[] | undefined {
  return Array.isArray(value) && value.every(isFiniteNumber) ? value : undefined;
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
