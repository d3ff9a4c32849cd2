// Arbitraries for the fuzz suites: JSON shaped like a real request or answer (the template's own
// fields, each kept, given an arbitrary value, or dropped, plus stray fields), arbitrary JSON, and
// random chunkings of bytes. Values are produced as JSON text and parsed, so they are exactly what
// the gateway's JSON.parse hands a decoder (`__proto__` an own key, 1e400 Infinity, lone
// surrogates from \ud800 escapes).
import fc from 'fast-check';

/** Keys that trip careless reads: String() of an object with a non-callable toString, prototype names. */
const TRICKY_KEYS = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'toJSON', 'length', '0', ''];

/** Numbers as JSON text, with the edges JSON.parse turns into surprises. */
const numberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -5, max: 300 }).map(String),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((value) => JSON.stringify(value)),
  fc.constantFrom('1e400', '-1e400', '-0', '0.5', '1e-400', '9007199254740993', '-1'),
);

const stringText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'null', 'undefined', '[object Object]', 'data: [DONE]', '\n\n', 'é✓😀', '{"a":1}', '[]', 'NaN') },
).map((value) => JSON.stringify(value));

const leafText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('null', 'true', 'false'),
  numberText,
  stringText,
);

function keyArbitrary(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.constantFrom(...TRICKY_KEYS, ...known) },
  );
}

function objectText(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

function buildAnyJson(depth: number, keys: fc.Arbitrary<string>): fc.Arbitrary<string> {
  if (depth === 0) return leafText;
  const inner = buildAnyJson(depth - 1, keys);
  return fc.oneof(
    { weight: 4, arbitrary: leafText },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 4 }).map((items) => `[${items.join(',')}]`) },
    { weight: 1, arbitrary: fc.array(fc.tuple(keys, inner), { maxLength: 4 }).map(objectText) },
  );
}

/** Any JSON value, as text, nested up to three levels. */
export const anyJsonText: fc.Arbitrary<string> = buildAnyJson(3, keyArbitrary([]));

/**
 * How often a node of the template is changed. Most samples change a few fields and keep the rest
 * (so they get past validation and reach the deep code); some change many.
 */
interface Rates {
  keep: number;
  /** A value of the template's own type (another string, another number). */
  variant: number;
  any: number;
  drop: number;
  /** Arrays: rebuilt from the template's elements in any number and order, instead of kept in order. */
  rebuild: number;
}
const LIGHT: Rates = { keep: 60, variant: 2, any: 1, drop: 1, rebuild: 1 };
const HEAVY: Rates = { keep: 8, variant: 2, any: 1, drop: 1, rebuild: 2 };

/** A JSON value shaped like `template`, as text. */
export function shapedJsonText(template: unknown): fc.Arbitrary<string> {
  const keys = keyArbitrary([...collectKeys(template, new Set())].slice(0, 40));
  const any = buildAnyJson(2, keys);
  return fc.oneof(
    { weight: 3, arbitrary: shape(template, keys, any, LIGHT) },
    { weight: 1, arbitrary: shape(template, keys, any, HEAVY) },
  );
}

/** A JSON value shaped like `template`, parsed. */
export function shapedJson(template: unknown): fc.Arbitrary<unknown> {
  return shapedJsonText(template).map((text) => JSON.parse(text) as unknown);
}

function collectKeys(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const item of value) collectKeys(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      into.add(key);
      collectKeys(child, into);
    }
  }
  return into;
}

function shape(template: unknown, keys: fc.Arbitrary<string>, any: fc.Arbitrary<string>, rates: Rates): fc.Arbitrary<string> {
  if (Array.isArray(template)) {
    const shaped = template.map((item) => shape(item, keys, any, rates));
    const element = shaped.length === 0 ? any : fc.oneof({ weight: 6, arbitrary: fc.oneof(...shaped) }, { weight: 1, arbitrary: any });
    return fc.oneof(
      { weight: rates.keep, arbitrary: fc.tuple(...shaped).map((items) => `[${items.join(',')}]`) },
      { weight: rates.rebuild, arbitrary: fc.array(element, { maxLength: Math.min(template.length + 2, 6) }).map((items) => `[${items.join(',')}]`) },
      { weight: rates.any, arbitrary: any },
    );
  }
  if (template !== null && typeof template === 'object') {
    const fields = Object.entries(template).map(([key, child]) => fc.oneof(
      { weight: rates.keep, arbitrary: shape(child, keys, any, rates).map((text) => [key, text] as const) },
      { weight: rates.any, arbitrary: any.map((text) => [key, text] as const) },
      { weight: rates.drop, arbitrary: fc.constant(undefined) },
    ));
    const extra = fc.oneof({ weight: rates.keep, arbitrary: fc.constant([]) }, { weight: rates.any + rates.drop, arbitrary: fc.array(fc.tuple(keys, any), { minLength: 1, maxLength: 2 }) });
    return fc.oneof(
      {
        weight: rates.keep,
        arbitrary: fc.tuple(fc.tuple(...fields), extra).map(([kept, stray]) => objectText([
          ...kept.filter((entry): entry is readonly [string, string] => entry !== undefined),
          ...stray,
        ])),
      },
      { weight: rates.any, arbitrary: any },
    );
  }
  const same = JSON.stringify(template);
  const variants: fc.Arbitrary<string>[] = [];
  if (typeof template === 'string') {
    variants.push(stringText);
    const inner = parseJsonObject(template);
    // a string that holds JSON (tool arguments): shape what it holds too
    if (inner !== undefined) variants.push(shape(inner, keys, any, rates).map((text) => JSON.stringify(text)));
  } else if (typeof template === 'number') {
    variants.push(numberText);
  }
  return fc.oneof(
    { weight: rates.keep, arbitrary: fc.constant(same) },
    ...variants.map((arbitrary) => ({ weight: rates.variant, arbitrary })),
    { weight: rates.any, arbitrary: any },
  );
}

function parseJsonObject(text: string): unknown {
  if (!text.startsWith('{') && !text.startsWith('[')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Cut points for a buffer of any length: positions are taken modulo the length. */
export const cuts: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 12 });

/** `bytes` split at `points` (modulo its length), every byte kept, in order; empty pieces included. */
export function chunked(bytes: Buffer, points: readonly number[]): Buffer[] {
  if (bytes.length === 0) return [bytes];
  const at = [...new Set(points.map((point) => point % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of at) {
    pieces.push(bytes.subarray(start, point));
    start = point;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

/** How many runs a property gets: modest, so the whole fuzz folder stays quick on a loaded machine. */
export const RUNS = { light: 300, medium: 120, heavy: 40 } as const;
