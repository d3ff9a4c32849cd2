// The Gemini CLI as a provider: turns run on long-lived `gemini --acp` workers (see
// acp-worker.ts, worker-pool.ts), one ACP session per conversation, with the one-shot
// `gemini --output-format stream-json` as the fallback when ACP cannot be used.
//
// A turn: find the conversation's session (the request must continue what it holds, see
// ../transcript.ts, and no other turn may be using it), else start a session and send the history
// flattened; set the model the caller asked for (always: the CLI's `auto` would first ask a router
// model); send the prompt; map `agent_message_chunk` to text and `agent_thought_chunk` to
// reasoning; end with the result's stop reason and token counts. Abort sends `session/cancel`
// (the CLI stops its upstream call at once); a CLI that has not let go within 200 ms is killed.
//
// A session is not reloaded into a new worker (ACP `session/load`): in 0.61 loading a session
// recorded in the same minute first overwrites its record ("No previous sessions found"), and the
// replayed history arrives after the load's answer, where it would mix with the next turn's
// updates. A conversation whose worker has ended starts a new session with its history flattened.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PartSink } from '../../canonical/adapters.ts';
import { GatewayError } from '../../canonical/errors.ts';
import type { Message } from '../../canonical/request.ts';
import type { JsonObject } from '../../util/json-value.ts';
import { objectFrom, stringFrom } from '../../util/json-value.ts';
import { redactText } from '../../util/redact.ts';
import type { AgentCliDriver, AgentCliProtocol, AgentCliSettings, AgentCliState, AgentTurn, AgentTurnReport } from '../driver.ts';
import type { AcpWorker, PromptResult, SessionListener } from './acp-worker.ts';
import { cliStopped, driverClosed, overloaded, promptError, turnFailed, turnSilent } from './errors.ts';
import { runOneShot, type OneShotRun } from './one-shot.ts';
import { dialogueOf, heldAfterAnswer, systemPromptOf, unseenFrom, type HeldHistory } from '../transcript.ts';
import { promptBlocks, type AcpContentBlock } from './prompt.ts';
import { cliTempDir, NEUTRAL_SYSTEM_PROMPT, projectSettings, secretsOf } from './settings.ts';
import { TurnOutput } from './turn-output.ts';
import { AcpUnavailableError, WorkerPool } from './worker-pool.ts';

/**
 * After `session/cancel`, how long the CLI has to settle the prompt before its process is ended
 * (with the kill, within the 250 ms an abort may take). The CLI drops its upstream call at once
 * (1–3 ms measured) and settles the prompt within ~150 ms even on a loaded machine.
 */
const CANCEL_GRACE_MS = 200;
/** A worker that would not let go of a cancelled turn while running others is ended this long after. */
const STUCK_WORKER_MS = 60_000;
/** A turn with no word from the CLI for this long is cancelled (the gateway's own timeouts are usually shorter). */
const SILENCE_LIMIT_MS = 5 * 60_000;
/** Conversations whose session is remembered (least recently used forgotten first). */
const MAX_CONVERSATIONS = 256;
/** Turns one worker runs at once (the provider's concurrency is normally far lower). */
const MAX_RUNNING_PER_WORKER = 32;
/** After ACP failed, turns run one-shot for this long before ACP is tried again. */
const FALLBACK_MS = 5 * 60_000;
/** The CLI names its error reports (in its TMPDIR) so. */
const ERROR_REPORT_PREFIX = 'gemini-client-error-';
/** A failed turn's error report is removed this long after (the CLI writes it as the turn fails). */
const TEMP_CLEANUP_DELAY_MS = 1000;

/** The session a conversation continues on. */
interface ConversationSession {
  worker: AcpWorker;
  sessionId: string;
  model: string;
  /** What the session holds of the conversation (undefined: nothing yet). */
  held: HeldHistory | undefined;
  /** A turn is using it: another turn of the same conversation at the same time gets a session of its own. */
  busy: boolean;
  /** agent mode: the session's own working directory. */
  directory: string | undefined;
}

export class GeminiCliDriver implements AgentCliDriver {
  private readonly settings: AgentCliSettings;
  private readonly pool: WorkerPool;
  private readonly secrets: string[];
  private readonly conversations = new Map<string, ConversationSession>();
  private readonly oneShots = new Set<OneShotRun>();
  private prepared: Promise<void> | undefined = undefined;
  private running = 0;
  private closed = false;
  private fallbackReason: string | undefined = undefined;
  private fallbackUntil = 0;
  private models: readonly string[] | undefined = undefined;
  private tempCleanup: NodeJS.Timeout | undefined = undefined;
  /** A listing under way (callers at the same time share it). */
  private listing: Promise<readonly string[]> | undefined = undefined;

  constructor(settings: AgentCliSettings) {
    this.settings = settings;
    this.pool = new WorkerPool(settings);
    this.secrets = secretsOf(settings.env);
  }

  get protocol(): AgentCliProtocol {
    return this.usesFallback() ? 'one-shot' : 'acp';
  }

  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void {
    if (turn.signal.aborted) {
      turn.onSettled?.();
      return;
    }
    const output = new TurnOutput(sink, `gemini-${randomUUID()}`, turn.model);
    if (this.closed) {
      output.fail(driverClosed(this.settings.name));
      return;
    }
    this.running++;
    const progress = new TurnProgress();
    const settle = (): void => {
      if (progress.settled) return;
      progress.settled = true;
      this.running--;
      turn.onSettled?.();
    };
    // while the turn waits (for the worker to start, its session, its model) nothing of it runs
    // in the CLI yet: an abort ends it at once; runTurn() finds it aborted when the wait is over
    const onAbort = (): void => {
      if (!progress.working) settle();
    };
    turn.signal.addEventListener('abort', onAbort, { once: true });
    this.runTurn(turn, output, report, progress)
      .catch((failure: unknown) => output.fail(this.closed ? driverClosed(this.settings.name) : failure instanceof GatewayError ? failure : promptError(failure, this.settings.name, this.secrets)))
      .finally(() => {
        turn.signal.removeEventListener('abort', onAbort);
        settle();
        if (output.failed) this.scheduleTempCleanup();
      });
  }

  async listModels(signal: AbortSignal): Promise<readonly string[]> {
    if (this.settings.models.length > 0) return this.settings.models;
    if (this.models !== undefined) return this.models;
    if (this.usesFallback()) return [];
    // ACP lists the models in the answer to session/new: one session (of a worker that turns start anyway) is the cost
    this.listing ??= this.listFromSession().finally(() => {
      this.listing = undefined;
    });
    const listing = this.listing;
    // a caller that left does not see a later failure; no one else may have to
    listing.catch(() => {});
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([listing, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  private async listFromSession(): Promise<readonly string[]> {
    await this.prepare();
    try {
      const worker = await this.pool.forNewSession();
      try {
        const session = await worker.createSession(this.settings.workDir, undefined);
        this.models = session.models;
        return session.models;
      } finally {
        this.pool.turnEnded(worker);
      }
    } catch (failure) {
      if (!(failure instanceof AcpUnavailableError)) throw failure;
      this.fallBack(failure.message);
      return [];
    }
  }

  describe(): AgentCliState {
    return {
      protocol: this.protocol,
      workers: this.pool.size,
      running: this.running,
      ...(this.pool.version !== undefined ? { version: this.pool.version } : {}),
      ...(this.usesFallback() ? { fallbackReason: this.fallbackReason! } : {}),
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.pool.close(), ...[...this.oneShots].map((run) => run.kill())]);
    const directories = [...this.conversations.values()].map((entry) => entry.directory);
    this.conversations.clear();
    await Promise.all(directories.map((directory) => (directory !== undefined ? rm(directory, { recursive: true, force: true }) : undefined)));
  }

  private async runTurn(turn: AgentTurn, output: TurnOutput, report: (report: AgentTurnReport) => void, progress: TurnProgress): Promise<void> {
    await this.prepare();
    if (turn.signal.aborted) return;
    const messages = turn.request.messages;
    const system = systemPromptOf(messages);
    const conversation = dialogueOf(messages);
    if (this.usesFallback()) return this.runOneShot(turn, output, conversation, system, progress);
    const continued = this.sessionFor(turn, system, conversation);
    let session: ConversationSession | undefined;
    let blocks: AcpContentBlock[];
    if (continued !== undefined) {
      session = continued.session;
      // bound to this turn until its turnEnded below
      session.worker.turns++;
      blocks = promptBlocks(conversation, continued.from);
    } else {
      blocks = promptBlocks(conversation, 0, this.settings.mode === 'agent' ? system : undefined);
      try {
        session = await this.startSession(system, turn.signal);
      } catch (failure) {
        if (!(failure instanceof AcpUnavailableError)) throw failure;
        this.fallBack(failure.message);
        if (turn.signal.aborted) return;
        return this.runOneShot(turn, output, conversation, system, progress);
      }
      // aborted while the worker started: no session was made for it
      if (session === undefined) return;
    }
    session.busy = true;
    let kept = false;
    try {
      if (turn.signal.aborted) return;
      if (session.worker.running >= MAX_RUNNING_PER_WORKER) throw overloaded(this.settings.name, MAX_RUNNING_PER_WORKER);
      if (session.model !== turn.model) {
        await session.worker.setModel(session.sessionId, turn.model);
        session.model = turn.model;
      }
      if (turn.signal.aborted) return;
      progress.working = true;
      const result = await this.prompt(turn, session, blocks, output);
      if (result === undefined) return;
      report({ session: session.sessionId });
      if (this.finish(result, output) && turn.conversation !== undefined) {
        kept = true;
        this.remember(turn.conversation, session, system, conversation);
      }
    } finally {
      session.busy = false;
      this.pool.turnEnded(session.worker);
      // a session whose state is uncertain (failed, aborted turn) or that no conversation names is not used again
      if (!kept) this.forget(turn.conversation, session);
    }
  }

  /** The conversation's session, when this request continues what it holds, and where the new messages start. */
  private sessionFor(turn: AgentTurn, system: string | undefined, conversation: readonly Message[]): { session: ConversationSession; from: number } | undefined {
    if (turn.conversation === undefined) return undefined;
    const session = this.conversations.get(turn.conversation);
    if (session === undefined || session.busy || session.worker.exited) return undefined;
    const from = unseenFrom(system, conversation, session.held);
    if (from === undefined) return undefined;
    // most recently used last
    this.conversations.delete(turn.conversation);
    this.conversations.set(turn.conversation, session);
    return { session, from };
  }

  /** A new session on the active worker (started if needed); undefined when `signal` aborted while the worker started. */
  private async startSession(system: string | undefined, signal: AbortSignal): Promise<ConversationSession | undefined> {
    const worker = await this.pool.forNewSession();
    if (signal.aborted) {
      this.pool.turnEnded(worker);
      return undefined;
    }
    let directory: string | undefined;
    try {
      if (this.settings.mode === 'agent') {
        // agent mode: each session works in a directory of its own under the driver's
        directory = join(this.settings.workDir, 'sessions', randomUUID());
        await mkdir(join(directory, '.gemini'), { recursive: true });
        await writeFile(join(directory, '.gemini', 'settings.json'), projectSettings('agent'));
      }
      // llm mode: the caller's system prompt replaces the CLI's (agent mode keeps the CLI's own, which knows its tools)
      const created = await worker.createSession(directory ?? this.settings.workDir, this.settings.mode === 'llm' ? system : undefined);
      if (this.models === undefined && created.models.length > 0) this.models = created.models;
      return { worker, sessionId: created.sessionId, model: '', held: undefined, busy: false, directory };
    } catch (failure) {
      this.pool.turnEnded(worker);
      if (directory !== undefined) await rm(directory, { recursive: true, force: true });
      throw failure;
    }
  }

  /** Runs the prompt; undefined when the caller left (nothing more is sent then). */
  private prompt(turn: AgentTurn, session: ConversationSession, blocks: AcpContentBlock[], output: TurnOutput): Promise<PromptResult | undefined> {
    const { worker, sessionId } = session;
    const listener = new TurnListener(output);
    let settled = false;
    let silence: NodeJS.Timeout | undefined = undefined;
    const stop = (): void => {
      if (settled) return;
      worker.cancel(sessionId);
      // the CLI stops its upstream call on cancel; one that does not let go is ended
      const grace = setTimeout(() => {
        if (settled || worker.exited) return;
        if (worker.turns <= 1) {
          void worker.kill();
          return;
        }
        // other turns run on it: they may finish, then it is ended (or at the latest after STUCK_WORKER_MS)
        this.pool.retire(worker);
        setTimeout(() => {
          if (!settled) void worker.kill();
        }, STUCK_WORKER_MS).unref();
      }, CANCEL_GRACE_MS);
      grace.unref();
    };
    const onAbort = (): void => {
      output.detach();
      stop();
    };
    turn.signal.addEventListener('abort', onAbort, { once: true });
    listener.silence = silence = setTimeout(() => {
      output.fail(turnSilent(this.settings.name, SILENCE_LIMIT_MS));
      stop();
    }, SILENCE_LIMIT_MS);
    silence.unref();
    return worker.prompt(sessionId, blocks, listener).then(
      (result) => {
        settled = true;
        clearTimeout(silence);
        turn.signal.removeEventListener('abort', onAbort);
        return turn.signal.aborted || output.finished ? undefined : result;
      },
      (failure: unknown) => {
        settled = true;
        clearTimeout(silence);
        turn.signal.removeEventListener('abort', onAbort);
        if (turn.signal.aborted || output.finished) return undefined;
        throw worker.exited ? cliStopped(this.settings.name, redactText(this.exitDetail(worker), this.secrets)) : promptError(failure, this.settings.name, this.secrets);
      },
    );
  }

  /** Ends the turn by its stop reason; true when it is a whole answer. */
  private finish(result: PromptResult, output: TurnOutput): boolean {
    const provider = this.settings.name;
    const usage = result.inputTokens !== undefined && result.outputTokens !== undefined ? { inputTokens: result.inputTokens, outputTokens: result.outputTokens } : undefined;
    switch (result.stopReason) {
      case 'end_turn':
        if (output.answer.length === 0) {
          // the CLI ends a turn this way when the answer was blocked, cut off or empty (it does not say which)
          output.fail(turnFailed(provider, 502, 'server-error', 'the model gave no answer (it may have been blocked for safety, cut off, or empty).'));
          return false;
        }
        output.end('stop', 'end_turn', usage);
        return true;
      case 'max_tokens':
        // ACP's max_tokens is the CLI's "context window will overflow": the prompt was not sent
        output.fail(turnFailed(provider, 400, 'context-length', 'the conversation does not fit the model\'s context window.'));
        return false;
      case 'max_turn_requests':
        output.fail(turnFailed(provider, 502, 'server-error', 'the CLI stopped after too many model requests in one turn (a loop of tool calls).'));
        return false;
      case 'refusal':
        output.fail(turnFailed(provider, 400, 'client-error', 'the model refused to answer.'));
        return false;
      default:
        output.fail(cliStopped(provider, `the turn ended with stop reason '${result.stopReason}'`));
        return false;
    }
  }

  private remember(conversationId: string, session: ConversationSession, system: string | undefined, conversation: readonly Message[]): void {
    session.held = heldAfterAnswer(system, conversation);
    const previous = this.conversations.get(conversationId);
    if (previous !== undefined && previous !== session) this.release(previous);
    this.conversations.delete(conversationId);
    this.conversations.set(conversationId, session);
    while (this.conversations.size > MAX_CONVERSATIONS) {
      const [oldest, entry] = this.conversations.entries().next().value as [string, ConversationSession];
      this.conversations.delete(oldest);
      this.release(entry);
    }
  }

  private forget(conversationId: string | undefined, session: ConversationSession): void {
    if (conversationId !== undefined && this.conversations.get(conversationId) === session) this.conversations.delete(conversationId);
    this.release(session);
  }

  /** A session no conversation uses any more: its working directory goes (agent mode). */
  private release(session: ConversationSession): void {
    if (session.directory !== undefined && !session.busy) void rm(session.directory, { recursive: true, force: true });
  }

  private runOneShot(turn: AgentTurn, output: TurnOutput, conversation: readonly Message[], system: string | undefined, progress: TurnProgress): Promise<void> {
    // the process is the turn's own: an abort kills it, and the turn ends when it has exited
    progress.working = true;
    const blocks = promptBlocks(conversation, 0, this.settings.mode === 'agent' ? system : undefined);
    const run = runOneShot(this.settings, turn, blocks, this.settings.mode === 'llm' ? (system ?? NEUTRAL_SYSTEM_PROMPT) : undefined, output);
    this.oneShots.add(run);
    return run.done.finally(() => this.oneShots.delete(run));
  }

  private usesFallback(): boolean {
    return this.fallbackReason !== undefined && Date.now() < this.fallbackUntil;
  }

  private fallBack(reason: string): void {
    this.fallbackReason = `gemini --acp failed (${redactText(reason, this.secrets)}); turns run one process each`;
    this.fallbackUntil = Date.now() + FALLBACK_MS;
  }

  private exitDetail(worker: AcpWorker): string {
    const tail = worker.stderrTail();
    return tail.length > 0 ? `${worker.exitReason}: ${tail.slice(-1000)}` : worker.exitReason;
  }

  /**
   * The CLI's error reports (the conversation, dumped on an upstream error) are removed soon
   * after a failed turn: the driver's answer carries the error already.
   */
  private scheduleTempCleanup(): void {
    if (this.tempCleanup !== undefined) return;
    this.tempCleanup = setTimeout(() => {
      const directory = cliTempDir(this.settings);
      void readdir(directory)
        .then((names) => Promise.all(names.filter((name) => name.startsWith(ERROR_REPORT_PREFIX)).map((name) => rm(join(directory, name), { force: true }))))
        .catch(() => {})
        .finally(() => {
          this.tempCleanup = undefined;
        });
    }, TEMP_CLEANUP_DELAY_MS);
    this.tempCleanup.unref();
  }

  /** The driver's directory, with the CLI settings for its mode (once). */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      const { workDir, mode } = this.settings;
      await mkdir(join(workDir, '.gemini'), { recursive: true });
      await writeFile(join(workDir, '.gemini', 'settings.json'), projectSettings(mode));
      // the CLI's temporary files of an earlier run of the gateway go
      await rm(cliTempDir(this.settings), { recursive: true, force: true });
      await mkdir(cliTempDir(this.settings), { recursive: true });
      // agent sessions' directories from an earlier run of the gateway
      if (mode === 'agent') await rm(join(workDir, 'sessions'), { recursive: true, force: true });
    })();
    return this.prepared;
  }
}

/** Where a turn is: waiting (for a worker, a session, the model) or working in the CLI; settled once counted out of `running`. */
class TurnProgress {
  working = false;
  settled = false;
}

/** Maps one session's updates to the turn's parts; restarts the silence clock on each. */
class TurnListener implements SessionListener {
  private readonly output: TurnOutput;
  silence: NodeJS.Timeout | undefined = undefined;

  constructor(output: TurnOutput) {
    this.output = output;
  }

  onUpdate(update: JsonObject): void {
    this.silence?.refresh();
    switch (update.sessionUpdate) {
      case 'agent_message_chunk':
        this.output.text(textOf(update.content));
        return;
      case 'agent_thought_chunk':
        this.output.reasoning(textOf(update.content));
        return;
      default:
        // tool calls (agent mode), plans, command lists, mode changes: not part of the answer
        return;
    }
  }
}

function textOf(content: unknown): string {
  const block = objectFrom(content);
  return block?.type === 'text' ? (stringFrom(block.text) ?? '') : '';
}
