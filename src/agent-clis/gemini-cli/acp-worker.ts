// One long-lived `gemini --acp` process (Agent Client Protocol: JSON-RPC 2.0 over stdio, one
// message per line) hosting many sessions. Each ACP session has its own history and model inside
// the one process, so concurrent turns of different conversations run side by side; the process
// costs ~1.6 s and ~230 MB to start, a session ~2 MB and nothing to start.
//
// The CLI's requests to the client are answered here and never approve anything: a permission
// request gets the reject option (a tool the CLI asks about does not run), and file-system or
// terminal requests are not offered (the capabilities are declared off) and refused if made.
import { writeFile } from 'node:fs/promises';
import type { JsonObject } from '../../util/json-value.ts';
import { countFrom, isObject, objectFrom, stringFrom } from '../../util/json-value.ts';
import { CliChild } from '../child.ts';
import { JsonRpcError, JsonRpcPeer } from '../json-rpc.ts';
import type { AcpContentBlock } from './prompt.ts';
import { NEUTRAL_SYSTEM_PROMPT } from './settings.ts';

export const ACP_PROTOCOL_VERSION = 1;

/** Receives the `session/update` notifications of one session while a prompt of it runs. */
export interface SessionListener {
  onUpdate(update: JsonObject): void;
}

export interface AcpWorkerOptions {
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  /** The process's working directory (the driver's; sessions name their own). */
  cwd: string;
  /**
   * The file GEMINI_SYSTEM_MD points at (`llm` mode): the CLI reads it when a session starts, so
   * it holds a session's system prompt while that session is created and the neutral one
   * otherwise (a stray later re-read then gets the neutral prompt, never another caller's).
   */
  systemPromptFile: string | undefined;
  onExit(worker: AcpWorker): void;
}

export interface AcpSession {
  sessionId: string;
  /** The models the CLI offers (`models.availableModels`), `auto` left out. */
  models: string[];
}

export interface PromptResult {
  stopReason: string;
  inputTokens: number | undefined;
  outputTokens: number | undefined;
}

let nextWorkerId = 1;

export class AcpWorker {
  readonly id = nextWorkerId++;
  /** Resolves once the CLI answered `initialize`; rejects when it could not start or refused. */
  readonly ready: Promise<void>;
  version: string | undefined = undefined;
  /** Sessions created on this worker (they live as long as the process: ACP has no close). */
  sessionsCreated = 0;
  /** Prompts running now. */
  running = 0;
  /**
   * Turns bound to this worker, from the moment one picks it (a new session, or a conversation's
   * session on it) until it ends — setting up (session/new, set_model) included. A worker is ended
   * for a stuck turn, retired or recycled only when no other turn is bound to it.
   */
  turns = 0;
  /** Takes no new sessions; ended once its turns are done. */
  draining = false;
  exited = false;
  /** Why the process ended, for the turns it took with it. */
  exitReason = '';
  private readonly child: CliChild;
  private readonly peer: JsonRpcPeer;
  private readonly options: AcpWorkerOptions;
  private readonly listeners = new Map<string, SessionListener>();
  /** Session creations, one at a time when they rewrite the system prompt file. */
  private sessionQueue: Promise<unknown> = Promise.resolve();

  constructor(options: AcpWorkerOptions) {
    this.options = options;
    this.peer = new JsonRpcPeer((line) => this.child.write(line), {
      onNotification: (method, params) => this.onNotification(method, params),
      onRequest: (method, params) => this.onRequest(method, params),
    });
    this.child = new CliChild({
      command: options.command,
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      onLine: (line) => this.peer.receive(line),
      onExit: (code, signal, error) => this.onExit(code, signal, error),
    });
    this.ready = this.initialize();
    // a start failure is reported to whoever awaits `ready`; this only keeps it from being unhandled
    this.ready.catch(() => {});
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get systemPromptFile(): string | undefined {
    return this.options.systemPromptFile;
  }

  /** The tail of the CLI's stderr (redact before showing). */
  stderrTail(): string {
    return this.child.stderrTail();
  }

  private async initialize(): Promise<void> {
    const result = objectFrom(await this.peer.request('initialize', {
      protocolVersion: ACP_PROTOCOL_VERSION,
      // the CLI reads and writes files itself, inside its working directory; no terminal is lent to it
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
    }));
    if (result === undefined || result.protocolVersion !== ACP_PROTOCOL_VERSION) {
      throw new Error(`the CLI answered initialize with protocol version ${String(result?.protocolVersion)}, not ${ACP_PROTOCOL_VERSION}`);
    }
    this.version = stringFrom(objectFrom(result.agentInfo)?.version);
  }

  /** A new session in `cwd` whose system prompt is `systemPrompt` (the neutral one when undefined). */
  createSession(cwd: string, systemPrompt: string | undefined): Promise<AcpSession> {
    const file = this.options.systemPromptFile;
    const create = async (): Promise<AcpSession> => {
      const custom = file !== undefined && systemPrompt !== undefined;
      if (custom) await writeFile(file, systemPrompt);
      try {
        this.sessionsCreated++;
        return sessionFrom(await this.peer.request('session/new', { cwd, mcpServers: [] }));
      } finally {
        if (custom) await writeFile(file, NEUTRAL_SYSTEM_PROMPT);
      }
    };
    const created = this.sessionQueue.then(create, create);
    this.sessionQueue = created.catch(() => {});
    return created;
  }

  async setModel(sessionId: string, model: string): Promise<void> {
    await this.peer.request('session/set_model', { sessionId, modelId: model });
  }

  /** Runs a prompt; the session's updates go to `listener` until it settles. */
  async prompt(sessionId: string, blocks: AcpContentBlock[], listener: SessionListener): Promise<PromptResult> {
    this.listeners.set(sessionId, listener);
    this.running++;
    try {
      const result = objectFrom(await this.peer.request('session/prompt', { sessionId, prompt: blocks }));
      const tokens = objectFrom(objectFrom(objectFrom(result?._meta)?.quota)?.token_count);
      return {
        stopReason: stringFrom(result?.stopReason) ?? 'end_turn',
        inputTokens: countFrom(tokens?.input_tokens),
        outputTokens: countFrom(tokens?.output_tokens),
      };
    } finally {
      this.running--;
      if (this.listeners.get(sessionId) === listener) this.listeners.delete(sessionId);
    }
  }

  /** Asks the CLI to stop the session's prompt (it then answers it with `stopReason: cancelled`). */
  cancel(sessionId: string): void {
    this.listeners.delete(sessionId);
    this.peer.notify('session/cancel', { sessionId });
  }

  /** Ends the process group; resolves once it has exited. */
  kill(): Promise<void> {
    this.draining = true;
    return this.child.kill();
  }

  private onNotification(method: string, params: unknown): void {
    if (method !== 'session/update' || !isObject(params)) return;
    const sessionId = stringFrom(params.sessionId);
    const update = objectFrom(params.update);
    if (sessionId === undefined || update === undefined) return;
    // updates of a session with no prompt running (its command list after session/new) are dropped
    this.listeners.get(sessionId)?.onUpdate(update);
  }

  private onRequest(method: string, params: unknown): unknown {
    if (method === 'session/request_permission') return { outcome: rejection(params) };
    throw new JsonRpcError(-32601, `Method not found: ${method}`);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    this.exited = true;
    this.draining = true;
    this.exitReason = error !== undefined
      ? `could not start ${this.options.command}: ${error.message}`
      : `the CLI exited${code !== null ? ` with code ${code}` : ''}${signal !== null ? ` (${signal})` : ''}`;
    const tail = this.child.stderrTail();
    this.peer.close(new Error(tail.length > 0 ? `${this.exitReason}; stderr: ${tail.slice(-1000)}` : this.exitReason));
    this.listeners.clear();
    this.options.onExit(this);
  }
}

/** The reject option of a permission request (or "cancelled" when it offers none): nothing is approved. */
function rejection(params: unknown): JsonObject {
  const options = isObject(params) && Array.isArray(params.options) ? params.options : [];
  for (const kind of ['reject_once', 'reject_always']) {
    for (const option of options) {
      if (isObject(option) && option.kind === kind && typeof option.optionId === 'string') return { outcome: 'selected', optionId: option.optionId };
    }
  }
  return { outcome: 'cancelled' };
}

function sessionFrom(result: unknown): AcpSession {
  const body = objectFrom(result);
  const sessionId = stringFrom(body?.sessionId);
  if (sessionId === undefined) throw new Error('session/new answered without a sessionId');
  const models: string[] = [];
  const available = objectFrom(body?.models)?.availableModels;
  if (Array.isArray(available)) {
    for (const entry of available) {
      const modelId = stringFrom(objectFrom(entry)?.modelId);
      // `auto` asks a router model first: never chosen by the driver, never listed
      if (modelId !== undefined && modelId !== 'auto') models.push(modelId);
    }
  }
  return { sessionId, models };
}
