// Loads the `plugins:` entries of a config: imports each JS/TS module (or Lua plugin, or names a
// built-in), checks its default export and its config against its schema, and builds one
// instance per entry. Every failure names the entry, the file and, where the runtime says, the
// line — for `check-config`, start-up and reload reports (a reload that fails keeps the previous
// set serving).
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PluginConfig } from '../config/types.ts';
import type { PluginDefinition, PluginHost, PluginInstance } from './api.ts';
import { resolvePackageName } from './package-name.ts';

/** One loaded entry: its definition's hooks for this entry's config. */
export interface LoadedPlugin {
  readonly name: string;
  readonly entry: PluginConfig;
  /** The file it came from ('' for a built-in). */
  readonly file: string;
  readonly instance: PluginInstance;
  /** The files whose change reloads it (the module itself, a Lua folder's files). */
  readonly watch: readonly string[];
}

/** A plugin that could not be loaded; `message` names the entry and the file (and line). */
export class PluginLoadError extends Error {
  readonly entry: string;
  constructor(entry: string, message: string) {
    super(`${entry}: ${message}`);
    this.name = 'PluginLoadError';
    this.entry = entry;
  }
}

/** Finds a definition for a `use:` that is not a JS/TS module (a built-in, a Lua plugin). */
export interface PluginSources {
  builtin(name: string): Promise<PluginDefinition | undefined>;
  builtinNames(): Promise<readonly string[]>;
  /** Loads a Lua file or folder; undefined when the path is not a Lua plugin. */
  lua?(path: string, entry: PluginConfig): Promise<{ definition: PluginDefinition; watch: readonly string[] } | undefined>;
}

/** Loads every entry, in order; the first failure throws (the caller keeps what it had). Instances already built are disposed. */
export async function loadPlugins(entries: readonly PluginConfig[], sources: PluginSources, log: PluginHost['log']): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  try {
    for (const entry of entries) loaded.push(await loadPlugin(entry, sources, log));
  } catch (error) {
    await disposePlugins(loaded);
    throw error;
  }
  return loaded;
}

/** Lets go of instances (a reload replaced them, or the gateway stops); a dispose that fails is ignored. */
export async function disposePlugins(plugins: readonly LoadedPlugin[]): Promise<void> {
  await Promise.all(plugins.map(async (plugin) => {
    try {
      await plugin.instance.dispose?.();
    } catch {
      // a plugin's cleanup failing must not stop the others'
    }
  }));
}

async function loadPlugin(entry: PluginConfig, sources: PluginSources, log: PluginHost['log']): Promise<LoadedPlugin> {
  const label = `plugins[${entry.index}]`;
  let definition: PluginDefinition;
  let file = '';
  let watch: readonly string[] = [];
  if (entry.builtin) {
    const found = await sources.builtin(entry.use);
    if (found === undefined) throw new PluginLoadError(label, `no built-in plugin is named '${entry.use}' (built-ins: ${(await sources.builtinNames()).join(', ')}; a file needs a path such as ./${entry.use}.ts)`);
    definition = found;
  } else {
    file = entry.use;
    const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
      throw new PluginLoadError(label, `${file}: ${error.code === 'ENOENT' ? 'no such file or folder' : error.message}`);
    });
    const lua = await sources.lua?.(file, entry).catch((error: unknown) => {
      throw new PluginLoadError(label, (error as Error).message);
    });
    if (lua !== undefined) {
      definition = lua.definition;
      watch = lua.watch;
    } else if (info.isDirectory()) {
      throw new PluginLoadError(label, `${file} is a folder without a handler.lua`);
    } else {
      const url = `${pathToFileURL(file).href}?v=${Math.trunc(info.mtimeMs)}-${info.size}`;
      definition = await importDefinition(label, file, url);
      if (entry.isolate) {
        checkDefinition(label, file, definition);
        try {
          definition = (await import('./isolated.ts')).isolatedDefinition(url, file, definition, entry);
        } catch (error) {
          throw new PluginLoadError(label, (error as Error).message);
        }
      }
      watch = [file];
    }
  }
  checkDefinition(label, file, definition);
  let config: unknown;
  try {
    // the schema library is loaded only for a plugin that has a schema
    config = definition.configSchema === undefined ? entry.config : await (await import('./config-schema.ts')).checkPluginConfig(definition.configSchema, entry.config);
  } catch (error) {
    throw new PluginLoadError(label, `${definition.name}${file === '' ? '' : ` (${file})`}: config: ${(error as Error).message}`);
  }
  const host: PluginHost = {
    dir: file === '' ? '' : (entry.builtin ? '' : dirname(file)),
    log: (message, fields) => log(message, { plugin: definition.name, ...fields }),
  };
  let instance: PluginInstance;
  try {
    instance = definition.setup !== undefined ? await definition.setup(config, host) : { ...definition.hooks };
  } catch (error) {
    throw new PluginLoadError(label, `${definition.name}${file === '' ? '' : ` (${file})`}: setup failed: ${describeFailure(error, file)}`);
  }
  if (instance === null || typeof instance !== 'object') throw new PluginLoadError(label, `${definition.name}: setup must return the hooks object`);
  // the entry's config reaches hooks through ctx.config: kept on the instance's side of the host
  return { name: definition.name, entry: { ...entry, config, onError: entry.onError ?? (definition.onError === 'closed' ? 'closed' : 'open') }, file, instance, watch };
}

/**
 * Imports a module fresh: the URL carries the file's modification time and size, so a changed
 * file is a new module (the old one stays in Node's module cache: a reload costs its memory once).
 */
async function importDefinition(label: string, file: string, url: string): Promise<PluginDefinition> {
  resolvePackageName();
  let module: { default?: unknown };
  try {
    module = await import(url) as { default?: unknown };
  } catch (error) {
    throw new PluginLoadError(label, describeFailure(error, file));
  }
  if (module.default === undefined) throw new PluginLoadError(label, `${file}: has no default export (export default { name, hooks: { onRequest, … } })`);
  return module.default as PluginDefinition;
}

function checkDefinition(label: string, file: string, definition: unknown): asserts definition is PluginDefinition {
  const where = file === '' ? '' : `${file}: `;
  if (definition === null || typeof definition !== 'object') throw new PluginLoadError(label, `${where}the default export must be an object { name, hooks } (or definePlugin(…))`);
  const candidate = definition as Record<string, unknown>;
  if (typeof candidate['name'] !== 'string' || candidate['name'] === '') throw new PluginLoadError(label, `${where}the plugin needs a 'name' (a non-empty string)`);
  const hooks = candidate['hooks'];
  if (candidate['setup'] === undefined && (hooks === null || typeof hooks !== 'object')) throw new PluginLoadError(label, `${where}plugin '${candidate['name']}' has neither 'hooks' nor 'setup'`);
  if (candidate['setup'] !== undefined && typeof candidate['setup'] !== 'function') throw new PluginLoadError(label, `${where}'setup' must be a function`);
  if (hooks !== undefined && hooks !== null && typeof hooks === 'object') {
    for (const [name, hook] of Object.entries(hooks)) {
      if (!HOOK_NAMES.has(name)) throw new PluginLoadError(label, `${where}plugin '${candidate['name']}' has an unknown hook '${name}' (hooks: ${[...HOOK_NAMES].join(', ')})`);
      if (typeof hook !== 'function') throw new PluginLoadError(label, `${where}hook '${name}' must be a function`);
    }
  }
}

export const HOOK_NAMES: ReadonlySet<string> = new Set(['onRequest', 'onAttempt', 'onResponse', 'onStreamEvent', 'onError', 'onComplete']);

/**
 * A failure's message with the place in the plugin's file: a syntax error's `file:line` (from the
 * first line of its stack), else the first stack frame inside the file.
 */
export function describeFailure(error: unknown, file: string): string {
  if (!(error instanceof Error)) return String(error);
  const stack = error.stack ?? '';
  const name = error.name === 'Error' ? '' : `${error.name}: `;
  if (file !== '') {
    const url = pathToFileURL(file).href;
    for (const line of stack.split('\n')) {
      const at = locate(line, url, file);
      if (at !== undefined) return `${at}: ${name}${error.message}`;
    }
  }
  return `${file === '' ? '' : `${file}: `}${name}${error.message}`;
}

/** `file:line[:column]` when the stack line points into `file` (as a URL, with or without our ?v= query, or as a path). */
function locate(line: string, url: string, file: string): string | undefined {
  for (const prefix of [url, file]) {
    const at = line.indexOf(prefix);
    if (at < 0) continue;
    const rest = line.slice(at + prefix.length).replace(/^\?v=[\d-]+/, '');
    const match = /^:(\d+)(?::(\d+))?/.exec(rest);
    if (match !== null) return `${prefix === url ? fileURLToPath(url) : file}:${match[1]}${match[2] !== undefined ? `:${match[2]}` : ''}`;
  }
  return undefined;
}
