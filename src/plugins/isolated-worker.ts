// The thread of an isolated JS/TS plugin (isolated.ts): imports the plugin module, builds its
// instance from the entry's config, and answers hook calls posted by the gateway's thread. The
// gateway can stop this thread at any moment (a hook that never returns): nothing here is shared.
import { parentPort, workerData } from 'node:worker_threads';
import type { PluginContext, PluginDefinition, PluginInstance } from './api.ts';
import { resolvePackageName } from './package-name.ts';

interface Call {
  id: number;
  hook: 'onRequest' | 'onComplete';
  context: Omit<PluginContext, 'header' | 'log' | 'reject' | 'state'> & { headers: Record<string, string> };
  argument: unknown;
}

const { url, config, dir } = workerData as { url: string; config: unknown; dir: string };
const port = parentPort!;

class Rejection extends Error {
  readonly status: number;
  /** As the plugin gave it: the gateway's thread checks its shape. */
  readonly code: string;
  readonly rejection = true as const;
  constructor(status: number, message: string, code: string | undefined) {
    super(message);
    this.status = status;
    this.code = typeof code === 'string' ? code : '';
  }
}

const log = (message: string, fields?: Record<string, unknown>) => port.postMessage({ log: message, fields });
resolvePackageName();
const definition = (await import(url) as { default: PluginDefinition }).default;
const instance: PluginInstance = definition.setup !== undefined ? await definition.setup(config, { dir, log }) : { ...definition.hooks };
port.postMessage({ ready: true });

port.on('message', async (call: Call) => {
  const headers = call.context.headers;
  const context: PluginContext = {
    ...call.context,
    state: {},
    header: (name) => headers[name.toLowerCase()],
    log: (message, fields) => log(message, { id: call.context.requestId, ...fields }),
    reject: (status, message, code) => new Rejection(status, message, code),
  };
  try {
    const hook = instance[call.hook] as ((ctx: PluginContext, argument: unknown) => unknown) | undefined;
    const result = await hook?.call(instance, context, call.argument);
    // the request travels by copy: what the hook changed in place comes back as a replacement
    port.postMessage({ id: call.id, result: call.hook === 'onRequest' ? (result ?? call.argument) : undefined });
  } catch (error) {
    if (error instanceof Rejection) port.postMessage({ id: call.id, rejection: { status: error.status, message: error.message, code: error.code } });
    else port.postMessage({ id: call.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
});
