// `${VAR}` and `${VAR:-default}` in string values. Done on the parsed document's scalar nodes, not
// on the raw text, so a substituted value can never change the YAML structure (a secret holding
// `: ` or a newline stays one string) and every node keeps its source position for messages.
import { isPair, isScalar, isSeq, visit, type Document, type Node, type Scalar } from 'yaml';

export type PathSegment = string | number;

export interface InterpolatedString {
  value: string;
  /** True when at least one `${…}` or `$${` was replaced. */
  changed: boolean;
  /** Variables referenced without a default whose variable is not set at all. */
  unset: string[];
  /** Variables referenced without a default that are set to ''. */
  empty: string[];
  /** Every variable referenced, in order of first use. */
  variables: string[];
  /** Set when the text has a malformed reference; `value` is then the input unchanged. */
  error?: string;
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/;
const ESCAPE_HINT = "write '$${' for a literal '${'";

/** Expands references in one string. Like the shell, `:-` applies when the variable is unset or empty. */
export function interpolateString(text: string, env: NodeJS.ProcessEnv): InterpolatedString {
  let value = '';
  let index = 0;
  let changed = false;
  const unset: string[] = [];
  const empty: string[] = [];
  const variables: string[] = [];
  for (;;) {
    const at = text.indexOf('$', index);
    if (at < 0) break;
    value += text.slice(index, at);
    if (text.startsWith('$${', at)) {
      value += '${';
      index = at + 3;
      changed = true;
      continue;
    }
    if (text.charCodeAt(at + 1) !== 0x7b /* { */) {
      value += '$';
      index = at + 1;
      continue;
    }
    const close = text.indexOf('}', at + 2);
    if (close < 0) return { value: text, changed: false, unset: [], empty: [], variables: [], error: `unterminated '\${' (${ESCAPE_HINT})` };
    const body = text.slice(at + 2, close);
    const match = REFERENCE.exec(body);
    if (match === null) {
      return { value: text, changed: false, unset: [], empty: [], variables: [], error: `invalid reference '\${${body}}': expected \${NAME} or \${NAME:-default} (${ESCAPE_HINT})` };
    }
    const name = match[1]!;
    const fallback = match[2];
    const found = env[name];
    if (!variables.includes(name)) variables.push(name);
    if (found !== undefined && found !== '') value += found;
    else if (fallback !== undefined) value += fallback;
    else if (found === undefined) unset.push(name);
    else empty.push(name);
    index = close + 1;
    changed = true;
  }
  value += text.slice(index);
  return { value, changed, unset, empty, variables };
}

export interface UnsetReference {
  path: PathSegment[];
  /** Source offset of the scalar. */
  offset: number;
  name: string;
}

export interface InterpolationError {
  path: PathSegment[];
  offset: number;
  message: string;
}

/** A value that came from the environment, so that a problem found in it can name its variables. */
export interface InterpolatedValue {
  path: PathSegment[];
  variables: string[];
  unset: string[];
  empty: string[];
}

export interface DocumentInterpolation {
  unset: UnsetReference[];
  errors: InterpolationError[];
  /** Paths of values that were rewritten: they may need string → number/boolean conversion. */
  changed: PathSegment[][];
  /** The rewritten values that referenced at least one variable. */
  values: InterpolatedValue[];
}

/** Rewrites string scalars in place. Mapping keys are left alone: they are names, not values. */
export function interpolateDocument(doc: Document, env: NodeJS.ProcessEnv): DocumentInterpolation {
  const result: DocumentInterpolation = { unset: [], errors: [], changed: [], values: [] };
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string') return;
      const expanded = interpolateString(node.value, env);
      if (!expanded.changed && expanded.error === undefined) return;
      const path = pathOf(node, ancestors);
      const offset = node.range?.[0] ?? 0;
      if (expanded.error !== undefined) {
        result.errors.push({ path, offset, message: expanded.error });
        return;
      }
      (node as Scalar<string>).value = expanded.value;
      result.changed.push(path);
      if (expanded.variables.length > 0) result.values.push({ path, variables: expanded.variables, unset: expanded.unset, empty: expanded.empty });
      for (const name of expanded.unset) result.unset.push({ path, offset, name });
    },
  });
  return result;
}

function pathOf(node: Node, ancestors: readonly unknown[]): PathSegment[] {
  const path: PathSegment[] = [];
  for (let i = 0; i < ancestors.length; i++) {
    const parent = ancestors[i];
    const child = ancestors[i + 1] ?? node;
    if (isPair(parent)) path.push(isScalar(parent.key) ? String(parent.key.value) : String(parent.key));
    else if (isSeq(parent)) path.push(parent.items.indexOf(child as Node));
  }
  return path;
}
