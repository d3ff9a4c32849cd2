// `switchyard serve`: one process, or a primary with N workers (node:cluster) sharing the port
// through SO_REUSEPORT. The primary owns the config (loads, validates, watches, re-sends it to
// the workers); workers own the data plane. SIGTERM drains: stop accepting, finish in-flight
// requests and streams up to the drain timeout, exit 0. A crashed worker is replaced.
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConfigError, formatProblems } from '../config/config-error.ts';
import { checkCandidateInChild, loadConfigFileInChild, maskedFileInChild } from '../config/subprocess.ts';
import { open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ConfigControl, ConfigOutcome, ConfigValidation } from '../admin/management-config.ts';
import { diffConfig, diffFields, summarizeDiff } from '../config/config-diff.ts';
import { PluginLoadError } from '../plugins/load.ts';
import { pluginWatchPaths } from '../plugins/watch-paths.ts';
import { refuseReload, type ReloadRefusal, type WrittenEmpty } from '../config/reload-guard.ts';
import { watchConfigFile } from '../config/watch.ts';
import type { GatewayConfig } from '../config/types.ts';
import { createLogger, createLoggers, type Logger } from '../observability/logger.ts';
import { aggregateWorkerMetrics } from '../observability/metrics-cluster.ts';
import { agentCliDrivers, startGateway, type RunningGateway } from '../main.ts';
import type { ServeArgs } from './args.ts';
import { isLoopback, renderBanner } from './banner.ts';
import { applyOverrides, type LoadedConfig } from './load-for-serve.ts';

/** The agent CLIs this build has drivers for. */
export function agentCliTypes(): IterableIterator<string> {
  return agentCliDrivers.keys();
}

/** Refuses an unauthenticated gateway on a non-loopback address unless the config says so. */
export function checkExposure(config: GatewayConfig): string | undefined {
  if (isLoopback(config.server.host) || config.auth.keys.length > 0 || config.auth.allowUnauthenticated) return undefined;
  // keys made through the management API (a key store, admin keys to make them): every caller
  // needs one, and until the first exists nobody gets in (pipeline/auth.ts)
  if (config.storage.enabled && config.auth.adminKeys.length > 0) return undefined;
  return `Refusing to listen on ${config.server.host} with no client keys: anyone who can reach it could spend your provider credits. ` +
    'Set auth.keys (e.g. keys: ["${SWITCHYARD_KEY}"]), or auth.admin_keys to create keys through the management API, bind 127.0.0.1, or set auth.allow_unauthenticated: true.';
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
  // the address itself only changes with a restart: the running one counts
  if (checkExposure({ ...next.config, server: { ...next.config.server, host: running.server.host } }) === undefined) return undefined;
  const keys = running.auth.keys.length;
  return {
    message: `it would leave ${running.server.host} (not loopback) with no client keys — that needs auth.allow_unauthenticated: true`,
    removes: keys > 0 ? { clientKeys: keys } : {},
  };
}

export async function serveSingle(args: ServeArgs, loaded: LoadedConfig, version: string): Promise<void> {
  const { logger, access, sink } = createLoggers(loaded.config.logging);
  const control = new ConfigFile(loaded, args, logger);
  const running = await startGateway({ config: loaded.config, logger, accessLogger: access, ...(sink !== undefined ? { accessSink: sink } : {}), configControl: control });
  process.stderr.write(renderBanner(version, running.url, loaded.config, running.gateway.runtime, 1, loaded.notes) + '\n');
  control.apply = async (config) => {
    await running.reload(config);
    return {};
  };
  installReload(control, logger);
  installShutdown(logger, async () => running.drain(loaded.config.server.drainTimeoutMs));
}

/**
 * The config file of a running gateway and the one way it is applied: file changes, SIGHUP and the
 * management API (`POST /v0/management/config/reload`, `PUT /v0/management/config`) all load the
 * file in a child (an invalid file is refused), pass the reload guard (a file that lost its client
 * keys or every provider by accident is refused), apply, and log what changed. One at a time, in order.
 */
export class ConfigFile implements ConfigControl {
  readonly path: string | undefined;
  readonly unavailable: string | undefined;
  /** Applies a vetted config to the process (and its workers); set once the gateway runs. */
  apply: (config: GatewayConfig) => Promise<Record<string, unknown>> = () => Promise.resolve({});
  /** Told each config that was applied (the plugin files to watch follow it). */
  onApplied: (config: GatewayConfig) => void = () => {};
  private readonly loaded: LoadedConfig;
  private readonly args: ServeArgs;
  private readonly logger: Logger;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(loaded: LoadedConfig, args: ServeArgs, logger: Logger, unavailable?: string) {
    this.loaded = loaded;
    this.path = loaded.path;
    this.args = args;
    this.logger = logger;
    this.unavailable = unavailable;
  }

  /** The config as last applied. */
  get current(): GatewayConfig {
    return this.loaded.config;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /** What `switchyard check-config` reports for the text: its problems (with the text's lines), the drivers, the warnings. */
  async validate(text: string): Promise<ConfigValidation> {
    try {
      // over the file: a masked value sent back stands for the file's own (config/candidate.ts)
      const checked = await checkCandidateInChild(text, 'candidate', this.path);
      const undriven = checkAgentCliDrivers(checked.config);
      return { valid: undriven === undefined, problems: undriven === undefined ? [] : [{ path: 'providers', message: undriven }], warnings: checked.warnings };
    } catch (error) {
      if (error instanceof ConfigError) return { valid: false, problems: error.problems, warnings: [] };
      throw error;
    }
  }

  /** The file's text with its literal credentials masked in place; undefined on zero-config. */
  async maskedText(): Promise<string | undefined> {
    return this.path === undefined ? undefined : maskedFileInChild(this.path);
  }

  reload(reason: string): Promise<ConfigOutcome> {
    return this.serially(async () => {
      const path = this.path;
      if (path === undefined) return { applied: false, message: 'no config file (zero-config)', problems: [] };
      this.logger.info({ path, reason }, 'reloading config');
      let next: Reloaded;
      try {
        const loaded = await loadConfigFileInChild(path);
        for (const warning of loaded.warnings) this.logger.warn({ path }, warning);
        next = { config: applyOverrides(loaded.config, this.args), writtenEmpty: loaded.writtenEmpty };
      } catch (error) {
        const problems = error instanceof ConfigError ? error.problems : [{ path: '', message: (error as Error).message }];
        this.logger.error({ path, problems: error instanceof ConfigError ? formatProblems(path, error.problems) : (error as Error).message }, 'config reload refused; keeping the previous config');
        return { applied: false, message: `${path} has problems; the previous config stays`, problems };
      }
      // the file written through the management API, seen again by the watcher: already applied
      if (reason === 'file changed' && JSON.stringify(next.config) === JSON.stringify(this.loaded.config)) return this.unchanged();
      return this.applyVetted(next, reason);
    });
  }

  /** Checks the candidate, writes it over the file (atomically: a temporary file renamed), then applies it. */
  replace(text: string, reason: string): Promise<ConfigOutcome> {
    return this.serially(async () => {
      const path = this.path;
      if (path === undefined) return { applied: false, message: 'no config file (zero-config)', problems: [] };
      let checked: Awaited<ReturnType<typeof checkCandidateInChild>>;
      try {
        checked = await checkCandidateInChild(text, 'candidate', path);
      } catch (error) {
        if (error instanceof ConfigError) return { applied: false, message: `the candidate has ${error.problems.length === 1 ? 'a problem' : `${error.problems.length} problems`}; ${path} is unchanged`, problems: error.problems };
        throw error;
      }
      const undriven = checkAgentCliDrivers(checked.config);
      if (undriven !== undefined) return { applied: false, message: `${undriven}; ${path} is unchanged`, problems: [{ path: 'providers', message: undriven }] };
      const next: Reloaded = { config: applyOverrides(checked.config, this.args), writtenEmpty: checked.writtenEmpty };
      const refusal = vetReload(this.loaded.config, next);
      if (refusal !== undefined) return { applied: false, message: `refused: ${refusal.message}; ${path} is unchanged`, problems: [{ path: '', message: refusal.message }] };
      await writeAtomically(path, checked.text);
      this.logger.info({ path, reason }, 'config file written');
      return this.applyVetted(next, reason, true);
    });
  }

  private unchanged(): ConfigOutcome {
    return { applied: true, config: this.loaded.config, changes: 'nothing changed', restartNeeded: [] };
  }

  private async applyVetted(next: Reloaded, reason: string, vetted = false): Promise<ConfigOutcome> {
    const path = this.path!;
    if (!vetted) {
      const refusal = vetReload(this.loaded.config, next);
      if (refusal !== undefined) {
        this.logger.warn({ path, reason, removes: refusal.removes }, `config reload refused: ${refusal.message}; keeping the previous config`);
        return { applied: false, message: `refused: ${refusal.message}; the previous config stays`, problems: [{ path: '', message: refusal.message }] };
      }
    }
    const diff = diffConfig(this.loaded.config, next.config);
    let extra: Record<string, unknown>;
    try {
      extra = await this.apply(next.config);
    } catch (error) {
      if (!(error instanceof PluginLoadError)) throw error;
      // a plugin that does not load (a syntax error, a bad config): the previous set keeps serving
      this.logger.error({ path, reason, plugin: error.entry, err: error.message }, 'config reload refused: a plugin failed to load; keeping the previous config');
      return { applied: false, message: `${error.message}; the previous config stays`, problems: [{ path: error.entry, message: error.message }] };
    }
    this.loaded.config = next.config;
    this.onApplied(next.config);
    const changes = summarizeDiff(diff);
    this.logger.info({ path, reason, ...diffFields(diff), ...extra }, `config reloaded: ${changes}`);
    if (diff.restartNeeded.length > 0) this.logger.warn({ settings: diff.restartNeeded }, `${diff.restartNeeded.join(', ')} changed: this takes effect after a restart`);
    return { applied: true, config: next.config, changes, restartNeeded: diff.restartNeeded };
  }
}

/** Writes `text` over `path` through a temporary file beside it and a rename: a reader never sees half a file. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const mode = await stat(target).then((info) => info.mode & 0o777, () => 0o644);
  const handle = await open(temporary, 'w', mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, target);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
}

/** File changes and SIGHUP reload through `control` (its queue keeps them in order with the API's). */
function installReload(control: ConfigFile, logger: Logger): void {
  const path = control.path;
  if (path === undefined) {
    process.on('SIGHUP', () => logger.info('SIGHUP ignored: running on zero-config (no file to reload)'));
    return;
  }
  const reload = (reason: string) => {
    control.reload(reason).catch((error: unknown) => logger.error({ err: (error as Error).message }, 'config reload failed'));
  };
  watchConfigFile(path, () => reload('file changed'));
  process.on('SIGHUP', () => reload('SIGHUP'));
  // a plugin's own file changing reloads too (the set of files follows the config as applied)
  const watched = new Map<string, () => void>();
  const followPlugins = (config: GatewayConfig) => {
    const wanted = new Set(pluginWatchPaths(config.plugins));
    for (const [file, stop] of watched) if (!wanted.has(file)) {
      stop();
      watched.delete(file);
    }
    for (const file of wanted) {
      if (watched.has(file)) continue;
      try {
        watched.set(file, watchConfigFile(file, () => reload('plugin changed')));
      } catch (error) {
        logger.warn({ file, err: (error as Error).message }, 'cannot watch a plugin file: changes to it need a reload (SIGHUP)');
      }
    }
  };
  followPlugins(control.current);
  control.onApplied = followPlugins;
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
  | { type: 'config'; config: GatewayConfig; path: string | undefined; notes: string[]; banner: boolean; version: string; workers: number }
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
      const message: PrimaryMessage = { type: 'config', config: loaded.config, path: loaded.path, notes: loaded.notes, banner: !bannerShown, version, workers: count };
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

  const control = new ConfigFile(loaded, args, logger);
  control.apply = async (config) => {
    // a worker forked later gets `loaded.config`, which the control sets once this returns
    for (const worker of workers) worker.send({ type: 'reload', config } satisfies PrimaryMessage);
    return { workers: workers.size };
  };
  installReload(control, logger);
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
      // the primary owns the file: a worker validates candidates, and leaves writing and reloading to it
      const control = new ConfigFile({ config: message.config, path: message.path, notes: [] }, {} as ServeArgs, logger,
        'With server.workers above 1 the primary process owns the config file: edit the file (it is watched) or send SIGHUP to the primary.');
      startGateway({
        config: message.config, logger, accessLogger: loggers.access, ...(loggers.sink !== undefined ? { accessSink: loggers.sink } : {}), reusePort: true, clusterMetrics: true, onModelsRefresh, configControl: control,
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
