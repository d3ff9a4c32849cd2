// Checks the module boundaries of docs/architecture.md: which module may import which, and how.
// Run by `npm test`; exits 1 listing every violation. Files are parsed with the TypeScript
// compiler's own parser, so comments and strings never count and `import type` is told apart.
//
// The rules:
// - A module may import at run time only the modules its `values` list names; with `import type`
//   (or `export type … from`) also those its `types` list names. `import { type X }` is a run-time
//   import: under verbatimModuleSyntax the module is still loaded.
// - `surfaces/<name>/` and `providers/<name>/` are each a module of their own (subfolders
//   included), and may not import one another; `providers/common/` and `providers/presets/`
//   are shared by every provider.
// - `canonical/` imports nothing outside itself, not even a `node:` module or a package.
//   `routing/` imports no `node:` module at run time: it is pure, so it can run wherever the
//   state behind it lives.
// - No `any` type anywhere in src/ (`: any`, `as any`, `any[]`, `Record<string, any>`, …): parsed
//   JSON is `unknown`, read as `JsonObject` through the narrowing helpers of
//   src/util/json-value.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';


interface Rule {
  /** Modules this one may import at run time. */
  values: readonly string[];
  /** Modules it may import types from (`import type`), besides `values`. */
  types?: readonly string[];
}

const EVERYTHING: Rule = { values: ['*'] };

/** The table of docs/architecture.md ("Modules and boundaries"), by top-level folder. */
const rules: Readonly<Record<string, Rule>> = {
  canonical: { values: [] },
  util: { values: [] },
  streaming: { values: ['util'] },
  surfaces: { values: ['canonical', 'streaming', 'util'] },
  providers: { values: ['canonical', 'streaming', 'util', 'upstream', 'providers/common', 'providers/presets'], types: ['config'] },
  routing: { values: ['canonical', 'util', 'state'], types: ['config'] },
  state: { values: ['canonical', 'util'], types: ['config'] },
  upstream: { values: ['canonical', 'util'], types: ['config'] },
  // the config child loads a config's plugins once to check them (plugins/check.ts)
  config: { values: ['canonical', 'util', 'providers/presets', 'plugins'] },
  observability: { values: ['canonical', 'util'], types: ['config', 'pipeline'] },
  server: { values: ['canonical', 'util'] },
  // agent CLIs as providers (issue #14): processes and their protocols, reporting canonical parts
  // (Claude Code reports Anthropic's own usage objects: read with the Anthropic provider's mapping)
  'agent-clis': { values: ['canonical', 'streaming', 'util', 'providers/anthropic'], types: ['config'] },
  // governance (issue #15): key policies, limits, budgets, the key store; enforced by pipeline handlers
  governance: { values: ['canonical', 'util', 'state'], types: ['config'] },
  // plugins (issue #18): the plugin API, the JS and Lua hosts and the built-in plugins; compiled
  // into phase handlers by the pipeline
  plugins: { values: ['canonical', 'util'], types: ['config'] },
  pipeline: { values: ['agent-clis', 'canonical', 'config', 'governance', 'observability', 'plugins', 'routing', 'server', 'state', 'streaming', 'upstream', 'util'] },
  // the gateway's own endpoints (status, usage, probes): answered through the pipeline, never imported by it
  admin: { values: ['canonical', 'config', 'governance', 'observability', 'pipeline', 'routing', 'state', 'util'] },
  main: EVERYTHING,
  cli: EVERYTHING,
};

/** Folders whose subfolders are modules of their own (one per dialect). */
const PER_DIALECT = new Set(['surfaces', 'providers']);
/** Provider folders every provider may use. */
const SHARED_PROVIDER_FOLDERS = new Set(['providers/common', 'providers/presets']);

function moduleOf(src: string, file: string): string {
  const parts = relative(src, file).split(sep);
  if (parts.length === 1) return parts[0]!.replace(/\.ts$/, '');
  if (PER_DIALECT.has(parts[0]!) && parts.length > 2) return `${parts[0]}/${parts[1]}`;
  return parts[0]!;
}

function family(module: string): string {
  return module.split('/')[0]!;
}

function files(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function allows(list: readonly string[] | undefined, to: string): boolean {
  return list !== undefined && (list.includes('*') || list.includes(to) || list.includes(family(to)));
}

/** Every violation in the tree at `src`, each as `path:line: message` with the path relative to `root`. */
export function checkBoundaries(root: string, src = join(root, 'src')): string[] {
  const violations: string[] = [];
  for (const file of files(src)) {
    const from = moduleOf(src, file);
    const rule = rules[family(from)];
    if (rule === undefined) {
      violations.push(`${relative(root, file)}: src/${family(from)}/ has no row in the boundary table; add one to scripts/check-boundaries.ts and docs/architecture.md`);
      continue;
    }
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    const where = (node: ts.Node): string => `${relative(root, file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
    const check = (node: ts.Node, specifier: string, typeOnly: boolean): void => {
      const problem = importProblem(src, file, from, rule, specifier, typeOnly);
      if (problem !== undefined) violations.push(`${where(node)}: ${problem}`);
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        check(node, node.moduleSpecifier.text, importIsTypeOnly(node));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
        check(node, node.moduleSpecifier.text, node.isTypeOnly);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const argument = node.arguments[0];
        if (argument !== undefined && ts.isStringLiteralLike(argument)) check(node, argument.text, false);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        check(node, node.argument.literal.text, true);
      } else if (node.kind === ts.SyntaxKind.AnyKeyword) {
        violations.push(`${where(node)}: an \`any\` type; use \`unknown\` and narrow it (JsonObject and the helpers of src/util/json-value.ts)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return violations;
}

/** What is wrong with `file` (in module `from`) importing `specifier`, if anything. */
function importProblem(src: string, file: string, from: string, rule: Rule, specifier: string, typeOnly: boolean): string | undefined {
  const kind = typeOnly ? 'imports types from' : 'imports';
  if (!specifier.startsWith('.')) {
    // node: modules and packages
    if (from === 'canonical') return `(canonical) ${kind} '${specifier}': the canonical spec imports nothing`;
    if (from === 'routing' && !typeOnly && specifier.startsWith('node:')) return `(routing) imports '${specifier}': routing is pure and imports no node: module`;
    return undefined;
  }
  const target = resolve(dirname(file), specifier);
  if (!target.startsWith(src + sep)) return undefined;
  const to = moduleOf(src, target);
  if (to === from) return undefined;
  if (family(to) === family(from) && PER_DIALECT.has(family(from)) && !SHARED_PROVIDER_FOLDERS.has(to)) {
    return `(${from}) ${kind} ${specifier}: another ${family(from).slice(0, -1)}'s folder`;
  }
  if (allows(rule.values, to) || (typeOnly && allows(rule.types, to))) return undefined;
  const hint = !typeOnly && allows(rule.types, to) ? '; only `import type` may cross here' : '';
  return `(${from}) ${kind} ${specifier} (${to})${hint}`;
}

/** `import type {…}` and `import type X`; `import {type A, type B}` still loads the module. */
function importIsTypeOnly(declaration: ts.ImportDeclaration): boolean {
  return declaration.importClause?.isTypeOnly === true;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const violations = checkBoundaries(resolve(dirname(fileURLToPath(import.meta.url)), '..'));
  if (violations.length > 0) {
    process.stderr.write(`Module boundary violations (see docs/architecture.md, "Modules and boundaries"):\n  ${violations.join('\n  ')}\n`);
    process.exit(1);
  }
  process.stdout.write('module boundaries: ok\n');
}
