// The Claude Code driver: turns run on long-lived `claude -p --input-format stream-json
// --output-format stream-json` workers, one session per process.
//
// Workers, by what they hold:
// - spares: started ahead of need with a model (the most recent ones asked for) and not yet
//   initialized, so a new conversation pays for the `initialize` round trip and its first turn,
//   not for the process start (measured in bench/agent-clis/driver/claude-code.ts). Bounded (`spares`).
// - conversation workers: after a turn of a conversation, the worker stays with it, and the next
//   turn sends only what is new when the request continues what the session holds
//   (continuity.ts). Bounded (`idleSessions`, least recently used ended first) and ended after
//   `idleMs` idle.
// - everything else ends with its turn: a one-off turn (no conversation) or a failed one.
// In `llm` mode a conversation whose worker was ended starts again on a spare with its history
// flattened: the caller's history is the record, nothing is written to the user's Claude Code
// directory (--no-session-persistence), and a spare answers sooner than a cold `--resume`. In
// `agent` mode (where the session holds tool calls the caller never saw) each conversation has a
// working directory of its own and a session kept on disk, resumed with `--resume` when its
// worker comes back.
//
// When the stream-json protocol fails to start (the process ends or refuses `initialize` before
// it has answered), the driver falls back to one process per turn (`claude -p` with the prompt on
// stdin) and says why in describe().
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PartSink } from '../../canonical/adapters.ts';
import type { Message } from '../../canonical/request.ts';
import { GatewayError, invalidRequest } from '../../canonical/errors.ts';
import { stringFrom, listFrom, objectFrom, type JsonObject } from '../../util/json-value.ts';
import { redactText } from '../../util/redact.ts';
import { KILL_GRACE_MS } from '../child.ts';
import type { AgentCliDriver, AgentCliSettings, AgentCliState, AgentTurn, AgentTurnReport } from '../driver.ts';
import { dialogueOf, heldAfterAnswer, systemPromptOf, unseenFrom, type HeldHistory } from '../transcript.ts';
import { closedError, exitedError, protocolError, spawnError } from './errors.ts';
import { claudeArgs, claudeEnv, conversationKey, secretsOf, type LaunchOptions } from './launch.ts';
import { runOneShot, type OneShotHost } from './one-shot.ts';
import { promptContent, userLine } from './prompt.ts';
import { TurnJob, type JobHost } from './turn-job.ts';
import { ClaudeWorker, ControlError } from './worker.ts';

export interface ClaudeCodeTuning {
  /** Processes started ahead of need, each for one model (the most recent asked for). Default 1; 0 = none. */
  spares?: number;
  /** Processes kept between the turns of conversations. Default 2. */
  idleSessions?: number;
  /** A conversation's process ends after this long without a turn. Default 5 minutes. */
  idleMs?: number;
  /** How long an interrupted turn may take to end before its process group is killed. Default 100 ms. */
  interruptGraceMs?: number;
}

/** A listing process that has not answered `initialize` by then is ended. */
const LIST_MODELS_TIMEOUT_MS = 30_000;
/** Conversations remembered in `agent` mode for `--resume` after their process has ended. */
const MAX_AGENT_SESSIONS = 1024;
/** A model name goes to the CLI as `--model=<name>`; anything else than a plain name is refused. */
const MODEL_NAME = /^[^\s\u0000-\u001f\u007f]{1,256}$/;

interface AgentSession {
  sessionId: string;
  directory: string;
  held: HeldHistory | undefined;
}

export function createClaudeCodeDriver(settings: AgentCliSettings, tuning: ClaudeCodeTuning = {}): AgentCliDriver {
  return new ClaudeCodeDriver(settings, tuning);
}

class ClaudeCodeDriver implements AgentCliDriver, JobHost, OneShotHost {
  readonly provider: string;
  readonly interruptGraceMs: number;
  readonly abortKillGraceMs: number;
  readonly settings: AgentCliSettings;
  readonly env: Record<string, string | undefined>;
  readonly secrets: readonly string[];
  private readonly maxSpares: number;
  private readonly maxIdleSessions: number;
  private readonly idleMs: number;
  /** Every live process, whatever it holds. */
  private readonly workers = new Set<ClaudeWorker>();
  private readonly spares: ClaudeWorker[] = [];
  /** Conversation → its idle worker, least recently used first. */
  private readonly sessions = new Map<string, ClaudeWorker>();
  private readonly agentSessions = new Map<string, AgentSession>();
  private readonly jobs = new Set<TurnJob>();
  private fallbackReason: string | undefined = undefined;
  private version: string | undefined = undefined;
  private models: readonly string[] | undefined = undefined;
  private listing: Promise<readonly string[]> | undefined = undefined;
  private workDirReady = false;
  closed = false;

  constructor(settings: AgentCliSettings, tuning: ClaudeCodeTuning) {
    this.settings = settings;
    this.provider = settings.name;
    this.env = claudeEnv(settings);
    this.secrets = secretsOf(this.env);
    this.maxSpares = Math.max(0, tuning.spares ?? 1);
    this.maxIdleSessions = Math.max(0, tuning.idleSessions ?? 2);
    this.idleMs = Math.max(1, tuning.idleMs ?? 300_000);
    this.interruptGraceMs = Math.max(0, tuning.interruptGraceMs ?? 100);
    this.abortKillGraceMs = settings.mode === 'llm' ? 0 : KILL_GRACE_MS;
  }

  get protocol(): 'stream-json' | 'one-shot' {
    return this.fallbackReason === undefined ? 'stream-json' : 'one-shot';
  }

  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void {
    if (turn.signal.aborted) {
      turn.onSettled?.();
      return;
    }
    const job = new TurnJob(this, turn, sink, report);
    this.jobs.add(job);
    turn.signal.addEventListener('abort', job.onAbort, { once: true });
    try {
      if (this.closed) throw closedError(this.provider);
      if (!MODEL_NAME.test(turn.model)) throw invalidRequest(`Provider '${this.provider}' (Claude Code) cannot use the model name '${turn.model.slice(0, 80)}'.`, 'model');
      if (this.fallbackReason !== undefined) runOneShot(this, job);
      else if (this.settings.mode === 'agent') this.runAgent(job);
      else this.runLlm(job);
    } catch (error) {
      job.fail(this.asGatewayError(error));
    }
  }

  /** What a turn that threw is told: a request it cannot carry (400) as thrown, anything else as the driver's own failure. */
  private asGatewayError(error: unknown): GatewayError {
    return error instanceof GatewayError ? error : protocolError(this.provider, (error as Error).message);
  }

  listModels(signal: AbortSignal): Promise<readonly string[]> {
    if (this.models !== undefined) return Promise.resolve(this.models);
    if (this.fallbackReason !== undefined || this.closed) return Promise.resolve(this.settings.models);
    // one listing at a time; a caller that gives up stops waiting, not the listing
    this.listing ??= this.fetchModels().finally(() => {
      this.listing = undefined;
    });
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.listing!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** A process of its own answers `initialize` (its models), then ends. */
  private async fetchModels(): Promise<readonly string[]> {
    const worker = this.spawn(this.settings.models[0] ?? 'default', undefined, this.workDir());
    const timer = setTimeout(() => void worker.kill(), LIST_MODELS_TIMEOUT_MS);
    try {
      this.learn(await worker.initialize([], undefined));
      return this.models ?? [];
    } catch (error) {
      throw protocolError(this.provider, `Claude Code did not list its models: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
      void worker.kill();
    }
  }

  describe(): AgentCliState {
    return {
      protocol: this.protocol,
      workers: this.workers.size,
      running: this.jobs.size,
      ...(this.version !== undefined ? { version: this.version } : {}),
      ...(this.fallbackReason !== undefined ? { fallbackReason: this.fallbackReason } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of [...this.jobs]) job.fail(closedError(this.provider));
    const exits = [...this.workers].map((worker) => worker.kill());
    this.spares.length = 0;
    this.sessions.clear();
    await Promise.all(exits);
  }

  // --- llm mode ------------------------------------------------------------------------------

  private runLlm(job: TurnJob): void {
    const { request, model, conversation } = job.turn;
    const system = systemPromptOf(request.messages);
    const dialogue = dialogueOf(request.messages);
    if (conversation !== undefined && this.continueSession(job, conversation, system, dialogue)) return;
    const content = promptContent(dialogue, 0, this.provider);
    const worker = this.takeSpare(model) ?? this.spawn(model, undefined, this.workDir());
    job.keepOnAbort = conversation !== undefined;
    // llm mode replaces Claude Code's system prompt even when the caller has none
    this.claim(job, worker, system === undefined ? [] : [system], undefined, content);
  }

  /** Runs the turn on the conversation's own worker when the request continues its session. */
  private continueSession(job: TurnJob, conversation: string, system: string | undefined, dialogue: readonly Message[]): boolean {
    const worker = this.sessions.get(conversation);
    if (worker === undefined || worker.state !== 'idle' || worker.model !== job.turn.model) return false;
    const from = unseenFrom(system, dialogue, worker.held);
    if (from === undefined) return false;
    const content = promptContent(dialogue, from, this.provider);
    this.sessions.delete(conversation);
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    worker.idleTimer = undefined;
    job.keepOnAbort = true;
    this.start(job, worker, content);
    return true;
  }

  // --- agent mode ----------------------------------------------------------------------------

  private runAgent(job: TurnJob): void {
    const { request, model, conversation } = job.turn;
    const appendSystemPrompt = systemPromptOf(request.messages);
    const dialogue = dialogueOf(request.messages);
    if (conversation !== undefined && this.continueSession(job, conversation, appendSystemPrompt, dialogue)) return;
    if (conversation === undefined) {
      const content = promptContent(dialogue, 0, this.provider);
      const directory = this.sessionDirectory(`one-off-${randomUUID()}`);
      const worker = this.spawn(model, undefined, directory);
      worker.oneOffDirectory = directory;
      this.claim(job, worker, undefined, appendSystemPrompt, content);
      return;
    }
    const known = this.agentSessions.get(conversation);
    const from = known === undefined ? undefined : unseenFrom(appendSystemPrompt, dialogue, known.held);
    if (known !== undefined && from !== undefined) {
      // the conversation's process has ended; its session is on disk
      const worker = this.spawn(model, { kind: 'resume', id: known.sessionId }, known.directory);
      job.keepOnAbort = true;
      this.claim(job, worker, undefined, appendSystemPrompt, promptContent(dialogue, from, this.provider));
      return;
    }
    const session: AgentSession = { sessionId: randomUUID(), directory: this.sessionDirectory(conversationKey(conversation)), held: undefined };
    this.rememberAgentSession(conversation, session);
    const content = promptContent(dialogue, 0, this.provider);
    job.keepOnAbort = true;
    this.claim(job, this.spawn(model, { kind: 'new', id: session.sessionId }, session.directory), undefined, appendSystemPrompt, content);
  }

  sessionDirectory(name: string): string {
    const directory = join(this.settings.workDir, 'sessions', name);
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    return directory;
  }

  private rememberAgentSession(conversation: string, session: AgentSession): void {
    this.agentSessions.delete(conversation);
    this.agentSessions.set(conversation, session);
    if (this.agentSessions.size > MAX_AGENT_SESSIONS) this.agentSessions.delete(this.agentSessions.keys().next().value!);
  }

  // --- workers -------------------------------------------------------------------------------

  workDir(): string {
    this.ensureWorkDir();
    return this.settings.workDir;
  }

  private ensureWorkDir(): void {
    if (this.workDirReady) return;
    mkdirSync(this.settings.workDir, { recursive: true, mode: 0o700 });
    this.workDirReady = true;
  }

  private spawn(model: string, session: LaunchOptions['session'], cwd: string): ClaudeWorker {
    const args = claudeArgs({ mode: this.settings.mode, model, persistent: true, ...(session !== undefined ? { session } : {}), extra: this.settings.args });
    const worker = new ClaudeWorker({
      command: this.settings.command, args, env: this.env, cwd, model, secrets: this.secrets,
      onExit: (exited) => this.forget(exited),
    });
    this.workers.add(worker);
    return worker;
  }

  private forget(worker: ClaudeWorker): void {
    this.workers.delete(worker);
    const spare = this.spares.indexOf(worker);
    if (spare >= 0) this.spares.splice(spare, 1);
    if (worker.conversation !== undefined && this.sessions.get(worker.conversation) === worker) this.sessions.delete(worker.conversation);
    // an agent mode one-off turn's directory goes with its process
    if (worker.oneOffDirectory !== undefined) {
      rmSync(worker.oneOffDirectory, { recursive: true, force: true });
    }
  }

  private takeSpare(model: string): ClaudeWorker | undefined {
    const index = this.spares.findIndex((worker) => worker.model === model && worker.state === 'spare' && !worker.hasExited);
    if (index < 0) return undefined;
    return this.spares.splice(index, 1)[0];
  }

  /** Keeps a spare for `model` ready (after a turn, so its start does not slow the turn down). */
  private refill(model: string): void {
    if (this.closed || this.maxSpares === 0 || this.fallbackReason !== undefined || this.settings.mode !== 'llm') return;
    if (this.spares.some((worker) => worker.model === model)) return;
    if (this.spares.length >= this.maxSpares) void this.spares.shift()!.kill();
    this.spares.push(this.spawn(model, undefined, this.workDir()));
  }

  /** A new session on `worker`: initialize (the system prompt), then the turn, written at once. */
  private claim(job: TurnJob, worker: ClaudeWorker, systemPrompt: string[] | undefined, appendSystemPrompt: string | undefined, content: JsonObject[]): void {
    worker.initialize(systemPrompt, appendSystemPrompt).then(
      (response) => this.learn(response),
      (error: Error) => {
        // the process refused initialize while alive: the protocol is not what this driver speaks
        if (error instanceof ControlError && !worker.hasExited && !worker.ready && !job.aborted) this.persistentFailed(job, worker, `Claude Code refused the initialize request: ${error.message}`);
      },
    );
    this.start(job, worker, content);
  }

  private start(job: TurnJob, worker: ClaudeWorker, content: JsonObject[]): void {
    job.worker = worker;
    job.restart(worker.totalCostUsd);
    worker.lastUsed = Date.now();
    worker.startTurn(job, userLine(content));
  }

  private learn(response: JsonObject): void {
    this.version = stringFrom(response.claude_code_version) ?? this.version;
    const models: string[] = [];
    for (const entry of listFrom(response.models)) {
      const value = stringFrom(objectFrom(entry)?.value);
      if (value !== undefined && !models.includes(value)) models.push(value);
    }
    if (models.length > 0) this.models = models;
  }

  // --- JobHost -------------------------------------------------------------------------------

  turnEnded(job: TurnJob): void {
    const worker = job.worker!;
    const conversation = job.turn.conversation;
    const keep = conversation !== undefined && !this.closed && (job.decoder.succeeded || job.aborted) && worker.state === 'idle';
    if (keep) this.keep(conversation, worker, job);
    else void worker.kill();
    job.finish();
    this.refill(job.turn.model);
  }

  workerExited(job: TurnJob, worker: ClaudeWorker, error: Error | undefined): void {
    if (this.closed) {
      job.fail(closedError(this.provider));
      return;
    }
    if (error !== undefined) {
      job.fail(spawnError(this.provider, this.settings.command, error));
      return;
    }
    if (!worker.ready && !job.decoder.answered) {
      this.persistentFailed(job, worker, `Claude Code's stream-json mode ended before it answered (${worker.exitReason})`);
      return;
    }
    job.fail(exitedError(this.provider, worker.exitReason));
  }

  jobFinished(job: TurnJob): void {
    this.jobs.delete(job);
  }

  /** Binds `worker` to the conversation for its next turn; ends the least recently used beyond the bound. */
  private keep(conversation: string, worker: ClaudeWorker, job: TurnJob): void {
    const messages = job.turn.request.messages;
    const previous = this.sessions.get(conversation);
    if (previous !== undefined && previous !== worker) {
      this.sessions.delete(conversation);
      previous.conversation = undefined;
      void previous.kill();
    }
    worker.conversation = conversation;
    worker.held = heldAfterAnswer(systemPromptOf(messages), dialogueOf(messages));
    worker.lastUsed = Date.now();
    this.sessions.delete(conversation);
    this.sessions.set(conversation, worker);
    worker.idleTimer = setTimeout(() => this.expire(worker), this.idleMs);
    worker.idleTimer.unref();
    if (this.settings.mode === 'agent') {
      const session = this.agentSessions.get(conversation);
      if (session !== undefined) {
        session.sessionId = worker.sessionId ?? session.sessionId;
        session.held = worker.held;
      }
    }
    while (this.sessions.size > this.maxIdleSessions) {
      const [oldest, oldestWorker] = this.sessions.entries().next().value!;
      this.sessions.delete(oldest);
      oldestWorker.conversation = undefined;
      void oldestWorker.kill();
    }
  }

  private expire(worker: ClaudeWorker): void {
    worker.idleTimer = undefined;
    if (worker.state !== 'idle') return;
    const conversation = worker.conversation;
    if (conversation !== undefined && this.sessions.get(conversation) === worker) this.sessions.delete(conversation);
    void worker.kill();
  }

  /**
   * The persistent protocol failed before the turn produced anything: later turns run one-shot
   * (describe() says why), and this one starts over that way.
   */
  private persistentFailed(job: TurnJob, worker: ClaudeWorker, reason: string): void {
    worker.detach();
    void worker.kill();
    if (job.finished || job.worker !== worker) return;
    if (job.decoder.answered) {
      job.fail(exitedError(this.provider, worker.exitReason || reason));
      return;
    }
    this.fallbackReason = redactText(reason, this.secrets);
    for (const spare of this.spares.splice(0)) void spare.kill();
    job.worker = undefined;
    job.restart(0);
    try {
      runOneShot(this, job);
    } catch (error) {
      job.fail(this.asGatewayError(error));
    }
  }
}
