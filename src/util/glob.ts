/** Compiles a model pattern with `*` (any run) and `?` (one character) to an anchored RegExp. */
export function compileGlob(pattern: string): RegExp {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export function isGlob(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** A matcher for a list of names and patterns: exact names by set lookup, patterns as one RegExp. */
export function compileGlobs(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((pattern) => !isGlob(pattern)));
  const globs = patterns.filter(isGlob).map((pattern) => compileGlob(pattern).source);
  const combined = globs.length === 0 ? undefined : new RegExp(globs.join('|'));
  return (name) => exact.has(name) || (combined !== undefined && combined.test(name));
}
