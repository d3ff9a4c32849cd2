// One long-lived Claude Code process in stream-json mode: stdin takes control requests and user
// lines, stdout gives control responses and the turn's events. A process holds one session, so a
// worker serves one conversation at a time: it is spawned ahead of need (a spare, its model set,
// not yet initialized: the caller's system prompt goes in the `initialize` control request), then
// claimed by a turn, then kept for that conversation's next turns or ended.
//
// The CLI's own requests to the driver (`can_use_tool` when something would need approval) are
// refused: nobody approves anything on a gateway.
import { CliChild } from '../child.ts';
import type { HeldHistory } from '../transcript.ts';
import { objectFrom, objectFromLine, stringFrom, textFrom, type JsonObject } from '../../util/json-value.ts';
import { redactText } from '../../util/redact.ts';
import type { ClaudeTurnDecoder } from './turn-decoder.ts';

/** Control requests waiting for their answer; the driver sends at most a few per turn. */
const MAX_PENDING_CONTROL = 16;

export interface WorkerOptions {
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  model: string;
  secrets: readonly string[];
  /** The process ended (or could not start); called once. */
  onExit(worker: ClaudeWorker, error: Error | undefined): void;
}

/** What the driver is told of a turn the worker ran. */
export interface WorkerTurn {
  readonly decoder: ClaudeTurnDecoder;
  /** The result line came: the worker is free again. */
  onEnd(): void;
  /** The process ended before the result. */
  onExit(worker: ClaudeWorker, error: Error | undefined): void;
}

interface ControlWaiter {
  resolve(response: JsonObject): void;
  reject(error: Error): void;
}

export class ControlError extends Error {}

export type WorkerState = 'spare' | 'busy' | 'idle' | 'closed';

export class ClaudeWorker {
  readonly model: string;
  state: WorkerState = 'spare';
  /** The initialize control request was sent (a worker is initialized once, by the turn that claims it). */
  initialized = false;
  /** The initialize response came: the process speaks the protocol. */
  ready = false;
  /** The conversation this worker holds, and how much of it (see ../transcript.ts). */
  conversation: string | undefined = undefined;
  held: HeldHistory | undefined = undefined;
  /** The CLI's session id, once reported. */
  sessionId: string | undefined = undefined;
  /** The CLI's running total cost, to tell each turn's share. */
  totalCostUsd = 0;
  lastUsed = 0;
  /** Agent mode, a one-off turn: the working directory, removed with the process. */
  oneOffDirectory: string | undefined = undefined;
  idleTimer: NodeJS.Timeout | undefined = undefined;
  private readonly child: CliChild;
  private readonly secrets: readonly string[];
  private readonly onExitCallback: (worker: ClaudeWorker, error: Error | undefined) => void;
  private turn: WorkerTurn | undefined = undefined;
  private readonly control = new Map<string, ControlWaiter>();
  private nextRequest = 1;
  private exitDetail = '';

  constructor(options: WorkerOptions) {
    this.model = options.model;
    this.secrets = options.secrets;
    this.onExitCallback = options.onExit;
    this.child = new CliChild({
      command: options.command,
      args: options.args,
      env: options.env,
      cwd: options.cwd,
      onLine: (line) => this.onLine(line),
      onExit: (code, signal, error) => this.onExit(code, signal, error),
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.child.hasExited;
  }

  /** Why the process ended: its exit and the tail of its stderr, secrets redacted. */
  get exitReason(): string {
    return this.exitDetail;
  }

  /**
   * Sends `initialize` with the session's system prompt: `systemPrompt` replaces Claude Code's own
   * (an empty list: no system prompt of the caller's, and none of Claude Code's either),
   * `appendSystemPrompt` adds to it. Resolves with the initialize response (models, version).
   */
  initialize(systemPrompt: readonly string[] | undefined, appendSystemPrompt: string | undefined): Promise<JsonObject> {
    this.initialized = true;
    const request: JsonObject = { subtype: 'initialize' };
    if (systemPrompt !== undefined) request.systemPrompt = systemPrompt;
    if (appendSystemPrompt !== undefined) request.appendSystemPrompt = appendSystemPrompt;
    return this.request(request).then((response) => {
      this.ready = true;
      return response;
    });
  }

  /** Starts a turn: the user line goes to stdin; the turn's lines go to its decoder until the result. */
  startTurn(turn: WorkerTurn, line: string): boolean {
    this.state = 'busy';
    this.turn = turn;
    return this.child.write(line);
  }

  /** The turn no longer listens (it moved to another process); the worker is ended by the caller. */
  detach(): void {
    this.turn = undefined;
  }

  /** Asks Claude Code to stop the turn (it answers with the turn's result at once). */
  interrupt(): void {
    this.request({ subtype: 'interrupt' }).catch(() => {
      // the process is gone or refused: the driver kills it if the turn does not end
    });
  }

  /**
   * Ends the process group now (SIGTERM, then SIGKILL after `graceMs`; 0: SIGKILL at once);
   * resolves once it has exited.
   */
  kill(graceMs?: number): Promise<void> {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    return this.child.kill(graceMs);
  }

  private request(request: JsonObject): Promise<JsonObject> {
    if (this.control.size >= MAX_PENDING_CONTROL) return Promise.reject(new ControlError('too many control requests waiting'));
    const id = `swy-${this.nextRequest++}`;
    return new Promise((resolve, reject) => {
      this.control.set(id, { resolve, reject });
      if (!this.child.write(`${JSON.stringify({ type: 'control_request', request_id: id, request })}\n`)) {
        this.control.delete(id);
        reject(new ControlError('the process is gone'));
      }
    });
  }

  private onLine(line: string): void {
    // every protocol line is a JSON object; anything else is a stray log line
    if (line.charCodeAt(0) !== 123 /* { */) return;
    const message = objectFromLine(line);
    if (message === undefined) return;
    switch (message.type) {
      case 'control_response':
        this.onControlResponse(objectFrom(message.response));
        return;
      case 'control_request':
        this.refuse(message);
        return;
      default: {
        const turn = this.turn;
        if (turn === undefined) return;
        if (message.type === 'system' && message.subtype === 'init') this.sessionId = stringFrom(message.session_id) ?? this.sessionId;
        if (turn.decoder.onMessage(message)) {
          this.turn = undefined;
          this.totalCostUsd = turn.decoder.totalCostUsd ?? this.totalCostUsd;
          this.sessionId = turn.decoder.sessionId ?? this.sessionId;
          this.state = 'idle';
          turn.onEnd();
        }
      }
    }
  }

  private onControlResponse(response: JsonObject | undefined): void {
    const id = stringFrom(response?.request_id);
    if (id === undefined) return;
    const waiter = this.control.get(id);
    if (waiter === undefined) return;
    this.control.delete(id);
    if (response!.subtype === 'success') waiter.resolve(objectFrom(response!.response) ?? {});
    else waiter.reject(new ControlError(textFrom(response!.error, 'refused')));
  }

  /** Claude Code asks the driver something (`can_use_tool`, a dialog): the answer is always no. */
  private refuse(message: JsonObject): void {
    const id = stringFrom(message.request_id);
    if (id === undefined) return;
    const request = objectFrom(message.request);
    const answer = request?.subtype === 'can_use_tool'
      ? { subtype: 'success', request_id: id, response: { behavior: 'deny', message: 'Denied: this Claude Code runs behind a gateway, where nobody approves tool use.' } }
      : { subtype: 'error', request_id: id, error: `not supported by this host: ${textFrom(request?.subtype, 'unknown request')}` };
    this.child.write(`${JSON.stringify({ type: 'control_response', response: answer })}\n`);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    this.state = 'closed';
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const stderr = redactText(this.child.stderrTail(), this.secrets);
    const how = error !== undefined ? `could not start: ${(error as { code?: string }).code ?? error.message}` : signal !== null ? `killed by ${signal}` : `exit code ${code}`;
    this.exitDetail = stderr.length > 0 ? `${how}; stderr: ${stderr.slice(-1000)}` : how;
    const gone = new ControlError(`the process ended (${this.exitDetail})`);
    for (const waiter of this.control.values()) waiter.reject(gone);
    this.control.clear();
    const turn = this.turn;
    this.turn = undefined;
    if (turn !== undefined) turn.onExit(this, error);
    this.onExitCallback(this, error);
  }
}
