// Config problems: a YAML path, a 1-based line/column found through the parsed document, and a
// message written for the person editing the file (TypeBox's own texts name JSON-schema keywords).
import { type TSchema } from '@sinclair/typebox';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { closestNames, editDistance } from '../util/closest.ts';
import type { PathSegment } from './interpolate.ts';
import { errorMessageOf } from './schema.ts';

export { ConfigError, formatProblems, type ConfigProblem } from './config-error.ts';
import type { ConfigProblem } from './config-error.ts';

/** A problem before its position is looked up. `key` points at the mapping key, not the value. */
export interface PendingProblem {
  path: PathSegment[];
  message: string;
  key?: boolean;
  /** Known source offset (YAML and interpolation errors); otherwise the path is looked up. */
  offset?: number;
}

/** `switchyard.yaml:12:5  providers[0].type: …`, one line per problem. */
const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

export function formatPath(path: readonly PathSegment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** JSON pointer (`/providers/0/base_url`) → segments, with indexes as numbers where `value` has arrays. */
export function pointerToPath(pointer: string, value: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let current = value;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(segment);
      path.push(index);
      current = current[index];
    } else {
      path.push(segment);
      current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

export class Locator {
  private readonly doc: Document | undefined;
  private readonly lineCounter: LineCounter;

  constructor(doc: Document | undefined, lineCounter: LineCounter) {
    this.doc = doc;
    this.lineCounter = lineCounter;
  }

  position(offset: number): { line: number; column: number } {
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  /** The node at `path`; when absent, the nearest ancestor that exists. */
  locate(path: readonly PathSegment[], key = false): { line?: number; column?: number } {
    let node: unknown = this.doc?.contents;
    for (let i = 0; i < path.length && node !== null && node !== undefined; i++) {
      if (isAlias(node) && this.doc !== undefined) node = node.resolve(this.doc);
      const segment = path[i]!;
      if (isMap(node)) {
        const pair = node.items.find((item) => keyName(item.key) === String(segment));
        if (pair === undefined) break;
        const last = i === path.length - 1;
        // `key:` with no value has an empty scalar after the colon; the key reads better.
        const empty = isScalar(pair.value) && pair.value.value === null;
        node = (last && key) || pair.value === null || empty ? pair.key : pair.value;
        if (node === pair.key) break;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined || item === null) break;
        node = item;
      } else break;
    }
    const range = (node as Node | null | undefined)?.range;
    return range === undefined || range === null ? {} : this.position(range[0]);
  }

  resolve(pending: PendingProblem): ConfigProblem {
    const where = pending.offset !== undefined ? this.position(pending.offset) : this.locate(pending.path, pending.key);
    return { path: formatPath(pending.path), ...where, message: pending.message };
  }
}

function keyName(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * A "did you mean" only when the names are really close: a far-fetched guess ('verbos' → 'error')
 * sends the reader in the wrong direction.
 */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  if (name === '') return undefined;
  const cap = name.length <= 5 ? 2 : Math.ceil(name.length / 3);
  return closestNames(name, candidates, 3).find((candidate) => {
    const a = name.toLowerCase();
    const b = candidate.toLowerCase();
    return editDistance(a, b, cap) <= cap || a.startsWith(b) || b.startsWith(a);
  });
}

// ----- TypeBox errors → human messages ---------------------------------------------------------

/**
 * One problem per path: TypeBox may report several (required + type) for the same value. A
 * misspelt required key (`modle:`) is one mistake, so the "is required" for the key it was meant
 * to be is left out when the unknown key's suggestion names it.
 */
export function schemaProblems(errors: Iterable<ValueError>, value: unknown): PendingProblem[] {
  const seen = new Set<string>();
  const problems: PendingProblem[] = [];
  const meant = new Set<string>();
  const required: { pointer: string; problem: PendingProblem }[] = [];
  for (const error of errors) {
    if (seen.has(error.path)) continue;
    seen.add(error.path);
    const path = pointerToPath(error.path, value);
    if (error.type === ValueErrorType.ObjectAdditionalProperties) {
      const known = Object.keys((error.schema as { properties?: Record<string, unknown> }).properties ?? {});
      const suggestion = suggest(String(path.at(-1)), known);
      if (suggestion !== undefined) meant.add(`${error.path.slice(0, error.path.lastIndexOf('/'))}/${suggestion}`);
      const message = suggestion !== undefined ? `unknown key (did you mean '${suggestion}'?)` : `unknown key; expected one of: ${known.join(', ')}`;
      problems.push({ path, key: true, message });
    } else if (error.type === ValueErrorType.Union && mappingVariant(error) !== undefined) {
      // a mapping where a string or a mapping may stand (`auth.keys`): what is wrong inside the mapping
      problems.push(...schemaProblems(mappingVariant(error)!, value));
    } else if (error.type === ValueErrorType.ObjectRequiredProperty) {
      const problem = { path, message: 'is required' };
      required.push({ pointer: error.path, problem });
      problems.push(problem);
    } else {
      problems.push({ path, message: valueMessage(error.schema, error.value, path.length === 0) });
    }
  }
  const dropped = new Set(required.filter((entry) => meant.has(entry.pointer)).map((entry) => entry.problem));
  return dropped.size === 0 ? problems : problems.filter((problem) => !dropped.has(problem));
}

/** For a mapping given where a union allows one, the errors of the union's mapping variant. */
function mappingVariant(error: ValueError): Iterable<ValueError> | undefined {
  const value = error.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const index = ((error.schema as { anyOf?: TSchema[] }).anyOf ?? []).findIndex((option) => option.type === 'object');
  return index < 0 ? undefined : error.errors[index];
}

function valueMessage(schema: TSchema, value: unknown, root: boolean): string {
  if (root) return 'the file must be a mapping with the sections server, auth, logging, media, storage, prices, providers, models, routing, tracing';
  if (value === null) return `has no value; expected ${expectation(schema)}`;
  const custom = errorMessageOf(schema);
  if (custom !== undefined) return custom;
  const choices = literalChoices(schema);
  if (choices !== undefined && typeof value === 'string') {
    const suggestion = suggest(value, choices);
    const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
    return `unknown value '${value}'; expected one of ${choices.join(', ')}${hint}`;
  }
  return `must be ${expectation(schema)}`;
}

function literalChoices(schema: TSchema): string[] | undefined {
  const options = (schema as { anyOf?: TSchema[] }).anyOf;
  if (options === undefined || !options.every((option) => typeof option.const === 'string')) return undefined;
  return options.map((option) => option.const as string);
}

/** What a schema accepts, as a noun phrase: "an integer between 1 and 65535". */
export function expectation(schema: TSchema): string {
  const custom = errorMessageOf(schema);
  if (custom !== undefined) return custom.replace(/^must be /, '');
  if (schema.const !== undefined) return `'${String(schema.const)}'`;
  const options = (schema as { anyOf?: TSchema[] }).anyOf;
  if (options !== undefined) {
    const choices = literalChoices(schema);
    return choices !== undefined ? `one of ${choices.join(', ')}` : options.map(expectation).join(' or ');
  }
  switch (schema.type) {
    case 'integer':
    case 'number':
      return numberExpectation(schema.type === 'integer' ? 'an integer' : 'a number', schema.minimum as number | undefined, schema.maximum as number | undefined);
    case 'string':
      return (schema.minLength as number | undefined) !== undefined && schema.minLength > 0 ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'array': {
      const items = schema.items as TSchema;
      const variants = (items.anyOf as TSchema[] | undefined)?.map((option) => option.type);
      const noun = items.type === 'object' ? 'mappings' : items.type === 'string' ? 'strings'
        : variants !== undefined && variants.length === 2 && variants.includes('string') && variants.includes('object') ? 'strings or mappings' : 'values';
      return (schema.minItems as number | undefined) !== undefined && schema.minItems > 0 ? `a non-empty list of ${noun}` : `a list of ${noun}`;
    }
    case 'object':
      return schema.patternProperties !== undefined ? 'a mapping of names to strings' : 'a mapping';
    default:
      return 'a valid value';
  }
}

function numberExpectation(noun: string, minimum: number | undefined, maximum: number | undefined): string {
  if (minimum !== undefined && maximum !== undefined) return `${noun} between ${minimum} and ${maximum}`;
  if (minimum === 0) return noun === 'an integer' ? 'a non-negative integer (0 or more)' : 'a number, 0 or more';
  if (minimum === 1 && noun === 'an integer') return 'a positive integer';
  if (minimum !== undefined) return `${noun} of at least ${minimum}`;
  if (maximum !== undefined) return `${noun} of at most ${maximum}`;
  return noun;
}
