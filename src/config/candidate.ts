// A candidate config sent to the management API (`POST /v0/management/config/validate`,
// `PUT /v0/management/config`), checked as `switchyard check-config` checks a file, and — for a
// replacement — laid over the file it replaces, so what the operator wrote there stays where the
// values did not change: comments, quoting, anchors, and `${VAR}` references (a secret given as
// `${OPENAI_API_KEY}` is written back as the reference, never as its value). Runs in the config
// child (subprocess.ts), like every use of the YAML parser.
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type ParsedNode } from 'yaml';
import { interpolateString } from './interpolate.ts';
import { parseConfigText, type LoadedConfig } from './load.ts';

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
export function candidateOver(current: string | undefined, candidate: string, source: string, env: NodeJS.ProcessEnv): CandidateText {
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
