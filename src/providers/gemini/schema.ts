// JSON Schema (as OpenAI, Anthropic and MCP tools write it) → the subset of OpenAPI 3.0 that
// Gemini's `Schema` accepts for function parameters and `responseSchema`. What Gemini rejects is
// rewritten to its nearest equivalent rather than dropped where it carries meaning:
// - `$ref`/`$defs`/`definitions` are inlined (a recursive reference becomes an untyped node);
// - `allOf` is merged; `oneOf` becomes `anyOf`; `const` becomes a one-value enum;
// - `type: [T, "null"]` and null variants of `anyOf` become `nullable: true`; other type lists
//   become `anyOf`;
// - formats Gemini does not know (`uri`, `email`, …), non-string enums, `exclusiveMinimum` and
//   friends move into the description, so the model still reads them;
// - an object with no properties loses its `type` (Gemini rejects an OBJECT without properties),
//   `properties`/`required` stay on objects only, `required` names only declared properties;
// - `$schema`, `$id`, `additionalProperties`, `patternProperties`, `not`, `if`/`then`/`else`,
//   `uniqueItems`, `multipleOf` and other validation-only keywords are dropped.

import { isObject, type JsonObject, listFrom, objectFrom, shown, textFrom } from '../../util/json-value.ts';

const TYPES: Readonly<Record<string, string>> = {
  string: 'STRING', number: 'NUMBER', integer: 'INTEGER', boolean: 'BOOLEAN', array: 'ARRAY', object: 'OBJECT',
};
const FORMATS: Readonly<Record<string, ReadonlySet<string>>> = {
  STRING: new Set(['enum', 'date-time']),
  INTEGER: new Set(['int32', 'int64']),
  NUMBER: new Set(['float', 'double']),
};
const MAX_DEPTH = 40;

interface Context {
  defs: JsonObject;
  /** $ref names being expanded, to stop recursion. */
  stack: string[];
  depth: number;
  /** Add propertyOrdering (responseSchema: keeps the caller's key order in generated JSON). */
  ordering: boolean;
}

function isNullSchema(value: unknown): boolean {
  if (!isObject(value)) return false;
  return value.type === 'null' || (Array.isArray(value.type) && value.type.length === 1 && value.type[0] === 'null');
}

function refName(ref: string): string | undefined {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  return match === null ? undefined : decodeURIComponent(match[1]!.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function without(node: JsonObject, ...keys: string[]): JsonObject {
  const copy: JsonObject = { ...node };
  for (const key of keys) delete copy[key];
  return copy;
}

/** allOf members merged into one schema: properties and required lists united, first value wins elsewhere. */
function mergeAll(node: JsonObject, context: Context): JsonObject {
  const merged: JsonObject = without(node, 'allOf');
  const properties: JsonObject = isObject(node.properties) ? { ...node.properties } : {};
  const required = new Set<string>(Array.isArray(node.required) ? node.required.filter((name): name is string => typeof name === 'string') : []);
  for (let member of listFrom(node.allOf)) {
    if (isObject(member) && typeof member.$ref === 'string') {
      const name = refName(member.$ref);
      const target = name !== undefined ? context.defs[name] : undefined;
      member = isObject(target) ? { ...target, ...without(member, '$ref') } : {};
    }
    if (!isObject(member)) continue;
    const part: JsonObject = Array.isArray(member.allOf) ? mergeAll(member, context) : member;
    if (isObject(part.properties)) Object.assign(properties, part.properties);
    if (Array.isArray(part.required)) for (const name of part.required) if (typeof name === 'string') required.add(name);
    for (const [key, value] of Object.entries(part)) if (key !== 'properties' && key !== 'required' && !(key in merged)) merged[key] = value;
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

function withNotes(description: string | undefined, notes: readonly string[]): string | undefined {
  if (notes.length === 0) return description;
  const note = notes.join('; ');
  return description === undefined || description.length === 0 ? note : `${description} (${note})`;
}

function literal(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : shown(value);
}

function convert(raw: unknown, context: Context): JsonObject {
  if (!isObject(raw)) return {}; // `true` or an empty schema: any value
  if (context.depth > MAX_DEPTH) return { description: 'A nested value (schema too deep to describe).' };
  let node = raw;
  if (typeof node.$ref === 'string') {
    const name = refName(node.$ref);
    const target = name !== undefined ? context.defs[name] : undefined;
    if (name === undefined || !isObject(target)) return typeof node.description === 'string' ? { description: node.description } : {};
    if (context.stack.includes(name)) {
      const description = typeof node.description === 'string' ? node.description : typeof target.description === 'string' ? target.description : undefined;
      return { description: withNotes(description, [`a ${name}, as defined above`])! };
    }
    const inner: Context = { ...context, stack: [...context.stack, name] };
    return convert({ ...target, ...without(node, '$ref') }, inner);
  }
  if (Array.isArray(node.allOf)) node = mergeAll(node, context);
  const child: Context = { ...context, depth: context.depth + 1 };
  const out: JsonObject = {};
  const notes: string[] = [];
  let nullable = node.nullable === true;

  let types = (Array.isArray(node.type) ? node.type : typeof node.type === 'string' ? [node.type] : []).map((type) => textFrom(type).toLowerCase());
  if (types.includes('null')) {
    nullable = true;
    types = types.filter((type) => type !== 'null');
  }
  let values: unknown[] | undefined = 'const' in node ? [node.const] : Array.isArray(node.enum) ? [...node.enum] : undefined;
  if (values !== undefined && values.includes(null)) {
    nullable = true;
    values = values.filter((value) => value !== null);
  }
  const variants = Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : undefined;
  if (variants !== undefined) {
    const options = variants.filter((variant) => !isNullSchema(variant));
    if (options.length < variants.length) nullable = true;
    if (options.length === 1 && types.length === 0) {
      // `T | null`: the single variant is the schema, with the parent's description
      const merged = convert({ ...without(node, 'anyOf', 'oneOf'), ...objectFrom(options[0]), ...(typeof node.description === 'string' ? { description: node.description } : {}) }, child);
      if (nullable) merged.nullable = true;
      return merged;
    }
    if (options.length > 0) out.anyOf = options.map((option) => convert(option, child));
  }
  if (types.length === 0 && out.anyOf === undefined) {
    if (isObject(node.properties)) types = ['object'];
    else if (node.items !== undefined || node.prefixItems !== undefined) types = ['array'];
    else if (values !== undefined && values.length > 0 && values.every((value) => typeof value === 'string')) types = ['string'];
  }
  if (types.length > 1) {
    out.anyOf = types.map((type) => convert({ ...without(node, 'type', 'description', 'title', 'anyOf', 'oneOf', 'nullable'), type }, child));
    types = [];
  }
  const type = types.length === 1 ? TYPES[types[0]!] : undefined;
  if (type !== undefined) out.type = type;

  if (typeof node.title === 'string') out.title = node.title;
  if (type === 'OBJECT') {
    const properties: JsonObject = {};
    if (isObject(node.properties)) for (const [name, property] of Object.entries(node.properties)) properties[name] = convert(property, child);
    const names = Object.keys(properties);
    if (names.length === 0) {
      delete out.type; // Gemini rejects an OBJECT without properties; untyped, it takes any value
      notes.push('a JSON object');
    } else {
      out.properties = properties;
      const required = Array.isArray(node.required) ? node.required.filter((name): name is string => typeof name === 'string' && names.includes(name)) : [];
      if (required.length > 0) out.required = required;
      if (context.ordering) out.propertyOrdering = names;
      if (typeof node.minProperties === 'number') out.minProperties = node.minProperties;
      if (typeof node.maxProperties === 'number') out.maxProperties = node.maxProperties;
    }
  } else if (type === 'ARRAY') {
    const items = Array.isArray(node.prefixItems) ? node.prefixItems : node.items;
    if (Array.isArray(items)) {
      if (items.length === 1) out.items = convert(items[0], child);
      else if (items.length > 1) {
        out.items = { anyOf: items.map((item) => convert(item, child)) };
        notes.push(`a tuple of ${items.length} values in this order`);
      }
    } else if (items !== undefined) out.items = convert(items, child);
    if (typeof node.minItems === 'number') out.minItems = node.minItems;
    if (typeof node.maxItems === 'number') out.maxItems = node.maxItems;
  } else if (type === 'STRING') {
    if (typeof node.minLength === 'number') out.minLength = node.minLength;
    if (typeof node.maxLength === 'number') out.maxLength = node.maxLength;
    if (typeof node.pattern === 'string') out.pattern = node.pattern;
  } else if (type === 'NUMBER' || type === 'INTEGER') {
    if (typeof node.minimum === 'number') out.minimum = node.minimum;
    if (typeof node.maximum === 'number') out.maximum = node.maximum;
    if (typeof node.exclusiveMinimum === 'number') notes.push(`greater than ${node.exclusiveMinimum}`);
    if (typeof node.exclusiveMaximum === 'number') notes.push(`less than ${node.exclusiveMaximum}`);
    if (typeof node.multipleOf === 'number') notes.push(`a multiple of ${node.multipleOf}`);
  }
  if (typeof node.format === 'string') {
    if (type !== undefined && FORMATS[type]?.has(node.format) === true) out.format = node.format;
    else notes.push(`format: ${node.format}`);
  }
  if (values !== undefined && values.length > 0) {
    if (values.every((value) => typeof value === 'string') && (type === 'STRING' || type === undefined)) out.enum = values;
    else notes.push(`one of ${values.map(literal).join(', ')}`);
  }
  if (node.default !== undefined) out.default = node.default;
  if (node.example !== undefined) out.example = node.example;
  else if (Array.isArray(node.examples) && node.examples.length > 0) out.example = node.examples[0];
  const description = withNotes(typeof node.description === 'string' ? node.description : undefined, notes);
  if (description !== undefined) out.description = description;
  if (nullable) out.nullable = true;
  return out;
}

function definitions(schema: JsonObject): JsonObject {
  return { ...(isObject(schema.definitions) ? schema.definitions : {}), ...(isObject(schema.$defs) ? schema.$defs : {}) };
}

/** Function parameters: undefined when the function takes none (Gemini rejects an empty OBJECT). */
export function geminiParameters(schema: Record<string, unknown>): JsonObject | undefined {
  const out = convert(schema, { defs: definitions(schema), stack: [], depth: 0, ordering: false });
  if (out.type === undefined && out.properties === undefined && out.anyOf === undefined) return undefined;
  return out;
}

/** Structured output: undefined when the schema constrains nothing Gemini can express. */
export function geminiResponseSchema(schema: Record<string, unknown>): JsonObject | undefined {
  const out = convert(schema, { defs: definitions(schema), stack: [], depth: 0, ordering: true });
  if (out.type === undefined && out.anyOf === undefined && out.enum === undefined) return undefined;
  return out;
}
