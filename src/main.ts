// Composition root: the only module that wires concrete surfaces, providers and the listener.
import type http from 'node:http';
import type { ProviderAdapter } from './canonical/adapters.ts';
import type { GatewayConfig } from './config/types.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { Gateway, type PrefixRoute, type RouteEntry } from './pipeline/gateway.ts';
import { healthz, listModels, readyz, retrieveModel } from './pipeline/local.ts';
import { Runtime } from './pipeline/runtime.ts';
import { openaiProvider } from './providers/openai/index.ts';
import { createListener, drainListener, listen } from './server/listener.ts';
import { encodeOpenAIModel, encodeOpenAIModelList, openaiChat, openaiCompletions, openaiEmbeddings, openaiResponses } from './surfaces/openai/index.ts';

export const providerAdapters: ReadonlyMap<string, ProviderAdapter> = new Map([['openai', openaiProvider]]);

const created = Math.floor(Date.now() / 1000);

function routeTable(): { routes: Map<string, RouteEntry>; prefixRoutes: PrefixRoute[] } {
  const routes = new Map<string, RouteEntry>();
  // OpenAI clients send these with /v1 when their base URL ends in /v1, and without it when
  // configured with the bare host; both are accepted, nothing else is guessed.
  for (const prefix of ['/v1', '']) {
    routes.set(`${prefix}/chat/completions`, { method: 'POST', surface: openaiChat });
    routes.set(`${prefix}/completions`, { method: 'POST', surface: openaiCompletions });
    routes.set(`${prefix}/embeddings`, { method: 'POST', surface: openaiEmbeddings });
    routes.set(`${prefix}/responses`, { method: 'POST', surface: openaiResponses });
    routes.set(`${prefix}/models`, { method: 'GET', local: listModels });
  }
  routes.set('/healthz', { method: 'GET', local: healthz, public: true });
  routes.set('/readyz', { method: 'GET', local: readyz, public: true });
  const encodeOne = (model: { id: string; ownedBy: string }) => encodeOpenAIModel(model, created);
  const byPrefix = (prefix: string, entry: RouteEntry): PrefixRoute => ({ prefix, resolve: () => ({ entry }) });
  const prefixRoutes: PrefixRoute[] = [
    byPrefix('/v1/models/', { method: 'GET', local: retrieveModel('/v1/models/', encodeOne) }),
    byPrefix('/models/', { method: 'GET', local: retrieveModel('/models/', encodeOne) }),
  ];
  return { routes, prefixRoutes };
}

export function buildRuntime(config: GatewayConfig, logger: Logger): Runtime {
  return new Runtime(config, { providerAdapters, logger });
}

export interface StartOptions {
  config: GatewayConfig;
  host?: string;
  port?: number;
  logger?: Logger;
  /** Share the port with sibling worker processes (SO_REUSEPORT). */
  reusePort?: boolean;
  /** Run model discovery before resolving (default true). */
  discover?: boolean;
}

export interface RunningGateway {
  gateway: Gateway;
  server: http.Server;
  logger: Logger;
  url: string;
  port: number;
  /** Builds a runtime from a new snapshot and swaps it in; in-flight requests are unaffected. */
  reload(config: GatewayConfig): Promise<void>;
  /** Stops accepting, waits for in-flight requests up to `timeoutMs`, closes upstream pools. */
  drain(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  const config = options.config;
  const logger = options.logger ?? createLogger(config.logging);
  const runtime = buildRuntime(config, logger);
  const { routes, prefixRoutes } = routeTable();
  const gateway = new Gateway(runtime, {
    routes,
    prefixRoutes,
    errorSurface: openaiChat,
    encodeModelList: (router) => encodeOpenAIModelList(router.listModels(), created),
    logger,
  });
  const server = createListener(gateway.handle, { keepAliveTimeoutMs: config.server.keepAliveTimeoutMs });
  const host = options.host ?? config.server.host;
  const address = await listen(server, host, options.port ?? config.server.port, options.reusePort ?? false);
  const discover = options.discover ?? true;
  if (discover) {
    await runtime.discoverAll();
    runtime.startBackgroundDiscovery();
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped = false;
  return {
    gateway,
    server,
    logger,
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    async reload(next: GatewayConfig) {
      const fresh = buildRuntime(next, logger);
      if (discover) {
        await fresh.discoverAll();
        fresh.startBackgroundDiscovery();
      }
      gateway.swap(fresh);
    },
    async drain(timeoutMs: number) {
      if (stopped) return true;
      stopped = true;
      gateway.draining = true;
      const finished = await drainListener(server, () => gateway.whenIdle(), timeoutMs);
      await gateway.runtime.destroy();
      return finished;
    },
    async close() {
      if (stopped) return;
      stopped = true;
      gateway.draining = true;
      await drainListener(server, () => Promise.resolve(), 0);
      await gateway.runtime.destroy();
    },
  };
}
