// Small helpers shared by the Gemini surface files: field access that accepts both of Google's
// JSON spellings, and the naming conventions of the dialect.
import type { JsonObject } from '../../util/json-value.ts';

const snakeNames = new Map<string, string>();

function snake(name: string): string {
  let value = snakeNames.get(name);
  if (value === undefined) {
    value = name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    snakeNames.set(name, value);
  }
  return value;
}

/**
 * Google's JSON mapping accepts a field under its lowerCamelCase name (what the SDKs send) or
 * under the proto's snake_case name (what curl examples use); both are read.
 */
export function field(object: JsonObject, name: string): unknown {
  const value = object[name];
  return value !== undefined ? value : object[snake(name)];
}

/** The camelCase name of a field key given in either spelling. */
export function camel(name: string): string {
  return name.includes('_') ? name.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase()) : name;
}

/**
 * Anthropic's redacted thinking has no Gemini field: it travels to a Gemini client as a thought
 * part whose signature is this marker plus the data, base64-encoded like every real signature,
 * and is recognised when the client sends it back.
 */
const REDACTED_MARKER = 'swy-redacted:';

export function redactedSignature(data: string): string {
  return Buffer.from(REDACTED_MARKER + data, 'utf8').toString('base64');
}

export function redactedFromSignature(signature: string): string | undefined {
  if (signature.length < 20 || !/^[A-Za-z0-9+/=]+$/.test(signature)) return undefined;
  const text = Buffer.from(signature, 'base64').toString('utf8');
  return text.startsWith(REDACTED_MARKER) ? text.slice(REDACTED_MARKER.length) : undefined;
}
