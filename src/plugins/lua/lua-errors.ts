// What a Lua plugin's failures look like to the plugin host. A deliberate refusal is not among
// them: it is thrown as the context's own rejection (`ctx.reject(status, message)`).

/** A hook ran past its time or instruction budget and was interrupted. */
export class PluginTimeoutError extends Error {
  readonly code = 'timeout';
  /** The budget it ran past, in milliseconds. */
  readonly budgetMs: number;
  constructor(message: string, budgetMs: number) {
    super(message);
    this.name = 'PluginTimeoutError';
    this.budgetMs = budgetMs;
  }
}

/** A hook ran out of the state's memory (`memory_limit_mb`); the instance rebuilds its state. */
export class PluginMemoryError extends Error {
  readonly code = 'memory';
  constructor(message: string) {
    super(message);
    this.name = 'PluginMemoryError';
  }
}

/** A Lua runtime error in a hook (a bug: indexing nil, a bad argument, `assert`), or a value the host cannot take. */
export class LuaPluginError extends Error {
  readonly code = 'lua_error';
  constructor(message: string) {
    super(message);
    this.name = 'LuaPluginError';
  }
}

/** A Lua plugin that cannot be loaded: a missing file, a syntax error, an error in its top-level code. */
export class LuaPluginLoadError extends Error {
  readonly code = 'load_error';
  /** The file at fault (absolute path) and, when known, the line. */
  readonly file: string;
  readonly line: number | undefined;
  constructor(message: string, file: string, line?: number) {
    super(message);
    this.name = 'LuaPluginLoadError';
    this.file = file;
    this.line = line;
  }
}
