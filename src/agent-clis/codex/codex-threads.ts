// Which thread a turn runs on. A conversation keeps one thread across turns (each turn sends only
// the caller's new messages; a worker that replaced a dead one resumes it from disk — but a thread
// stays with the worker that has it, so a turn sent to another worker while that one is busy
// starts a new thread with the history as a transcript); a turn without a
// conversation, or one whose conversation's thread is busy, gets an ephemeral thread of its own,
// unloaded when it ends. A caller whose history no longer matches the thread's (an edited or
// regenerated answer, a failed or aborted turn) gets a new thread with the history as a
// transcript. In agent mode each conversation has a working directory of its own.
import { createHash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { objectFrom, stringFrom, type JsonObject } from '../../util/json-value.ts';
import type { AppServerWorker } from './app-server-worker.ts';
import type { CodexLaunch } from './codex-launch.ts';
import { dialogueOf, heldAfterAnswer, systemPromptOf, unseenFrom, type HeldHistory } from '../transcript.ts';
import { turnInput } from './codex-input.ts';
import { protocolError } from './codex-errors.ts';
import type { CodexTurn } from './codex-turn.ts';
import { ConversationBook, type ConversationRecord } from './conversation-book.ts';
import type { ExecTurn } from './exec-turn.ts';

/** Conversation threads kept loaded in the worker; older ones are unloaded and resumed from disk when used again. */
const MAX_LOADED_THREADS = 32;
/** llm mode's instructions when the caller sends no system prompt (Codex's own describe tools the thread does not have). */
const LLM_INSTRUCTIONS = 'You are a helpful assistant.';

/** The driver's state of one turn, besides its answer (CodexTurn). */
export interface TurnBinding {
  worker: AppServerWorker | undefined;
  record: ConversationRecord | undefined;
  /** What the conversation's thread holds once this turn has answered (set when the turn is bound). */
  held: HeldHistory | undefined;
  /** After an abort: the time Codex has to end the turn before its worker is taken for stuck. */
  interruptTimer: NodeJS.Timeout | undefined;
  interrupted: boolean;
  onAbort: () => void;
  /** agent mode, a one-off turn: its working directory, removed when it ends. */
  scratch: string | undefined;
  exec: ExecTurn | undefined;
  settled: boolean;
}

export class CodexThreads {
  private readonly launch: CodexLaunch;
  private readonly provider: string;
  /** The live worker of a generation (the one that has a thread loaded); undefined: any live worker. */
  private readonly workerOf: (generation?: number) => AppServerWorker | undefined;
  private readonly conversations = new ConversationBook();

  constructor(launch: CodexLaunch, provider: string, workerOf: (generation?: number) => AppServerWorker | undefined) {
    this.launch = launch;
    this.provider = provider;
    this.workerOf = workerOf;
  }

  /** The generation of the worker that has the conversation's thread loaded (-1: none), for picking a worker. */
  generationOf(conversation: string): number | undefined {
    const record = this.conversations.peek(conversation);
    return record?.threadId === undefined ? undefined : record.generation;
  }

  /** Finds or makes the turn's thread; returns the `turn/start` parameters. */
  async bind(worker: AppServerWorker, state: CodexTurn, binding: TurnBinding): Promise<JsonObject> {
    const { request, conversation, model } = state.turn;
    const system = systemPromptOf(request.messages);
    const dialogue = dialogueOf(request.messages);
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
        binding.held = heldAfterAnswer(system, dialogue);
        const unseen = unseenFrom(system, dialogue, record.held);
        if (record.threadId !== undefined && unseen === undefined) this.dropThread(record);
        if (record.threadId !== undefined && record.generation !== worker.generation) {
          // another worker still running has the thread: Codex lets one process write a thread
          // ("already has an active writer"), so the turn starts a new thread with the history
          // as a transcript and the old one is deleted there
          const holder = this.workerOf(record.generation);
          if (holder !== undefined) this.dropThread(record);
          else {
            try {
              await worker.request('thread/resume', { threadId: record.threadId, ...this.threadSettings(state, await this.directoryOf(record), false), excludeTurns: true });
              record.generation = worker.generation;
            } catch {
              // gone from disk, never persisted, or held by a process of its own: a new thread with the history as a transcript
              record.threadId = undefined;
            }
          }
        }
        if (record.threadId !== undefined && unseen !== undefined) from = unseen;
      }
    }
    const input = turnInput(dialogue, from);
    if (record === undefined || record.threadId === undefined) {
      const directory = record !== undefined ? await this.directoryOf(record) : await this.scratchDirectory(binding);
      const started = await worker.request('thread/start', { ...this.threadSettings(state, directory, true), ephemeral: record === undefined });
      const threadId = stringFrom(objectFrom(objectFrom(started)?.thread)?.id);
      if (threadId === undefined) throw protocolError(this.provider, 'thread/start', new Error('the answer named no thread'));
      if (record !== undefined) {
        record.threadId = threadId;
        record.generation = worker.generation;
        record.held = undefined;
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

  /** The turn has ended: its conversation's thread is free again (or dropped), a one-off thread unloaded. */
  release(state: CodexTurn, binding: TurnBinding): void {
    const worker = binding.worker;
    const record = binding.record;
    if (record !== undefined) {
      record.busy = false;
      record.lastTurnId = state.turnId;
      // an aborted or failed turn leaves the thread out of step with what the caller will send next
      if (state.ended && !state.failed) record.held = binding.held;
      else this.dropThread(record);
      if (worker !== undefined && !worker.exited) this.unloadOld(worker);
    } else if (state.oneOff && state.threadId !== undefined && worker !== undefined && !worker.exited) {
      worker.request('thread/unsubscribe', { threadId: state.threadId }).catch(ignore);
    }
    if (binding.scratch !== undefined) rm(binding.scratch, { recursive: true, force: true }).catch(ignore);
  }

  /** A one-off turn's directory: llm mode's empty one, or in agent mode a new one removed when the turn ends. */
  async scratchDirectory(binding: TurnBinding): Promise<string> {
    if (this.launch.mode === 'llm') return this.launch.llmDirectory;
    binding.scratch = join(this.launch.sessionsDirectory, `turn-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`);
    await mkdir(binding.scratch, { recursive: true });
    return binding.scratch;
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
  private async directoryOf(record: ConversationRecord): Promise<string> {
    if (this.launch.mode === 'llm') return this.launch.llmDirectory;
    if (record.directory === undefined) {
      record.directory = join(this.launch.sessionsDirectory, createHash('sha256').update(record.key).digest('hex').slice(0, 24));
      await mkdir(record.directory, { recursive: true });
    }
    return record.directory;
  }

  /** The thread no longer carries the conversation: deleted (best effort), the next turn starts a new one. */
  private dropThread(record: ConversationRecord): void {
    const threadId = record.threadId;
    record.threadId = undefined;
    record.held = undefined;
    // deleted through the worker that has it loaded, else any (it is on disk)
    const worker = this.workerOf(record.generation) ?? this.workerOf();
    if (threadId !== undefined && worker !== undefined && !worker.exited) worker.request('thread/delete', { threadId }).catch(ignore);
  }

  /** Conversations pushed out of the book: their threads deleted, agent directories removed. */
  private forget(records: readonly ConversationRecord[]): void {
    for (const record of records) {
      this.dropThread(record);
      if (record.directory !== undefined) rm(record.directory, { recursive: true, force: true }).catch(ignore);
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
}

function ignore(): void {}
