// Model names come from clients (a body's `model`, Gemini's path) and go on to key routes, health
// entries, metric labels and usage rows, and to be echoed in a response header. They are checked
// once, when the request is decoded, so nothing after that holds an unbounded or unprintable name.

/**
 * The longest model name accepted, in UTF-8 bytes. The longest real names are about 250 bytes:
 * Bedrock ARNs (`arn:aws:bedrock:<region>:<account>:application-inference-profile/<id>`, ~110),
 * Fireworks paths (`accounts/<account>/deployedModels/<name>`), Hugging Face repo ids (two
 * components of up to 96 characters, plus a `:revision` or GGUF quantisation tag), each behind a
 * `provider:` prefix and a thinking suffix such as `(32768)`. 512 leaves twice that, while a
 * million distinct refused names cost the gateway nothing and accepted ones stay small.
 */
export const MODEL_NAME_MAX_BYTES = 512;

/** Printable ASCII without anything to check further: the common case, tested first. */
const PLAIN = /^[\x20-\x7e]*$/;
/**
 * What cannot be part of a model name: control characters (C0, DEL, C1), lone surrogates (no
 * UTF-8 form), line and paragraph separators, bidirectional overrides and isolates (which make a
 * name display as another one in logs), the byte-order mark and noncharacters.
 */
const FORBIDDEN = /[\p{Cc}\p{Cs}\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufdd0-\ufdef\ufffe\uffff]/u;

/** Why `name` cannot be a model name (a phrase to follow "'model' …"), or undefined when it can. */
export function modelNameProblem(name: string): string | undefined {
  // a UTF-16 unit is at least one UTF-8 byte: over-long names are refused before any other work
  if (name.length > MODEL_NAME_MAX_BYTES) return tooLong(name);
  if (PLAIN.test(name)) return undefined;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MODEL_NAME_MAX_BYTES) return tooLong(name);
  const found = FORBIDDEN.exec(name);
  if (found === null) return undefined;
  const code = found[0].codePointAt(0)!;
  return `contains the character U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${found.index}, which cannot be part of a model name`;
}

function tooLong(name: string): string {
  // the count, not the name: it may be megabytes long
  const bytes = name.length > 4 * MODEL_NAME_MAX_BYTES ? `${name.length} characters` : `${Buffer.byteLength(name, 'utf8')} bytes`;
  return `is ${bytes} long; model names are at most ${MODEL_NAME_MAX_BYTES} bytes`;
}
