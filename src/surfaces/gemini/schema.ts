// Gemini's Schema (a subset of OpenAPI 3.0: upper-case type names, `nullable`, string-valued
// counts) → the JSON Schema the canonical request carries for every other provider.
import { camel } from './fields.ts';
import { isObject, type JsonObject } from '../../util/json-value.ts';

const COUNTS = new Set(['minItems', 'maxItems', 'minLength', 'maxLength', 'minProperties', 'maxProperties']);

export function jsonSchemaFromGemini(node: unknown): JsonObject {
  if (!isObject(node)) return {};
  const out: JsonObject = {};
  let nullable = false;
  for (const [rawKey, value] of Object.entries(node)) {
    const key = camel(rawKey);
    switch (key) {
      case 'type': {
        const type = typeof value === 'string' ? value.toLowerCase() : undefined;
        if (type !== undefined && type !== 'type_unspecified') out.type = type;
        break;
      }
      case 'nullable':
        nullable = value === true;
        break;
      case 'format':
        if (value !== 'enum') out.format = value;
        break;
      case 'properties':
        if (isObject(value)) {
          const properties: JsonObject = {};
          for (const [name, property] of Object.entries(value)) properties[name] = jsonSchemaFromGemini(property);
          out.properties = properties;
        }
        break;
      case 'items':
        out.items = jsonSchemaFromGemini(value);
        break;
      case 'anyOf':
        if (Array.isArray(value)) out.anyOf = value.map(jsonSchemaFromGemini);
        break;
      case 'example':
        out.examples = [value];
        break;
      case 'propertyOrdering':
        break; // an output-order hint with no JSON Schema equivalent
      default:
        out[key] = COUNTS.has(key) && typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    }
  }
  if (nullable) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.anyOf)) out.anyOf.push({ type: 'null' });
  }
  return out;
}
