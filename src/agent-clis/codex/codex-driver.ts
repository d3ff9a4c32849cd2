// Codex as a provider, driven through `codex app-server` (JSON-RPC over stdio, real token deltas).
//
// Worker model: one app-server process per provider, started on first use, hosting every thread
// (a conversation is a thread; a one-off turn an ephemeral thread of its own). One process because
// the app-server is built to multiplex threads (it is what Codex's IDE extension runs), a process
// costs ~140 MB and ~0.3 s to start, and a subscription's concurrency is small (the gateway's
// per-provider semaphore bounds the turns, 2 by default) — N processes would multiply memory for
// no throughput. A crash ends the turns running on it (error parts with its stderr) and the next
// turn starts a new process, resuming conversations' threads from disk (`thread/resume`). When the
// CLI has no usable app-server (an old Codex, a refused handshake, repeated start failures) the
// driver falls back to one process per turn (`codex exec --json`, exec-turn.ts) and says why in
// describe().
//
// Abort: `turn/interrupt`. Codex cancels the upstream request at once (2–30 ms measured on a loaded
// machine) but acknowledges the interrupt and completes the turn up to ~110 ms later (a 100 ms wait
// of its own, seen in 1 abort of 10). A worker that has done neither INTERRUPT_GRACE_MS after the
// interrupt has stopped answering: its process group gets SIGKILL (the turns sharing it fail), so
// the CLI's work ends within 250 ms either way. An abort before the turn has an id (thread/start or
// turn/start still unanswered) interrupts as soon as `turn/started` or the answer names it; a
// worker that answers neither within UNANSWERED_MS is killed.
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PartSink } from '../../canonical/adapters.ts';
import { GatewayError } from '../../canonical/errors.ts';
import type { AgentCliDriver, AgentCliProtocol, AgentCliSettings, AgentCliState, AgentTurn, AgentTurnReport } from '../driver.ts';
import { JsonRpcError } from '../json-rpc.ts';
import { isObject, listFrom, objectFrom, stringFrom, type JsonObject } from '../../util/json-value.ts';
import { AppServerWorker, WorkerStartError, type WorkerOwner } from './app-server-worker.ts';
import { planLaunch, prepareHome, type CodexLaunch } from './codex-launch.ts';
import { systemPromptOf, turnInput } from './codex-input.ts';
import { protocolError, RateLimitBook, shutdownError, turnError } from './codex-errors.ts';
import { CodexTurn } from './codex-turn.ts';
import { ConversationBook, type ConversationRecord } from './conversation-book.ts';
import { ExecTurn, execPrompt } from './exec-turn.ts';

/** After `turn/interrupt`, how long Codex may take to acknowledge it or end the turn before its process group is killed. */
const INTERRUPT_GRACE_MS = 200;
/** After Codex acknowledged an interrupt, how long `turn/completed` may take before the worker is taken for stuck. */
const INTERRUPT_COMPLETION_MS = 2000;
/** After an abort, how long a request in flight (thread/start, turn/start) may go unanswered before the worker is taken for stuck. */
const UNANSWERED_MS = 1000;
/** Consecutive failed starts before the driver gives up on the app-server and runs one-shot. */
const MAX_START_FAILURES = 3;
/** Conversation threads kept loaded in the worker; older ones are unloaded and resumed from disk when used again. */
const MAX_LOADED_THREADS = 32;
/** `model/list` pages read at most. */
const MAX_MODEL_PAGES = 10;
/** llm mode's instructions when the caller sends no system prompt (Codex's own describe tools the thread does not have). */
const LLM_INSTRUCTIONS = 'You are a helpful assistant.';
const CLIENT_VERSION = '1';

/** The driver's state of one turn, besides its answer (CodexTurn). */
interface TurnBinding {
  worker: AppServerWorker | undefined;
  record: ConversationRecord | undefined;
  /** The caller's messages the thread holds once this turn answered. */
  consumedAfter: number;
  /** After an abort: the time Codex has to end the turn before its worker is taken for stuck. */
  interruptTimer: NodeJS.Timeout | undefined;
  interrupted: boolean;
  onAbort: () => void;
  /** agent mode, a one-off turn: its working directory, removed when it ends. */
  scratch: string | undefined;
  exec: ExecTurn | undefined;
  settled: boolean;
}

export class CodexDriver implements AgentCliDriver, WorkerOwner {
  private readonly settings: AgentCliSettings;
  private readonly launch: CodexLaunch;
  private worker: AppServerWorker | undefined = undefined;
  private starting: Promise<AppServerWorker | undefined> | undefined = undefined;
  private generation = 0;
  private startFailures = 0;
  private fallbackReason: string | undefined = undefined;
  private version: string | undefined = undefined;
  private closed = false;
  /** Turns running now, with the driver's state of each. */
  private readonly active = new Map<CodexTurn, TurnBinding>();
  /** The turn running on each thread, for routing notifications. */
  private readonly byThread = new Map<string, CodexTurn>();
  private readonly conversations = new ConversationBook();
  private readonly limits = new RateLimitBook();

  constructor(settings: AgentCliSettings) {
    this.settings = settings;
    this.launch = planLaunch(settings);
  }

  get protocol(): AgentCliProtocol {
    return this.fallbackReason === undefined ? 'app-server' : 'one-shot';
  }

  /** The app-server's process id (for tests and the status page), when one runs. */
  get workerPid(): number | undefined {
    return this.worker?.pid;
  }

  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void {
    const state = new CodexTurn(turn, sink, report);
    if (this.closed) {
      // parts come after run() has returned, as they do for every turn
      queueMicrotask(() => state.fail(shutdownError(this.settings.name)));
      return;
    }
    if (turn.signal.aborted) return;
    const binding: TurnBinding = {
      worker: undefined, record: undefined, consumedAfter: turn.request.messages.length + 1, interruptTimer: undefined, interrupted: false,
      onAbort: () => this.abort(state), scratch: undefined, exec: undefined, settled: false,
    };
    this.active.set(state, binding);
    turn.signal.addEventListener('abort', binding.onAbort, { once: true });
    void this.execute(state, binding);
  }

  private async execute(state: CodexTurn, binding: TurnBinding): Promise<void> {
    try {
      const worker = await this.ensureWorker();
      if (!state.live) return this.settle(state);
      if (worker === undefined) return this.runOneShot(state, binding);
      binding.worker = worker;
      const start = await this.bindThread(worker, state, binding);
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

  /** The ready worker, started when there is none; undefined once the driver runs one-shot. */
  private ensureWorker(): Promise<AppServerWorker | undefined> {
    if (this.fallbackReason !== undefined) return Promise.resolve(undefined);
    if (this.worker !== undefined && this.worker.ready && !this.worker.exited) return Promise.resolve(this.worker);
    this.starting ??= this.startWorker().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startWorker(): Promise<AppServerWorker | undefined> {
    prepareHome(this.launch);
    const worker = new AppServerWorker(this.launch, this.settings.name, ++this.generation, this);
    this.worker = worker;
    try {
      await worker.start(CLIENT_VERSION);
    } catch (failure) {
      if (this.worker === worker) this.worker = undefined;
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
    if (this.worker === worker) this.worker = undefined;
    // the turns it carried end; their conversations resume on the next worker
    for (const [state, binding] of this.active) {
      if (binding.worker !== worker) continue;
      state.fail(error);
      this.settle(state);
    }
  }

  // --- threads ------------------------------------------------------------------------------

  /** Finds or makes the turn's thread; returns the `turn/start` parameters. */
  private async bindThread(worker: AppServerWorker, state: CodexTurn, binding: TurnBinding): Promise<JsonObject> {
    const { request, conversation, model } = state.turn;
    const messages = request.messages;
    let record: ConversationRecord | undefined;
    let from = 0;
    if (conversation !== undefined) {
      record = this.conversations.touch(conversation);
      this.forget(this.conversations.evict());
      if (record.busy) {
        // the conversation's thread is answering another request: this one gets a thread of its own
        record = undefined;
      } else {
        record.busy = true;
        binding.record = record;
        if (record.threadId !== undefined && !this.continues(record, messages)) this.dropThread(record);
        if (record.threadId !== undefined && record.generation !== worker.generation) {
          try {
            await worker.request('thread/resume', { threadId: record.threadId, ...this.threadSettings(state, this.directoryOf(record), false), excludeTurns: true });
            record.generation = worker.generation;
          } catch {
            // gone from disk, or never persisted: a new thread with the history as a transcript
            record.threadId = undefined;
          }
        }
        if (record.threadId !== undefined) from = record.consumed;
      }
    }
    const input = turnInput(messages, from);
    if (record === undefined || record.threadId === undefined) {
      const directory = record !== undefined ? this.directoryOf(record) : this.scratchDirectory(binding);
      const started = await worker.request('thread/start', { ...this.threadSettings(state, directory, true), ephemeral: record === undefined });
      const threadId = stringFrom(objectFrom(objectFrom(started)?.thread)?.id);
      if (threadId === undefined) throw protocolError(this.settings.name, 'thread/start', new Error('the answer named no thread'));
      if (record !== undefined) {
        record.threadId = threadId;
        record.generation = worker.generation;
        record.consumed = 0;
      } else {
        state.oneOff = true;
      }
      state.threadId = threadId;
    } else {
      state.threadId = record.threadId;
      state.staleTurnId = record.lastTurnId;
    }
    const policy = this.launch.policy;
    return {
      threadId: state.threadId,
      input,
      // always the caller's model, every turn: a conversation may change models
      model,
      approvalPolicy: policy.approvalPolicy,
      ...(policy.environments !== undefined ? { environments: policy.environments, sandboxPolicy: { type: 'readOnly', networkAccess: false } } : {}),
      ...(request.reasoning?.effort !== undefined ? { effort: request.reasoning.effort } : {}),
      ...(request.responseFormat?.type === 'json-schema' ? { outputSchema: request.responseFormat.schema } : {}),
    };
  }

  /** Whether the caller's messages repeat what the thread holds (its last request and answer) and add to them. */
  private continues(record: ConversationRecord, messages: AgentTurn['request']['messages']): boolean {
    return record.consumed > 0 && messages.length > record.consumed && messages[record.consumed - 1]!.role === 'assistant';
  }

  /** thread/start and thread/resume settings: the model, the instructions, the sandbox, the tools (`thread/resume` takes no environments: every turn/start sends them). */
  private threadSettings(state: CodexTurn, cwd: string, starting: boolean): JsonObject {
    const policy = this.launch.policy;
    const system = systemPromptOf(state.turn.request.messages);
    const instructions = this.launch.mode === 'llm'
      ? { baseInstructions: system ?? LLM_INSTRUCTIONS }
      : system !== undefined ? { developerInstructions: system } : {};
    return {
      model: state.turn.model,
      cwd,
      approvalPolicy: policy.approvalPolicy,
      sandbox: policy.sandbox,
      ...(policy.config !== null ? { config: policy.config } : {}),
      ...(starting && policy.environments !== undefined ? { environments: policy.environments } : {}),
      ...instructions,
    };
  }

  /** agent mode: the conversation's own working directory (under the sessions directory); llm mode: the empty one. */
  private directoryOf(record: ConversationRecord): string {
    if (this.launch.mode === 'llm') return this.launch.llmDirectory;
    if (record.directory === undefined) {
      record.directory = join(this.launch.sessionsDirectory, createHash('sha256').update(record.key).digest('hex').slice(0, 24));
      mkdirSync(record.directory, { recursive: true });
    }
    return record.directory;
  }

  /** A one-off turn's directory: llm mode's empty one, or in agent mode a new one removed when the turn ends. */
  private scratchDirectory(binding: TurnBinding): string {
    if (this.launch.mode === 'llm') return this.launch.llmDirectory;
    binding.scratch = join(this.launch.sessionsDirectory, `turn-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`);
    mkdirSync(binding.scratch, { recursive: true });
    return binding.scratch;
  }

  /** The thread no longer carries the conversation: deleted (best effort), the next turn starts a new one. */
  private dropThread(record: ConversationRecord): void {
    const threadId = record.threadId;
    record.threadId = undefined;
    record.consumed = 0;
    const worker = this.worker;
    if (threadId !== undefined && worker !== undefined && !worker.exited) worker.request('thread/delete', { threadId }).catch(ignore);
  }

  /** Conversations pushed out of the book: their threads deleted, agent directories removed. */
  private forget(records: readonly ConversationRecord[]): void {
    for (const record of records) {
      this.dropThread(record);
      if (record.directory !== undefined) rmSync(record.directory, { recursive: true, force: true });
    }
  }

  /** Keeps the most recent conversations' threads loaded; older ones are unloaded (on disk, resumed when used). */
  private unloadOld(worker: AppServerWorker): void {
    let loaded = 0;
    for (const record of this.conversations.values()) if (record.generation === worker.generation && record.threadId !== undefined) loaded++;
    if (loaded <= MAX_LOADED_THREADS) return;
    for (const record of this.conversations.values()) {
      if (loaded <= MAX_LOADED_THREADS) break;
      if (record.busy || record.threadId === undefined || record.generation !== worker.generation) continue;
      worker.request('thread/unsubscribe', { threadId: record.threadId }).catch(ignore);
      record.generation = -1;
      loaded--;
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
    const worker = binding.worker;
    const record = binding.record;
    if (record !== undefined) {
      record.busy = false;
      record.lastTurnId = state.turnId;
      // an aborted or failed turn leaves the thread out of step with what the caller will send next
      if (state.ended && !state.failed) record.consumed = binding.consumedAfter;
      else this.dropThread(record);
      if (worker !== undefined && !worker.exited) this.unloadOld(worker);
    } else if (state.oneOff && state.threadId !== undefined && worker !== undefined && !worker.exited) {
      worker.request('thread/unsubscribe', { threadId: state.threadId }).catch(ignore);
    }
    if (binding.scratch !== undefined) rmSync(binding.scratch, { recursive: true, force: true });
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
      binding.interruptTimer = setTimeout(() => this.interruptTimedOut(worker, binding), UNANSWERED_MS);
      binding.interruptTimer.unref();
    }
  }

  private interrupt(state: CodexTurn, binding: TurnBinding): void {
    const worker = binding.worker;
    if (worker === undefined || worker.exited || binding.interrupted || binding.settled) return;
    binding.interrupted = true;
    clearTimeout(binding.interruptTimer);
    worker.request('turn/interrupt', { threadId: state.threadId, turnId: state.turnId }).then(() => {
      // acknowledged: Codex is winding the turn down, `turn/completed` follows
      if (binding.settled) return;
      clearTimeout(binding.interruptTimer);
      binding.interruptTimer = setTimeout(() => this.interruptTimedOut(worker, binding), INTERRUPT_COMPLETION_MS);
      binding.interruptTimer.unref();
    }, ignore);
    binding.interruptTimer = setTimeout(() => this.interruptTimedOut(worker, binding), INTERRUPT_GRACE_MS);
    binding.interruptTimer.unref();
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

  private runOneShot(state: CodexTurn, binding: TurnBinding): void {
    state.oneOff = true;
    const cwd = this.scratchDirectory(binding);
    prepareDirectory(cwd);
    const prompt = execPrompt(state);
    binding.exec = new ExecTurn(this.launch, this.settings.name, state, cwd, prompt, () => this.settle(state));
  }

  // --- the rest of the contract -----------------------------------------------------------------

  async listModels(signal: AbortSignal): Promise<readonly string[]> {
    if (this.settings.models.length > 0) return this.settings.models;
    const worker = await this.ensureWorker();
    if (worker === undefined) return [];
    const models: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_MODEL_PAGES; page++) {
      signal.throwIfAborted();
      const result = objectFrom(await worker.request('model/list', { limit: 100, ...(cursor !== undefined ? { cursor } : {}) }));
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

  describe(): AgentCliState {
    const worker = this.worker;
    return {
      protocol: this.protocol,
      workers: worker !== undefined && worker.ready && !worker.exited ? 1 : 0,
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
    const worker = this.worker ?? (this.starting !== undefined ? await this.starting.catch(() => undefined) : undefined);
    if (worker !== undefined) ending.push(worker.kill());
    await Promise.all(ending);
  }
}

function prepareDirectory(path: string): void {
  mkdirSync(path, { recursive: true });
}

function ignore(): void {}

function asGatewayError(provider: string, failure: unknown): GatewayError {
  if (failure instanceof GatewayError) return failure;
  return protocolError(provider, 'a request to codex app-server', failure);
}
