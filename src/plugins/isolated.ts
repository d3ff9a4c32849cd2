// `isolate: true`: a JS/TS plugin in a worker thread of its own. Its hooks get a copy of the
// request and send the changed request back (a structured clone each way: tens of µs for a chat
// request, more for an agent's whole conversation), and a hook that does not answer within its
// budget has its thread stopped and started again — a loop cannot hold the gateway. The thread's
// JS heap is capped at the entry's `memory_limit_mb` (V8's own limit for the thread: past it V8
// stops the thread, not the process), and a thread stopped that way is started again on the next
// call, like one stopped for its time. Only the asynchronous hooks can cross threads: onRequest
// and onComplete.
import { Worker } from 'node:worker_threads';
import { dirname } from 'node:path';
import type { PluginConfig } from '../config/types.ts';
import type { PluginContext, PluginDefinition, PluginHost, PluginInstance } from './api.ts';

/** A hook that did not answer in time; its thread was stopped (the host counts it as a timeout). */
export class IsolatedTimeoutError extends Error {
  readonly code = 'timeout';
}

/** The thread reached its heap limit and was stopped by V8 (the host counts it as `memory`). */
export class IsolatedMemoryError extends Error {
  readonly code = 'memory';
}

const ISOLATED_HOOKS = new Set(['onRequest', 'onComplete']);
/** Longest wait for a plugin thread to start (import the module, run `setup`). */
const THREAD_START_MS = 10_000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/** The definition of an isolated plugin: each configured instance runs in its own thread. */
export function isolatedDefinition(url: string, file: string, loaded: PluginDefinition, entry: PluginConfig): PluginDefinition {
  const hooks = Object.keys(loaded.hooks ?? {});
  for (const hook of hooks) {
    if (!ISOLATED_HOOKS.has(hook)) throw new Error(`${file}: with isolate: true a plugin may have onRequest and onComplete only; '${hook}' runs on the gateway's thread (drop isolate, or move it to a plugin of its own)`);
  }
  return {
    name: loaded.name,
    ...(loaded.configSchema !== undefined ? { configSchema: loaded.configSchema } : {}),
    setup: (config, host) => new IsolatedPlugin(url, config, host, entry.timeoutMs, entry.memoryLimitMb, loaded.setup !== undefined ? undefined : hooks).start(),
  };
}

class IsolatedPlugin {
  private readonly url: string;
  private readonly config: unknown;
  private readonly host: PluginHost;
  private readonly budgetMs: number;
  private readonly memoryLimitMb: number;
  private worker: Worker | undefined = undefined;
  private ready: Promise<void> | undefined = undefined;
  private readonly pending = new Map<number, Pending>();
  private sequence = 0;
  private disposed = false;
  private readonly hooks: readonly string[] | undefined;

  constructor(url: string, config: unknown, host: PluginHost, budgetMs: number, memoryLimitMb: number, hooks: readonly string[] | undefined) {
    this.url = url;
    this.config = config;
    this.host = host;
    this.budgetMs = budgetMs;
    this.memoryLimitMb = memoryLimitMb;
    this.hooks = hooks;
  }

  async start(): Promise<PluginInstance> {
    await this.spawn();
    // calls are timed here from when the thread is ready, so a thread starting again is not a timeout
    const instance: PluginInstance & { selfTimed: true } = { dispose: () => this.dispose(), selfTimed: true };
    // a plugin with `setup` may return either hook: both are offered, an absent one answers nothing
    if (this.hooks === undefined || this.hooks.includes('onRequest')) instance.onRequest = (ctx, request) => this.call('onRequest', ctx, request) as Promise<typeof request>;
    if (this.hooks === undefined || this.hooks.includes('onComplete')) instance.onComplete = (ctx, summary) => this.call('onComplete', ctx, summary) as Promise<void>;
    return instance;
  }

  private spawn(): Promise<void> {
    const worker = new Worker(new URL('./isolated-worker.ts', import.meta.url), {
      workerData: { url: this.url, config: this.config, dir: dirname(new URL(this.url).pathname) },
      resourceLimits: { maxOldGenerationSizeMb: this.memoryLimitMb },
    });
    this.worker = worker;
    this.ready = new Promise<void>((resolve, reject) => {
      worker.once('error', (error) => reject(this.outOfMemory(error)));
      worker.once('message', () => {
        worker.off('error', reject);
        resolve();
      });
    });
    worker.on('message', (message: { id?: number; log?: string; fields?: Record<string, unknown>; result?: unknown; rejection?: { status: number; message: string; code?: string }; error?: string }) => {
      if (message.log !== undefined) {
        this.host.log(message.log, message.fields);
        return;
      }
      if (message.id === undefined) return;
      const pending = this.pending.get(message.id);
      if (pending === undefined) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.rejection !== undefined) pending.reject(Object.assign(new Error(message.rejection.message), { status: message.rejection.status, code: message.rejection.code ?? '', rejection: true }));
      else if (message.error !== undefined) pending.reject(new Error(message.error));
      else pending.resolve(message.result);
    });
    worker.on('error', (error) => this.failAll(this.outOfMemory(error)));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
    });
    worker.unref();
    return this.ready;
  }

  private async call(hook: 'onRequest' | 'onComplete', ctx: PluginContext, argument: unknown): Promise<unknown> {
    if (this.worker === undefined && !this.disposed) await this.spawn();
    // a thread that does not start at all is an error (a start is not held to the hook's budget)
    let startTimer: NodeJS.Timeout | undefined;
    await Promise.race([this.ready, new Promise((_, reject) => { startTimer = setTimeout(() => reject(new Error(`the plugin thread did not start within ${THREAD_START_MS} ms`)), THREAD_START_MS); })]).finally(() => clearTimeout(startTimer));
    const id = ++this.sequence;
    const headers: Record<string, string> = {};
    // the few headers a hook may read are copied; credentials never reach the thread (ctx.header hides them)
    for (const name of ['user-agent', 'x-session-id', 'x-request-id', 'content-type', 'anthropic-version', 'anthropic-beta', 'openai-beta']) {
      const value = ctx.header(name);
      if (value !== undefined) headers[name] = value;
    }
    const context = { requestId: ctx.requestId, plugin: ctx.plugin, config: ctx.config, keyId: ctx.keyId, model: ctx.model, dialect: ctx.dialect, surface: ctx.surface, path: ctx.path, stream: ctx.stream, headers };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new IsolatedTimeoutError(`did not answer within ${this.budgetMs} ms; its thread was stopped and is started again`));
        this.restart();
      }, this.budgetMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      this.worker!.postMessage({ id, hook, context, argument });
    });
  }

  /** A hook held the thread: stop it (the other calls in it fail too) and start a fresh one at once. */
  private restart(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new IsolatedTimeoutError('the plugin thread was stopped: another hook call did not answer in time'));
    void worker?.terminate();
    if (!this.disposed) this.spawn().catch(() => {});
  }

  /** V8's stop at the heap limit, said in the plugin's terms (the thread has exited; the next call starts another). */
  private outOfMemory(error: unknown): unknown {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_WORKER_OUT_OF_MEMORY') return error;
    return new IsolatedMemoryError(`its thread ran out of memory (limit ${this.memoryLimitMb} MB of JS heap; memory_limit_mb) and was stopped; the next call starts a fresh one`);
  }

  private failAll(error: unknown): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(id);
    }
  }

  private async dispose(): Promise<void> {
    this.disposed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the plugin was replaced'));
    await worker?.terminate();
  }
}
