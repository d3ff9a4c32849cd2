// A candidate config sent to the management API (`POST /v0/management/config/validate`,
// `PUT /v0/management/config`), checked as `switchyard check-config` checks a file, and — for a
// replacement — laid over the file it replaces, so what the operator wrote there stays where the
// values did not change: comments, quoting, anchors, and `${VAR}` references (a secret given as
// `${OPENAI_API_KEY}` is written back as the reference, never as its value). Runs in the config
// child (subprocess.ts), like every use of the YAML parser.
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type ParsedNode, type Scalar } from 'yaml';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { interpolateString } from './interpolate.ts';
import { parseConfigText, type LoadedConfig } from './load.ts';

/** What a masked secret reads as in the file text the management API shows; sent back, it keeps the file's value. */
export const MASK = '[redacted]';
/** Names of fields whose string value is a credential wherever it stands. */
const SECRET_NAME = /(?:key|keys|token|tokens|secret|secrets|password|passwd|credential|credentials|authorization|cookie)$/i;
/** Maps whose every value may be a credential (HTTP headers, a CLI's environment). */
const SECRET_MAPS = new Set(['headers', 'env']);
/** A value that is only references (`${OPENAI_API_KEY}`): no secret in the text itself. */
const ONLY_REFERENCES = /^(?:\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\})+$/;

export interface CandidateText {
  /** What would be written to the file: the candidate laid over the current file. */
  text: string;
  loaded: LoadedConfig;
}

/**
 * Checks the candidate (its problems carry the candidate's own lines), then lays it over the
 * current file's text. Throws the candidate's ConfigError; when the laid-over text does not load
 * as the candidate did, the candidate is written as it came.
 */
export function candidateOver(current: string | undefined, sent: string, source: string, env: NodeJS.ProcessEnv): CandidateText {
  // masked values (the text GET /v0/management/config/file showed) stand for the file's own
  const candidate = sent.includes(MASK) ? restoreMasked(current, sent, source) : sent;
  const loaded = parseConfigText(candidate, source, env);
  if (current === undefined) return { text: candidate, loaded };
  let merged: string;
  try {
    merged = layOver(current, candidate, env);
  } catch {
    return { text: candidate, loaded };
  }
  try {
    const reloaded = parseConfigText(merged, source, env);
    if (JSON.stringify(reloaded.config) === JSON.stringify(loaded.config)) return { text: merged, loaded: reloaded };
  } catch {
    // the merge lost something the candidate had: the candidate as it came is right by definition
  }
  return { text: candidate, loaded };
}

/** The candidate's document, with the current file's nodes kept wherever their value is the candidate's. */
function layOver(current: string, candidate: string, env: NodeJS.ProcessEnv): string {
  const before = parseDocument(current, { keepSourceTokens: false });
  const after = parseDocument(candidate);
  if (before.errors.length > 0 || after.errors.length > 0) return candidate;
  const contents = merge(before.contents as ParsedNode | null, after.contents as ParsedNode | null, env);
  before.contents = contents as typeof before.contents;
  if (after.commentBefore != null) before.commentBefore = after.commentBefore;
  if (after.comment != null) before.comment = after.comment;
  return before.toString();
}

function hasAnchorOrAlias(node: Node | null): boolean {
  return node !== null && (isAlias(node) || (node as { anchor?: string }).anchor !== undefined);
}

function keyOf(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

/** A node of the candidate replaces the file's: where it has no comment of its own, the file's stays. */
function carryComments(from: Node, to: Node): void {
  if (from.commentBefore == null && to.commentBefore != null) from.commentBefore = to.commentBefore;
  if (from.comment == null && to.comment != null) from.comment = to.comment;
}

/** The file's node is kept: the comments the candidate wrote on its own win. */
function takeComments(kept: Node, candidate: Node): void {
  if (candidate.commentBefore != null) kept.commentBefore = candidate.commentBefore;
  if (candidate.comment != null) kept.comment = candidate.comment;
}

/** The current value of a scalar as the gateway reads it (`${VAR}` expanded). */
function expanded(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value !== 'string' || !value.includes('$')) return value;
  const result = interpolateString(value, env);
  return result.error === undefined ? result.value : value;
}

function merge(before: Node | null, after: Node | null, env: NodeJS.ProcessEnv): Node | null {
  if (before === null || after === null) return after;
  // anchors and aliases name nodes of the candidate's own document: taken as they are
  if (hasAnchorOrAlias(before) || hasAnchorOrAlias(after)) return after;
  if (isScalar(before) && isScalar(after)) {
    // the same value, written the same way or as the reference that expands to it: the file's node stays
    if (before.value === after.value || (typeof before.value === 'string' && before.value.includes('${') && expanded(before.value, env) === after.value)) {
      takeComments(before, after);
      return before;
    }
    carryComments(after, before);
    return after;
  }
  if (isMap(before) && isMap(after)) {
    const old = new Map<string, Pair>();
    for (const pair of before.items) old.set(keyOf(pair), pair);
    const items: Pair[] = [];
    for (const pair of after.items) {
      const previous = old.get(keyOf(pair));
      if (previous === undefined || hasAnchorOrAlias(pair.key as Node | null)) {
        items.push(pair);
        continue;
      }
      previous.value = merge(previous.value as Node | null, pair.value as Node | null, env);
      if (isScalar(pair.key) && isScalar(previous.key)) takeComments(previous.key, pair.key);
      items.push(previous);
    }
    before.items = items;
    before.flow = after.flow;
    takeComments(before, after);
    return before;
  }
  if (isSeq(before) && isSeq(after)) {
    before.items = after.items.map((item, index) => {
      const previous = before.items[index];
      return previous === undefined ? item : merge(previous as Node | null, item as Node | null, env);
    });
    before.flow = after.flow;
    takeComments(before, after);
    return before;
  }
  carryComments(after, before);
  return after;
}

// ----- the file's text with its secrets masked, and back -----------------------------------------

/**
 * Each scalar of a document with its path (`providers[0].api_key`), whether it holds a credential
 * (it, or the list it is in, stands under a secret-sounding name, or it is a header or environment
 * value), and its place in the text. A map's own fields are judged by their own names.
 */
function* scalars(node: unknown, path: string, secret: boolean): Generator<{ path: string; node: Scalar; secret: boolean }> {
  if (isScalar(node)) {
    yield { path, node, secret };
    return;
  }
  if (isMap(node)) {
    // a headers or env map (`secret` set by its name): every value is one
    const everyValue = secret && SECRET_MAPS.has(path.slice(path.lastIndexOf('.') + 1));
    for (const pair of node.items) {
      const name = keyOf(pair);
      yield* scalars(pair.value, path === '' ? name : `${path}.${name}`, everyValue || SECRET_NAME.test(name) || SECRET_MAPS.has(name));
    }
    return;
  }
  if (isSeq(node)) for (let index = 0; index < node.items.length; index++) yield* scalars(node.items[index], `${path}[${index}]`, secret);
}

/** Whether a scalar's value shows a credential: a secret-named field's literal, or a URL carrying a user, password or query. */
function showsSecret(value: unknown, secret: boolean): boolean {
  if (typeof value !== 'string' || value === '' || value === MASK || ONLY_REFERENCES.test(value)) return false;
  if (secret) return true;
  if (!value.includes('://')) return false;
  // references (`user:${PASSWORD}@`) are no secret: what is left after them decides
  const references = value.includes('${');
  try {
    const url = new URL(references ? value.replace(/\$\{[^}]*\}/g, '') : value);
    return url.password !== '' || (url.username !== '' && !references) || [...url.searchParams.values()].some((item) => item !== '');
  } catch {
    return references ? false : value.includes('@');
  }
}

/**
 * The config file's text as an operator may see it: every literal credential (a key, a token, a
 * header or environment value, a URL with credentials or a query) replaced by `"[redacted]"` in
 * place — the rest of the text, comments and `${VAR}` references stay byte for byte.
 */
export function maskedFileText(text: string): string {
  const document = parseDocument(text);
  if (document.errors.length > 0) return text.replace(/.+/g, MASK);
  const ranges: [number, number][] = [];
  for (const { node, secret } of scalars(document.contents, '', false)) {
    if (node.range !== undefined && node.range !== null && showsSecret(node.value, secret)) ranges.push([node.range[0], node.range[1]]);
  }
  let masked = text;
  for (const [start, end] of ranges.sort((a, b) => b[0] - a[0])) masked = `${masked.slice(0, start)}"${MASK}"${masked.slice(end)}`;
  return masked;
}

/** The candidate with each masked value replaced by the file's own at the same path; a mask with nothing under it is a problem. */
function restoreMasked(current: string | undefined, candidate: string, source: string): string {
  const sent = parseDocument(candidate);
  if (sent.errors.length > 0) return candidate;
  const file = current === undefined ? undefined : parseDocument(current);
  const kept = new Map<string, string>();
  if (file !== undefined && file.errors.length === 0) {
    for (const { path, node } of scalars(file.contents, '', false)) {
      if (node.range !== undefined && node.range !== null) kept.set(path, current!.slice(node.range[0], node.range[1]));
    }
  }
  const problems: ConfigProblem[] = [];
  const ranges: [number, number, string][] = [];
  for (const { path, node } of scalars(sent.contents, '', false)) {
    if (node.value !== MASK || node.range === undefined || node.range === null) continue;
    const original = kept.get(path);
    if (original === undefined) problems.push({ path, message: `"${MASK}" stands for the file's value at ${path}, and the file has none there: write the value (or a \${VAR} reference) instead` });
    else ranges.push([node.range[0], node.range[1], original]);
  }
  if (problems.length > 0) throw new ConfigError(source, problems);
  let restored = candidate;
  for (const [start, end, original] of ranges.sort((a, b) => b[0] - a[0])) restored = `${restored.slice(0, start)}${original}${restored.slice(end)}`;
  return restored;
}
