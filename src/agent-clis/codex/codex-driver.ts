// Codex as a provider, driven through `codex app-server` (JSON-RPC over stdio, real token deltas).
//
// Worker model: a small pool of app-server processes per provider, started on first use; each
// runs one turn at a time (a conversation is a thread; a one-off turn an ephemeral thread of its
// own). One turn per process because an abort must end the turn's work within 250 ms, and the only
// sure way to stop a Codex that has acknowledged `turn/interrupt` but goes on reading the model's
// stream (seen in the abort soak, ~1 s) is to kill its process — which must not take another
// caller's turn along. Idle workers are reused (a conversation prefers the one that has its thread
// loaded; on another, the thread is resumed from disk and unloaded from the first), spares beyond
// one are ended after IDLE_SPARE_MS, and at most MAX_WORKERS run (the gateway's per-provider
// semaphore bounds turns, 2 by default; past the cap, turns share the least busy worker and an
// abort there gets SHARED_INTERRUPT_GRACE_MS). A crash ends the turns running on it (error parts
// with its stderr) and the next turn starts a new process. When the CLI has no usable app-server
// (an old Codex, a refused handshake, repeated start failures) the driver falls back to one process
// per turn (`codex exec --json`, exec-turn.ts) and says why in describe().
//
// Abort: `turn/interrupt`. Codex cancels the upstream request at once (2–30 ms measured on a loaded
// machine) but acknowledges the interrupt and completes the turn up to ~110 ms later (a 100 ms wait
// of its own, seen in 1 abort of 10). A worker that has not completed the turn INTERRUPT_GRACE_MS
// after the interrupt has stopped answering or is still reading the stream: its process group gets
// SIGKILL, so the CLI's work ends within 250 ms either way. An abort before the turn has an id
// (thread/start or turn/start still unanswered) interrupts as soon as `turn/started` or the answer
// names it; a worker that answers neither within UNANSWERED_MS is killed.
import type { PartSink } from '../../canonical/adapters.ts';
import { GatewayError } from '../../canonical/errors.ts';
import type { AgentCliDriver, AgentCliProtocol, AgentCliSettings, AgentCliState, AgentTurn, AgentTurnReport } from '../driver.ts';
import { JsonRpcError } from '../json-rpc.ts';
import { isObject, listFrom, objectFrom, stringFrom, type JsonObject } from '../../util/json-value.ts';
import { AppServerWorker, WorkerStartError, type WorkerOwner } from './app-server-worker.ts';
import { planLaunch, prepareHome, type CodexLaunch } from './codex-launch.ts';
import { protocolError, RateLimitBook, shutdownError, turnError } from './codex-errors.ts';
import { CodexThreads, type TurnBinding } from './codex-threads.ts';
import { CodexTurn } from './codex-turn.ts';
import { ExecTurn, execPrompt } from './exec-turn.ts';

/** After `turn/interrupt`, how long Codex may take to acknowledge it or end the turn before its process group is killed. */
const INTERRUPT_GRACE_MS = 200;
/**
 * The same wait when other turns run on the worker: killing it would fail them too, and a loaded
 * machine can delay the acknowledgement past 200 ms while Codex has already dropped the upstream
 * call (2–30 ms measured) — so only a worker silent this long is taken for stuck.
 */
const SHARED_INTERRUPT_GRACE_MS = 2000;
/** After Codex acknowledged an interrupt on a shared worker, how long `turn/completed` may take before the worker is taken for stuck. */
const INTERRUPT_COMPLETION_MS = 2000;
/** Worker processes at most (~140 MB each); past it, turns share the least busy one. */
const MAX_WORKERS = 4;
/** An idle worker beyond the first is ended after this long unused. */
const IDLE_SPARE_MS = 120_000;
/** After an abort, how long a request in flight (thread/start, turn/start) may go unanswered before the worker is taken for stuck. */
const UNANSWERED_MS = 1000;
/** Consecutive failed starts before the driver gives up on the app-server and runs one-shot. */
const MAX_START_FAILURES = 3;
/** `model/list` pages read at most. */
const MAX_MODEL_PAGES = 10;
const CLIENT_VERSION = '1';

export class CodexDriver implements AgentCliDriver, WorkerOwner {
  private readonly settings: AgentCliSettings;
  private readonly launch: CodexLaunch;
  /** Every worker process, starting or ready (at most MAX_WORKERS). */
  private readonly workers = new Set<AppServerWorker>();
  /** Workers still starting, with their start. */
  private readonly starting = new Map<AppServerWorker, Promise<AppServerWorker | undefined>>();
  /** Idle spares to end (IDLE_SPARE_MS). */
  private readonly spareTimers = new Map<AppServerWorker, NodeJS.Timeout>();
  /** The worker the latest turn ran on (for tests and the status page). */
  private lastUsed: AppServerWorker | undefined = undefined;
  private generation = 0;
  private startFailures = 0;
  private fallbackReason: string | undefined = undefined;
  private version: string | undefined = undefined;
  private closed = false;
  private directoriesReady = false;
  /** Turns running now, with the driver's state of each. */
  private readonly active = new Map<CodexTurn, TurnBinding>();
  /** The turn running on each thread, for routing notifications. */
  private readonly byThread = new Map<string, CodexTurn>();
  private readonly threads: CodexThreads;
  private readonly limits = new RateLimitBook();

  constructor(settings: AgentCliSettings) {
    this.settings = settings;
    this.launch = planLaunch(settings);
    this.threads = new CodexThreads(this.launch, settings.name, (generation) => this.workerOf(generation));
  }

  get protocol(): AgentCliProtocol {
    return this.fallbackReason === undefined ? 'app-server' : 'one-shot';
  }

  /** The process id of the app-server the latest turn ran on (for tests), when it still runs. */
  get workerPid(): number | undefined {
    const worker = this.lastUsed;
    return worker !== undefined && !worker.exited ? worker.pid : undefined;
  }

  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void {
    const state = new CodexTurn(turn, sink, report);
    if (this.closed) {
      // parts come after run() has returned, as they do for every turn
      queueMicrotask(() => state.fail(shutdownError(this.settings.name)));
      return;
    }
    if (turn.signal.aborted) {
      turn.onSettled?.();
      return;
    }
    const binding: TurnBinding = {
      worker: undefined, record: undefined, held: undefined, interruptTimer: undefined, interrupted: false,
      onAbort: () => this.abort(state), scratch: undefined, exec: undefined, settled: false,
    };
    this.active.set(state, binding);
    turn.signal.addEventListener('abort', binding.onAbort, { once: true });
    void this.execute(state, binding);
  }

  private async execute(state: CodexTurn, binding: TurnBinding): Promise<void> {
    try {
      const worker = await this.acquire(state, binding);
      if (!state.live) return this.settle(state);
      if (worker === undefined) return await this.runOneShot(state, binding);
      binding.worker = worker;
      this.lastUsed = worker;
      const start = await this.threads.bind(worker, state, binding);
      if (!state.live) return this.settle(state);
      this.byThread.set(state.threadId!, state);
      const result = await worker.request('turn/start', start);
      state.owns(objectFrom(objectFrom(result)?.turn)?.id);
      if (state.aborted) this.interrupt(state, binding);
    } catch (failure) {
      state.fail(asGatewayError(this.settings.name, failure));
      this.settle(state);
    }
  }

  // --- workers ------------------------------------------------------------------------------

  /**
   * The worker for a turn: an idle one (the conversation's own first), else a new one, else (at
   * MAX_WORKERS) the least busy. Taken at once (binding.worker), so two turns arriving together
   * never pick the same idle worker. Undefined once the driver runs one-shot.
   */
  private acquire(state: CodexTurn, binding: TurnBinding): Promise<AppServerWorker | undefined> {
    if (this.fallbackReason !== undefined) return Promise.resolve(undefined);
    const preferred = state.turn.conversation === undefined ? undefined : this.threads.generationOf(state.turn.conversation);
    let idle: AppServerWorker | undefined;
    let least: AppServerWorker | undefined;
    let leastLoad = Infinity;
    for (const worker of this.workers) {
      if (!worker.ready || worker.exited) continue;
      const load = this.load(worker);
      if (load === 0 && (idle === undefined || worker.generation === preferred)) idle = worker;
      if (load < leastLoad) [least, leastLoad] = [worker, load];
    }
    const picked = idle ?? (this.workers.size < MAX_WORKERS ? undefined : least);
    if (picked !== undefined) {
      binding.worker = picked;
      this.keep(picked);
      return Promise.resolve(picked);
    }
    // at the cap with every worker still starting: wait for one of them
    if (this.workers.size >= MAX_WORKERS && this.starting.size > 0) return this.starting.values().next().value!;
    return this.startWorker();
  }

  /** Turns running on `worker` (settled ones not counted). */
  private load(worker: AppServerWorker): number {
    let turns = 0;
    for (const binding of this.active.values()) if (binding.worker === worker && !binding.settled) turns++;
    return turns;
  }

  /** The worker is in use: not ended as an idle spare. */
  private keep(worker: AppServerWorker): void {
    const timer = this.spareTimers.get(worker);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.spareTimers.delete(worker);
  }

  /** A worker just went idle: when another idle worker is there too, this one is ended unless used within IDLE_SPARE_MS. */
  private idleNow(worker: AppServerWorker): void {
    if (worker.exited || this.closed || this.load(worker) > 0 || this.spareTimers.has(worker)) return;
    let idleOthers = 0;
    for (const other of this.workers) if (other !== worker && other.ready && !other.exited && this.load(other) === 0) idleOthers++;
    if (idleOthers === 0) return;
    const timer = setTimeout(() => {
      this.spareTimers.delete(worker);
      if (this.load(worker) === 0 && this.workers.size > 1) void worker.kill();
    }, IDLE_SPARE_MS);
    timer.unref();
    this.spareTimers.set(worker, timer);
  }

  /** The live worker of a generation (the one that has a thread loaded); undefined: any ready one. */
  private workerOf(generation?: number): AppServerWorker | undefined {
    for (const worker of this.workers) {
      if (worker.exited || !worker.ready) continue;
      if (generation === undefined || worker.generation === generation) return worker;
    }
    return undefined;
  }

  /** Starts a worker (counted in `workers` and `starting` at once); resolves when it is ready. */
  private startWorker(): Promise<AppServerWorker | undefined> {
    let worker: AppServerWorker;
    try {
      prepareHome(this.launch);
      worker = new AppServerWorker(this.launch, this.settings.name, ++this.generation, this);
    } catch (failure) {
      return Promise.reject(failure as Error);
    }
    this.workers.add(worker);
    const start = this.whenReady(worker).finally(() => this.starting.delete(worker));
    this.starting.set(worker, start);
    return start;
  }

  private async whenReady(worker: AppServerWorker): Promise<AppServerWorker | undefined> {
    try {
      await worker.start(CLIENT_VERSION);
    } catch (failure) {
      this.workers.delete(worker);
      if (!(failure instanceof WorkerStartError)) throw failure;
      if (failure.missing) throw failure.error;
      this.startFailures++;
      if (failure.unsupported || this.startFailures >= MAX_START_FAILURES) {
        this.fallbackReason = `codex app-server could not be used (${failure.error.message}); running \`codex exec --json\` per turn instead`;
        return undefined;
      }
      throw failure.error;
    }
    if (this.closed) {
      await worker.kill();
      throw shutdownError(this.settings.name);
    }
    this.startFailures = 0;
    this.version = worker.version;
    return worker;
  }

  onExit(worker: AppServerWorker, error: GatewayError): void {
    this.workers.delete(worker);
    this.keep(worker);
    if (this.lastUsed === worker && this.workers.size === 0) this.lastUsed = undefined;
    // the turns it carried end; their conversations resume on the next worker
    for (const [state, binding] of this.active) {
      if (binding.worker !== worker) continue;
      state.fail(error);
      this.settle(state);
    }
  }

  // --- the end of a turn ---------------------------------------------------------------------

  private settle(state: CodexTurn): void {
    const binding = this.active.get(state);
    if (binding === undefined || binding.settled) return;
    binding.settled = true;
    this.active.delete(state);
    clearTimeout(binding.interruptTimer);
    state.turn.signal.removeEventListener('abort', binding.onAbort);
    if (state.threadId !== undefined && this.byThread.get(state.threadId) === state) this.byThread.delete(state.threadId);
    this.threads.release(state, binding);
    if (binding.worker !== undefined) this.idleNow(binding.worker);
    state.turn.onSettled?.();
  }

  private abort(state: CodexTurn): void {
    const binding = this.active.get(state);
    if (binding === undefined || state.aborted) return;
    state.aborted = true;
    if (binding.exec !== undefined) {
      void binding.exec.kill();
      return;
    }
    if (state.turnId !== undefined) {
      this.interrupt(state, binding);
    } else if (binding.worker !== undefined) {
      // a request is in flight (thread/start, turn/start): execute() goes on from its answer and
      // interrupts the turn once it has its id; a worker that does not answer in time is stuck
      const worker = binding.worker;
      binding.interruptTimer = setTimeout(() => this.interruptTimedOut(worker, binding), this.sharing(worker) ? Math.max(UNANSWERED_MS, SHARED_INTERRUPT_GRACE_MS) : UNANSWERED_MS);
      binding.interruptTimer.unref();
    } else {
      // still waiting for a worker to start: nothing of this turn runs in a CLI yet, it ends now
      // (execute() finds it settled when the worker is ready)
      this.settle(state);
    }
  }

  private interrupt(state: CodexTurn, binding: TurnBinding): void {
    const worker = binding.worker;
    if (worker === undefined || worker.exited || binding.interrupted || binding.settled) return;
    binding.interrupted = true;
    clearTimeout(binding.interruptTimer);
    const sentAt = performance.now();
    worker.request('turn/interrupt', { threadId: state.threadId, turnId: state.turnId }).then(() => {
      // acknowledged: Codex is winding the turn down, `turn/completed` follows (~110 ms at most
      // measured). Now and then it reads the turn's model stream to its end first (seen in the
      // abort soak: ~1 s): a worker with no other turn is then ended within the grace of the
      // interrupt itself; one carrying other turns gets INTERRUPT_COMPLETION_MS
      if (binding.settled) return;
      clearTimeout(binding.interruptTimer);
      const wait = this.sharing(worker) ? INTERRUPT_COMPLETION_MS : Math.max(0, INTERRUPT_GRACE_MS - (performance.now() - sentAt));
      binding.interruptTimer = setTimeout(() => this.interruptTimedOut(worker, binding), wait);
      binding.interruptTimer.unref();
    }, ignore);
    binding.interruptTimer = setTimeout(() => this.interruptTimedOut(worker, binding), this.sharing(worker) ? SHARED_INTERRUPT_GRACE_MS : INTERRUPT_GRACE_MS);
    binding.interruptTimer.unref();
  }

  /** Whether turns other than one run on `worker` (killing it would take them along). */
  private sharing(worker: AppServerWorker): boolean {
    let turns = 0;
    for (const binding of this.active.values()) {
      if (binding.worker === worker && !binding.settled && ++turns > 1) return true;
    }
    return false;
  }

  /** No sign of the interrupt in time: the worker has stopped answering (or cannot end the turn). */
  private interruptTimedOut(worker: AppServerWorker, binding: TurnBinding): void {
    if (!binding.settled) void worker.kill(0);
  }

  // --- notifications and Codex's requests ------------------------------------------------------

  /** The turn a notification is about (by thread, then turn id), when it still runs. */
  private turnOf(params: unknown): CodexTurn | undefined {
    const fields = objectFrom(params);
    const threadId = stringFrom(fields?.threadId);
    if (threadId === undefined) return undefined;
    const state = this.byThread.get(threadId);
    return state !== undefined && state.owns(fields!.turnId) ? state : undefined;
  }

  onNotification(_worker: AppServerWorker, method: string, params: unknown): void {
    switch (method) {
      case 'item/agentMessage/delta': {
        const state = this.turnOf(params);
        if (state !== undefined) state.text(stringFrom((params as JsonObject).itemId) ?? '', stringFrom((params as JsonObject).delta) ?? '');
        return;
      }
      case 'item/reasoning/summaryTextDelta':
      case 'item/reasoning/textDelta': {
        const state = this.turnOf(params);
        if (state !== undefined) state.reasoning(stringFrom((params as JsonObject).itemId) ?? '', stringFrom((params as JsonObject).delta) ?? '');
        return;
      }
      case 'item/reasoning/summaryPartAdded': {
        const state = this.turnOf(params);
        if (state !== undefined) state.reasoningBreak(stringFrom((params as JsonObject).itemId) ?? '');
        return;
      }
      case 'item/completed': {
        const item = objectFrom((params as JsonObject | undefined)?.item);
        if (item?.type !== 'agentMessage') return;
        const state = this.turnOf(params);
        if (state !== undefined) state.completedMessage(stringFrom(item.id) ?? '', stringFrom(item.text) ?? '');
        return;
      }
      case 'thread/tokenUsage/updated': {
        const state = this.turnOf(params);
        if (state !== undefined) state.addUsage(objectFrom(objectFrom((params as JsonObject).tokenUsage)?.last));
        return;
      }
      case 'account/rateLimits/updated':
        this.limits.update(params);
        return;
      case 'error': {
        const fields = objectFrom(params);
        if (fields?.willRetry === true) return;
        const state = this.turnOf(params);
        if (state !== undefined) state.lastError = fields!.error;
        return;
      }
      case 'turn/started': {
        // the turn's id, often before turn/start's answer: an abort waiting for it can interrupt now
        const fields = objectFrom(params);
        const state = this.turnOf({ threadId: fields?.threadId, turnId: objectFrom(fields?.turn)?.id });
        if (state !== undefined && state.aborted) {
          const binding = this.active.get(state);
          if (binding !== undefined) this.interrupt(state, binding);
        }
        return;
      }
      case 'turn/completed':
        this.completed(params);
        return;
      default:
        return;
    }
  }

  private completed(params: unknown): void {
    const fields = objectFrom(params);
    const turn = objectFrom(fields?.turn);
    const state = this.turnOf({ threadId: fields?.threadId, turnId: turn?.id });
    if (state === undefined) return;
    switch (turn?.status) {
      case 'completed':
        state.finish();
        break;
      case 'interrupted':
        if (!state.aborted) state.fail(turnError(this.settings.name, { message: 'Codex interrupted the turn' }, this.limits));
        break;
      default:
        state.fail(turnError(this.settings.name, turn?.error ?? state.lastError, this.limits));
        break;
    }
    this.settle(state);
  }

  /** Codex asks the client: approvals are declined (nobody at the gateway may approve), questions go unanswered. */
  onServerRequest(method: string, _params: unknown): unknown {
    switch (method) {
      case 'item/commandExecution/requestApproval':
      case 'item/fileChange/requestApproval':
        return { decision: 'decline' };
      case 'execCommandApproval':
      case 'applyPatchApproval':
        return { decision: { denied: { rejection: 'Switchyard does not approve actions on behalf of its callers.' } } };
      case 'mcpServer/elicitation/request':
        return { action: 'decline', content: null, _meta: null };
      case 'item/tool/requestUserInput':
        return { answers: {} };
      default:
        throw new JsonRpcError(-32601, `Switchyard does not answer ${method}`);
    }
  }

  // --- one-shot --------------------------------------------------------------------------------

  private async runOneShot(state: CodexTurn, binding: TurnBinding): Promise<void> {
    state.oneOff = true;
    if (!this.directoriesReady) {
      // the app-server's start makes them; the one-shot path never starts it
      prepareHome(this.launch);
      this.directoriesReady = true;
    }
    const cwd = await this.threads.scratchDirectory(binding);
    if (!state.live) return this.settle(state);
    const prompt = execPrompt(state);
    binding.exec = new ExecTurn(this.launch, this.settings.name, state, cwd, prompt, () => this.settle(state));
  }

  // --- the rest of the contract -----------------------------------------------------------------

  async listModels(signal: AbortSignal): Promise<readonly string[]> {
    if (this.settings.models.length > 0) return this.settings.models;
    const worker = await untilAborted(this.anyWorker(), signal);
    if (worker === undefined) return [];
    const models: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      const result = objectFrom(await untilAborted(worker.request('model/list', { limit: 100, ...(cursor !== undefined ? { cursor } : {}) }), signal));
      for (const model of listFrom(result?.data)) {
        if (!isObject(model) || model.hidden === true) continue;
        const id = stringFrom(model.id) ?? stringFrom(model.model);
        if (id !== undefined && !models.includes(id)) models.push(id);
      }
      cursor = stringFrom(result?.nextCursor);
      if (cursor === undefined) break;
    }
    return models;
  }

  /** A ready worker for a request outside any turn (model/list), started when there is none. */
  private anyWorker(): Promise<AppServerWorker | undefined> {
    if (this.fallbackReason !== undefined) return Promise.resolve(undefined);
    for (const worker of this.workers) if (worker.ready && !worker.exited) return Promise.resolve(worker);
    const starting = this.starting.values().next();
    if (!starting.done) return starting.value;
    return this.startWorker();
  }

  describe(): AgentCliState {
    let workers = 0;
    for (const worker of this.workers) if (worker.ready && !worker.exited) workers++;
    return {
      protocol: this.protocol,
      workers,
      running: this.active.size,
      ...(this.version !== undefined ? { version: this.version } : {}),
      ...(this.fallbackReason !== undefined ? { fallbackReason: this.fallbackReason } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = shutdownError(this.settings.name);
    const ending: Promise<void>[] = [];
    for (const [state, binding] of this.active) {
      state.fail(error);
      if (binding.exec !== undefined) ending.push(binding.exec.kill());
      this.settle(state);
    }
    for (const timer of this.spareTimers.values()) clearTimeout(timer);
    this.spareTimers.clear();
    await Promise.all([...this.starting.values()].map((start) => start.catch(() => undefined)));
    for (const worker of this.workers) ending.push(worker.kill());
    await Promise.all(ending);
  }
}

function ignore(): void {}

/** The promise's outcome, or the signal's reason once it aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

function asGatewayError(provider: string, failure: unknown): GatewayError {
  if (failure instanceof GatewayError) return failure;
  return protocolError(provider, 'a request to codex app-server', failure);
}
