// A key's (or team's) `models`, compiled once: matched against the name the caller asked for, as
// written — an alias by its own name (its targets are not looked at: the operator lists what a key
// may ask for, and routing stays out of admission), `provider:model` also as `provider/model`, a
// bare model name also behind any provider prefix, and globs (`gpt-*`, `openai:*`).
import { compileGlob, isGlob } from '../util/glob.ts';

/** A trailing thinking suffix (`claude-x(high)`): the model is matched without it. */
const SUFFIX = /\([^()]*\)$/;

export class ModelAllowList {
  readonly entries: readonly string[];
  private readonly exact = new Set<string>();
  private readonly patterns: RegExp[] = [];

  constructor(entries: readonly string[]) {
    this.entries = entries;
    for (const entry of entries) {
      const colon = entry.indexOf(':');
      // `openai:gpt-4o` also as the router's other spelling, `openai/gpt-4o`
      const forms = colon > 0 ? [entry, `${entry.slice(0, colon)}/${entry.slice(colon + 1)}`] : [entry];
      for (const form of forms) {
        if (isGlob(form)) this.patterns.push(compileGlob(form));
        else this.exact.add(form);
      }
    }
  }

  allows(model: string): boolean {
    if (this.matches(model)) return true;
    // a bare entry allows the model through any provider prefix (`gpt-4o` allows `openai:gpt-4o`)
    const separator = Math.max(model.indexOf(':'), model.indexOf('/'));
    if (separator > 0 && this.matches(model.slice(separator + 1))) return true;
    return SUFFIX.test(model) && this.allows(model.replace(SUFFIX, ''));
  }

  private matches(name: string): boolean {
    if (this.exact.has(name)) return true;
    const patterns = this.patterns;
    for (let i = 0; i < patterns.length; i++) if (patterns[i]!.test(name)) return true;
    return false;
  }
}
