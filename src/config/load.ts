// Config file → validated, frozen GatewayConfig. Every problem in the file (YAML syntax, bad
// references, schema, cross-field rules) is collected in one pass and thrown together, each with
// its YAML path and line, so fixing a file takes one round trip, not one per mistake.
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { interpolateDocument, type InterpolatedValue, type PathSegment } from './interpolate.ts';
import { checkSemantics, normalizeConfig } from './normalize.ts';
import { ConfigError, formatPath, formatProblems, Locator, schemaProblems, type ConfigProblem, type PendingProblem } from './problems.ts';
import type { WrittenEmpty } from './reload-guard.ts';
import { ConfigSchema, type RawConfig } from './schema.ts';
import type { GatewayConfig } from './types.ts';

export { ConfigError, formatProblems, type ConfigProblem } from './problems.ts';
export { DEFAULT_POOL, DEFAULT_TIMEOUTS, defaultServerConfig } from './defaults.ts';

export interface LoadedConfig {
  config: GatewayConfig;
  /** Human lines (`file:line:col  path: message`) for settings that are legal but suspicious. */
  warnings: string[];
  /** Lists written out as empty, which a reload takes as meant (see reload-guard.ts). */
  writtenEmpty: WrittenEmpty;
}

export { DEFAULT_CONFIG_FILE, findConfigPath } from './locate.ts';

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new ConfigError(path, [{ path: '', message: `cannot read the config file: ${reason}` }]);
  }
  return parseConfigText(text, path, env);
}

/** Problems found after loading (a plugin that does not load), placed at their YAML line. */
export function problemsAt(text: string, pending: readonly PendingProblem[]): ConfigProblem[] {
  const lineCounter = new LineCounter();
  const locator = new Locator(parseDocument(text, { lineCounter, prettyErrors: false, merge: true }), lineCounter);
  return pending.map((problem) => locator.resolve(problem));
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const locator = new Locator(doc, lineCounter);
  const problems: ConfigProblem[] = [];
  const syntaxLines = new Set<number>();
  for (const error of doc.errors) {
    const position = locator.position(error.pos[0]);
    syntaxLines.add(position.line);
    problems.push({ path: '', ...position, message: yamlMessage(error, text, position.line) });
  }

  const interpolation = interpolateDocument(doc, env);
  const pending: PendingProblem[] = interpolation.errors.map((error) => ({ path: error.path, offset: error.offset, message: error.message }));
  let raw: unknown;
  try {
    raw = prepare(doc.toJS({ maxAliasCount: 1000 }), interpolation.changed);
  } catch (error) {
    problems.push({ path: '', line: 1, column: 1, message: `invalid YAML: ${(error as Error).message}` });
    throw new ConfigError(source, problems);
  }
  const found = [...schemaProblems(Value.Errors(ConfigSchema, raw), raw), ...checkSemantics(raw)];
  pending.push(...nameVariables(found, interpolation.values));
  for (const item of pending) {
    const problem = locator.resolve(item);
    // A syntax error makes the parser guess; what it guessed on that line is noise.
    if (problem.line === undefined || !syntaxLines.has(problem.line)) problems.push(problem);
  }
  if (problems.length > 0) throw new ConfigError(source, sortByPosition(problems));

  const normalized = normalizeConfig(raw as RawConfig, source);
  const warnings: ConfigProblem[] = doc.warnings.map((warning) => ({ path: '', ...locator.position(warning.pos[0]), message: warning.message }));
  const seen = new Set<string>();
  for (const unset of interpolation.unset) {
    const path = formatPath(unset.path);
    if (seen.has(`${path}\0${unset.name}`)) continue;
    seen.add(`${path}\0${unset.name}`);
    warnings.push({ path, ...locator.position(unset.offset), message: unsetMessage(unset.name, unset.path) });
  }
  for (const warning of normalized.warnings) warnings.push(locator.resolve(warning));
  return { config: normalized.config, warnings: sortByPosition(warnings).map((warning) => formatProblems(source, [warning])), writtenEmpty: writtenEmpty(raw as RawConfig) };
}

/**
 * A value that came from `${VAR}` is fixed in the environment, not in the file: the message says
 * which variable (`providers[0].base_url: ${OPENAI_BASE} is not set: must be a non-empty string`).
 */
function nameVariables(problems: PendingProblem[], values: readonly InterpolatedValue[]): PendingProblem[] {
  if (values.length === 0) return problems;
  const byPath = new Map(values.map((value) => [formatPath(value.path), value]));
  return problems.map((problem) => {
    const value = problem.key === true ? undefined : byPath.get(formatPath(problem.path));
    if (value === undefined) return problem;
    const references = (names: readonly string[]) => [...new Set(names)].map((name) => `\${${name}}`).join(' and ');
    const plural = (names: readonly string[]) => new Set(names).size > 1;
    if (value.unset.length > 0) return { ...problem, message: `${references(value.unset)} ${plural(value.unset) ? 'are' : 'is'} not set: ${problem.message}` };
    if (value.empty.length > 0) return { ...problem, message: `${references(value.empty)} ${plural(value.empty) ? 'are' : 'is'} empty: ${problem.message}` };
    return { ...problem, message: `${problem.message}; the value comes from ${references(value.variables)}` };
  });
}

/**
 * `keys: []` and `providers: []` in the file, after interpolation: a list whose entries were all
 * dropped (`["${SWITCHYARD_KEY}"]` with the variable unset) or a missing section is not one.
 */
function writtenEmpty(raw: RawConfig): WrittenEmpty {
  return { authKeys: raw.auth?.keys?.length === 0, providers: raw.providers?.length === 0 };
}

function unsetMessage(name: string, path: readonly PathSegment[]): string {
  const last = path.at(-1);
  const isKey = last === 'api_key' || path.at(-2) === 'api_keys' || (path[0] === 'auth' && path[1] === 'keys');
  const effect = isKey ? 'the key is dropped' : "it expands to ''";
  return `environment variable ${name} is not set, so ${effect} (write \${${name}:-} if empty is intended)`;
}

const SECTIONS = ['server', 'auth', 'logging', 'media', 'storage', 'prices', 'providers', 'models', 'routing', 'tracing', 'cache', 'state', 'plugins'];

/**
 * Top-level `x-…` keys are ignored (the Docker Compose convention): they give YAML anchors a place
 * to live. A section whose entries are all commented out parses as null; treat it as absent. Interpolated
 * values are strings; where the schema wants a number or boolean (`port: ${PORT:-8080}`) they are
 * converted, and only there, so `port: "8080"` written by hand is still reported.
 */
function prepare(value: unknown, changed: readonly PathSegment[][]): unknown {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const root = value as Record<string, unknown>;
  for (const key of Object.keys(root)) if (key.startsWith('x-')) delete root[key];
  for (const section of SECTIONS) if (root[section] === null) delete root[section];
  if (changed.length === 0) return root;
  const converted = Value.Convert(ConfigSchema, structuredClone(root));
  for (const path of changed) {
    const before = getAt(root, path);
    const after = getAt(converted, path);
    if (typeof before === 'string' && after !== undefined && typeof after !== 'string') setAt(root, path, after);
  }
  return root;
}

function getAt(value: unknown, path: readonly PathSegment[]): unknown {
  let current = value;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PathSegment, unknown>)[segment];
  }
  return current;
}

function setAt(value: unknown, path: readonly PathSegment[], next: unknown): void {
  const parent = getAt(value, path.slice(0, -1));
  if (typeof parent === 'object' && parent !== null) (parent as Record<PathSegment, unknown>)[path.at(-1)!] = next;
}

function yamlMessage(error: YAMLError, text: string, line: number): string {
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^["']?([^"':\n]*)/.exec(text.slice(error.pos[0]))?.[1]?.trim() ?? '';
    return `invalid YAML: key '${key}' appears twice in the same mapping`;
  }
  const message = error.message.charAt(0).toLowerCase() + error.message.slice(1);
  const lineText = text.split('\n')[line - 1] ?? '';
  // `keys: [${KEY}]`: braces end a plain scalar inside a flow collection.
  const hint = /[[{,][^'"]*\$\{/.test(lineText) ? " (quote values that contain '${…}' inside [ ] or { })" : '';
  return `invalid YAML: ${message}${hint}`;
}

function sortByPosition(problems: ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => (a.problem.line ?? 0) - (b.problem.line ?? 0) || (a.problem.column ?? 0) - (b.problem.column ?? 0) || a.index - b.index)
    .map((entry) => entry.problem);
}
