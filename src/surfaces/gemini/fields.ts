// Small helpers shared by the Gemini surface files: field access that accepts both of Google's
// JSON spellings, request errors, and the naming conventions of the dialect.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';

export type Json = Record<string, unknown>;

export function invalid(message: string, param: string): GatewayError {
  return new GatewayError(ErrorCode.invalidRequest, message, { status: 400, origin: 'downstream', errorClass: 'client-error', param });
}

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
export function field(object: Json, name: string): unknown {
  const value = object[name];
  return value !== undefined ? value : object[snake(name)];
}

/** The camelCase name of a field key given in either spelling. */
export function camel(name: string): string {
  return name.includes('_') ? name.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase()) : name;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
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
