// Types for bin/v8-flags.js (plain JavaScript: it runs before any TypeScript).

/** The V8 flags bin/switchyard.js sets for this V8, leaving out any given to node on its command line. */
export declare function startFlags(v8Version: string, execArgv: readonly string[]): string[];
