// Composition root: the only module that wires concrete surfaces, providers and the listener.
import type { RequestObserver } from './pipeline/context.ts';
import { providersEndpoint, statusEndpoint } from './pipeline/status.ts';
import { HealthBook } from './state/health.ts';
import type http from 'node:http';
import type { DialectSurfaces, ProviderAdapter } from './canonical/adapters.ts';
import type { GatewayConfig } from './config/types.ts';
import { createLoggers, type Logger } from './observability/logger.ts';
import { JsonAccessLog, type LineSink } from './observability/access-log.ts';
import { Gateway } from './pipeline/gateway.ts';
import { healthz, readyz } from './pipeline/local.ts';
import { RouteTable } from './pipeline/route-table.ts';
import { Runtime } from './pipeline/runtime.ts';
import { anthropicProvider } from './providers/anthropic/index.ts';
import { geminiProvider } from './providers/gemini/index.ts';
import { ollamaProvider } from './providers/ollama/index.ts';
import { openaiProvider } from './providers/openai/index.ts';
import { openaiResponsesProvider } from './providers/openai-responses/index.ts';
import { createListener, drainListener, listen } from './server/listener.ts';
import { openaiChat } from './surfaces/openai/index.ts';
import { openaiSurfaces } from './surfaces/openai/routes.ts';
import { anthropicSurfaces } from './surfaces/anthropic/routes.ts';
import { geminiSurfaces } from './surfaces/gemini/routes.ts';
import { ollamaSurfaces } from './surfaces/ollama/routes.ts';

export const providerAdapters: ReadonlyMap<string, ProviderAdapter> = new Map([
  ['openai', openaiProvider],
  ['openai-responses', openaiResponsesProvider],
  ['anthropic', anthropicProvider],
  ['gemini', geminiProvider],
  ['ollama', ollamaProvider],
]);

// Routes with conditions (Anthropic's and Gemini's GET /v1/models) are tried before plain ones.
const dialects: readonly DialectSurfaces[] = [anthropicSurfaces, geminiSurfaces, ollamaSurfaces, openaiSurfaces];

function routeTable(): RouteTable {
  const gatewayRoutes = [
    { path: '/healthz', entry: { method: 'GET' as const, local: healthz, public: true } },
    { path: '/readyz', entry: { method: 'GET' as const, local: readyz, public: true } },
    { path: '/v1/providers', entry: { method: 'GET' as const, local: providersEndpoint } },
    { path: '/v0/status', entry: { method: 'GET' as const, local: statusEndpoint } },
  ];
  return new RouteTable(dialects.flatMap((dialect) => dialect.routes), gatewayRoutes, dialects.flatMap((dialect) => dialect.errorPrefixes));
}

export function buildRuntime(config: GatewayConfig, logger: Logger, health: HealthBook = new HealthBook()): Runtime {
  return new Runtime(config, { providerAdapters, logger, health });
}

export interface StartOptions {
  config: GatewayConfig;
  host?: string;
  port?: number;
  logger?: Logger;
  /** The per-request access log (defaults to `logger`). */
  accessLogger?: Logger;
  /** A JSON-lines destination for the specialised access-line writer (faster than `accessLogger`). */
  accessSink?: LineSink;
  /** Share the port with sibling worker processes (SO_REUSEPORT). */
  reusePort?: boolean;
  /** Run model discovery before resolving (default true). */
  discover?: boolean;
  /** Told about every finished request, after the built-in ones (tests, embedders). */
  observers?: readonly RequestObserver[];
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
  const created = options.logger === undefined ? createLoggers(config.logging) : undefined;
  const logger = options.logger ?? created!.logger;
  const accessLogger = options.accessLogger ?? created?.access ?? logger;
  const accessSink = options.accessSink ?? created?.sink;
  const accessLog = accessSink !== undefined && accessLogger.isLevelEnabled('info') ? new JsonAccessLog(accessSink) : undefined;
  // passive health outlives reloads: a key that is cooling down stays so under a new config
  const health = new HealthBook();
  const runtime = buildRuntime(config, logger, health);
  const observers: RequestObserver[] = [...(options.observers ?? [])];
  const gateway = new Gateway(runtime, { routes: routeTable(), errorSurface: openaiChat, logger, accessLogger, observers, ...(accessLog !== undefined ? { accessLog } : {}) });
  const server = createListener(gateway.handle, { keepAliveTimeoutMs: config.server.keepAliveTimeoutMs });
  const host = options.host ?? config.server.host;
  const address = await listen(server, host, options.port ?? config.server.port, options.reusePort ?? false);
  const discover = options.discover ?? true;
  if (discover) {
    await runtime.discoverAll();
    runtime.startBackgroundDiscovery();
  }
  runtime.startHealthChecks();
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let stopped = false;
  return {
    gateway,
    server,
    logger,
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    async reload(next: GatewayConfig) {
      const fresh = buildRuntime(next, logger, health);
      if (discover) {
        await fresh.discoverAll();
        fresh.startBackgroundDiscovery();
      }
      fresh.startHealthChecks();
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
