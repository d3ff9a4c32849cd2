// `switchyard serve`: one process, or a primary with N workers (node:cluster) sharing the port
// through SO_REUSEPORT. The primary owns the config (loads, validates, watches, re-sends it to
// the workers); workers own the data plane. SIGTERM drains: stop accepting, finish in-flight
// requests and streams up to the drain timeout, exit 0. A crashed worker is replaced.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConfigError, formatProblems } from '../config/config-error.ts';
import { buildZeroConfigInChild, loadConfigFileInChild } from '../config/subprocess.ts';
import { findConfigPath } from '../config/locate.ts';
import { deepFreeze } from '../config/freeze.ts';
import { diffConfig, diffFields, summarizeDiff } from '../config/config-diff.ts';
import { refuseReload, type ReloadRefusal, type WrittenEmpty } from '../config/reload-guard.ts';
import { watchConfigFile } from '../config/watch.ts';
import type { GatewayConfig, LogLevel } from '../config/types.ts';
import { createLogger, createLoggers, type Logger } from '../observability/logger.ts';
import { aggregateWorkerMetrics } from '../observability/metrics-cluster.ts';
import { agentCliDrivers, startGateway, type RunningGateway } from '../main.ts';
import type { ServeArgs } from './args.ts';
import { isLoopback, renderBanner } from './banner.ts';

export interface LoadedConfig {
  config: GatewayConfig;
  path: string | undefined;
  notes: string[];
}

export function applyOverrides(config: GatewayConfig, args: ServeArgs): GatewayConfig {
  const server = { ...config.server };
  if (args.host !== undefined) server.host = args.host;
  if (args.port !== undefined) server.port = args.port;
  if (args.workers !== undefined) server.workers = args.workers;
  const logging = { ...config.logging };
  if (args.logLevel !== undefined) logging.level = args.logLevel as LogLevel;
  return deepFreeze({ ...config, server, logging });
}

/** Loads the config the CLI points at (or builds the zero-config one) and applies flag overrides. */
export async function loadForServe(args: ServeArgs, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const path = findConfigPath(args.config, env, process.cwd());
  if (path === undefined) {
    const zero = await buildZeroConfigInChild(env, [...agentCliDrivers.keys()]);
    return { config: applyOverrides(zero.config, args), path: undefined, notes: zero.found };
  }
  const loaded = await loadConfigFileInChild(path, env);
  return { config: applyOverrides(loaded.config, args), path, notes: loaded.warnings.map((warning) => `warning: ${warning}`) };
}

/** Refuses an unauthenticated gateway on a non-loopback address unless the config says so. */
export function checkExposure(config: GatewayConfig): string | undefined {
  if (isLoopback(config.server.host) || config.auth.keys.length > 0 || config.auth.allowUnauthenticated) return undefined;
  return `Refusing to listen on ${config.server.host} with no client keys: anyone who can reach it could spend your provider credits. ` +
    'Set auth.keys (e.g. keys: ["${SWITCHYARD_KEY}"]), bind 127.0.0.1, or set auth.allow_unauthenticated: true.';
}

/**
 * Agent-CLI providers whose type this build has no driver for: refused before the gateway starts
 * (or a reload applies), naming them, rather than failing half-way.
 */
export function checkAgentCliDrivers(config: GatewayConfig, drivers: ReadonlySet<string> = new Set(agentCliDrivers.keys())): string | undefined {
  const missing = config.providers.filter((provider) => provider.agentCli !== undefined && !drivers.has(provider.agentCli.type));
  if (missing.length === 0) return undefined;
  const names = missing.map((provider) => `'${provider.name}' (type ${provider.agentCli!.type})`).join(', ');
  const known = [...drivers];
  return `this build of Switchyard has no driver for provider${missing.length === 1 ? '' : 's'} ${names}${known.length > 0 ? `; it drives: ${known.join(', ')}` : '; it drives no agent CLI yet'}. Remove ${missing.length === 1 ? 'it' : 'them'} from the config.`;
}

export function workerCount(config: GatewayConfig): number {
  return config.server.workers === 'auto' ? availableParallelism() : config.server.workers;
}

/** Log lines are written in batches: flush them before the process goes. */
function exitAfterFlush(logger: Logger | undefined, code: number): void {
  if (logger === undefined) {
    process.exit(code);
  }
  const timer = setTimeout(() => process.exit(code), 1000);
  logger.flush(() => {
    clearTimeout(timer);
    process.exit(code);
  });
}

// ----- single process -------------------------------------------------------------------------

export interface Reloaded {
  config: GatewayConfig;
  writtenEmpty: WrittenEmpty;
}

async function reloadFrom(path: string, args: ServeArgs, logger: Logger): Promise<Reloaded | undefined> {
  try {
    const loaded = await loadConfigFileInChild(path);
    for (const warning of loaded.warnings) logger.warn({ path }, warning);
    return { config: applyOverrides(loaded.config, args), writtenEmpty: loaded.writtenEmpty };
  } catch (error) {
    const detail = error instanceof ConfigError ? formatProblems(path, error.problems) : (error as Error).message;
    logger.error({ path, problems: detail }, 'config reload refused; keeping the previous config');
    return undefined;
  }
}

/**
 * Whether a loaded file may replace the running config: not when it loses every client key or
 * every provider without saying so (reload-guard.ts), and not when it leaves an address that is
 * not loopback without client keys — what start-up refuses (the address itself only changes with
 * a restart, so the running one counts).
 */
export function vetReload(running: GatewayConfig, next: Reloaded): ReloadRefusal | undefined {
  const refusal = refuseReload(running, next.config, next.writtenEmpty);
  if (refusal !== undefined) return refusal;
  const undriven = checkAgentCliDrivers(next.config);
  if (undriven !== undefined) return { message: undriven, removes: {} };
  if (next.config.auth.keys.length > 0 || isLoopback(running.server.host) || next.config.auth.allowUnauthenticated) return undefined;
  const keys = running.auth.keys.length;
  return {
    message: `it would leave ${running.server.host} (not loopback) with no client keys — that needs auth.allow_unauthenticated: true`,
    removes: keys > 0 ? { clientKeys: keys } : {},
  };
}

export async function serveSingle(args: ServeArgs, loaded: LoadedConfig, version: string): Promise<void> {
  const { logger, access, sink } = createLoggers(loaded.config.logging);
  const running = await startGateway({ config: loaded.config, logger, accessLogger: access, ...(sink !== undefined ? { accessSink: sink } : {}) });
  process.stderr.write(renderBanner(version, running.url, loaded.config, running.gateway.runtime, 1, loaded.notes) + '\n');
  installReload(loaded, args, logger, async (config) => {
    await running.reload(config);
    return {};
  });
  installShutdown(logger, async () => running.drain(loaded.config.server.drainTimeoutMs));
}

/**
 * File changes and SIGHUP take the same way: load in a child (an invalid file is refused), the
 * reload guard (a file that lost its client keys or every provider by accident is refused), then
 * apply, and log what changed. Reloads run one at a time, in order.
 */
function installReload(loaded: LoadedConfig, args: ServeArgs, logger: Logger, apply: (config: GatewayConfig) => Promise<Record<string, unknown>>): void {
  const path = loaded.path;
  if (path === undefined) {
    process.on('SIGHUP', () => logger.info('SIGHUP ignored: running on zero-config (no file to reload)'));
    return;
  }
  let reloading = Promise.resolve();
  const reload = (reason: string) => {
    reloading = reloading.then(async () => {
      logger.info({ path, reason }, 'reloading config');
      const next = await reloadFrom(path, args, logger);
      if (next === undefined) return;
      const refusal = vetReload(loaded.config, next);
      if (refusal !== undefined) {
        logger.warn({ path, reason, removes: refusal.removes }, `config reload refused: ${refusal.message}; keeping the previous config`);
        return;
      }
      const diff = diffConfig(loaded.config, next.config);
      const extra = await apply(next.config);
      loaded.config = next.config;
      logger.info({ path, reason, ...diffFields(diff), ...extra }, `config reloaded: ${summarizeDiff(diff)}`);
      if (diff.restartNeeded.length > 0) logger.warn({ settings: diff.restartNeeded }, `${diff.restartNeeded.join(', ')} changed: this takes effect after a restart`);
    }).catch((error: unknown) => logger.error({ err: (error as Error).message }, 'config reload failed'));
  };
  watchConfigFile(path, () => reload('file changed'));
  process.on('SIGHUP', () => reload('SIGHUP'));
}

function installShutdown(logger: Logger, drain: () => Promise<boolean>): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining: no new connections; waiting for in-flight requests');
    drain().then((finished) => {
      logger.info({ finished }, finished ? 'drained; exiting' : 'drain timeout reached; closed remaining connections');
      exitAfterFlush(logger, 0);
    }, (error: unknown) => {
      logger.error({ err: (error as Error).message }, 'drain failed');
      exitAfterFlush(logger, 1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

// ----- cluster ------------------------------------------------------------------------------------

type PrimaryMessage =
  | { type: 'config'; config: GatewayConfig; notes: string[]; banner: boolean; version: string; workers: number }
  | { type: 'reload'; config: GatewayConfig }
  | { type: 'shutdown' }
  /** Another worker was asked to refresh the model lists: this one refreshes its own too. */
  | { type: 'refresh-models' };

/** From a worker: a client asked it for a model refresh (the primary tells the other workers). */
const REFRESH_MODELS = 'switchyard:refresh-models';

export async function servePrimary(args: ServeArgs, loaded: LoadedConfig, version: string): Promise<void> {
  const logger = createLogger(loaded.config.logging);
  const count = workerCount(loaded.config);
  const workers = new Set<Worker>();
  let shuttingDown = false;
  let bannerShown = false;
  let recentCrashes = 0;
  // a scrape of any worker's /metrics comes here and sees every worker
  aggregateWorkerMetrics();

  const fork = () => {
    const worker = cluster.fork();
    workers.add(worker);
    const startedAt = Date.now();
    worker.once('online', () => {
      const message: PrimaryMessage = { type: 'config', config: loaded.config, notes: loaded.notes, banner: !bannerShown, version, workers: count };
      bannerShown = true;
      worker.send(message);
    });
    worker.once('exit', (code, signal) => {
      workers.delete(worker);
      if (shuttingDown) {
        if (workers.size === 0) {
          logger.info('all workers exited');
          exitAfterFlush(logger, 0);
        }
        return;
      }
      logger.error({ worker: worker.process.pid, code, signal }, 'worker exited unexpectedly; starting a replacement');
      recentCrashes = Date.now() - startedAt < 30_000 ? recentCrashes + 1 : 0;
      const delay = Math.min(10_000, 100 * 2 ** Math.min(recentCrashes, 7));
      setTimeout(fork, delay).unref();
    });
  };
  for (let i = 0; i < count; i++) fork();
  cluster.on('message', (from, message: { type?: string } | undefined) => {
    if (message?.type !== REFRESH_MODELS) return;
    for (const worker of workers) if (worker !== from && worker.isConnected()) worker.send({ type: 'refresh-models' } satisfies PrimaryMessage);
  });

  installReload(loaded, args, logger, async (config) => {
    // a worker forked later gets `loaded.config`, which installReload sets once this returns
    for (const worker of workers) worker.send({ type: 'reload', config } satisfies PrimaryMessage);
    return { workers: workers.size };
  });
  const stop = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal, workers: workers.size }, 'draining workers');
    for (const worker of workers) worker.send({ type: 'shutdown' } satisfies PrimaryMessage);
    setTimeout(() => {
      logger.warn('workers did not exit in time; stopping them');
      for (const worker of workers) worker.kill('SIGKILL');
      exitAfterFlush(logger, 0);
    }, loaded.config.server.drainTimeoutMs + 5000).unref();
    if (workers.size === 0) process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export function serveWorker(): void {
  let running: RunningGateway | undefined;
  let logger: Logger | undefined;
  let stopping = false;
  /** A sibling's refresh arrived while this worker was still starting (listening, discovering). */
  let refreshPending = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const finish = () => exitAfterFlush(logger, 0);
    if (running === undefined) finish();
    else running.drain(running.gateway.runtime.config.server.drainTimeoutMs).then(finish, finish);
  };
  process.on('message', (message: PrimaryMessage) => {
    if (message.type === 'config') {
      const loggers = createLoggers(message.config.logging);
      logger = loggers.logger;
      const onModelsRefresh = () => {
        if (process.send !== undefined && process.connected) process.send({ type: REFRESH_MODELS });
      };
      startGateway({
        config: message.config, logger, accessLogger: loggers.access, ...(loggers.sink !== undefined ? { accessSink: loggers.sink } : {}), reusePort: true, clusterMetrics: true, onModelsRefresh,
      }).then((started) => {
        running = started;
        if (refreshPending) void started.gateway.runtime.refreshModels();
        if (message.banner) process.stderr.write(renderBanner(message.version, started.url, message.config, started.gateway.runtime, message.workers, message.notes) + '\n');
      }, (error: unknown) => {
        logger?.fatal({ err: (error as Error).message }, 'worker failed to start');
        exitAfterFlush(logger, 1);
      });
    } else if (message.type === 'reload') {
      running?.reload(message.config).catch((error: unknown) => logger?.error({ err: (error as Error).message }, 'reload failed in worker'));
    } else if (message.type === 'shutdown') {
      stop();
    } else if (message.type === 'refresh-models') {
      if (running === undefined) refreshPending = true;
      else void running.gateway.runtime.refreshModels();
    }
  });
  // Ctrl-C reaches the whole process group; the primary also sends 'shutdown'. Either drains.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
}

export function isWorkerProcess(): boolean {
  return cluster.isWorker;
}
