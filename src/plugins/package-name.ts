// `import { definePlugin } from 'switchyard'` works in a plugin file wherever it lives (the gateway
// runs from its repository, not from a node_modules the plugin's folder could see): the name
// resolves to the plugin API module. A resolution hook, installed once per thread with the first
// JS plugin.
import { registerHooks } from 'node:module';

let installed = false;

export function resolvePackageName(): void {
  if (installed) return;
  installed = true;
  const api = new URL('./api.ts', import.meta.url).href;
  registerHooks?.({
    resolve: (specifier, context, nextResolve) => (specifier === 'switchyard' ? { url: api, format: 'module-typescript', shortCircuit: true } : nextResolve(specifier, context)),
  });
}
