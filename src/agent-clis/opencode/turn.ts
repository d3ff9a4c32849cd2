// One turn on an opencode session: the session's events (filtered by the server) become canonical
// stream parts. Text and reasoning parts of the assistant's messages stream as
// `message.part.delta`; a part's `message.part.updated` carries its whole text so far, which fills
// in anything not streamed; `step-finish` parts carry tokens and cost; `session.idle` ends the
// turn, `session.error` and retry notices fail it.
import type { PartSink } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { FinishReason } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, finiteFrom, objectFrom, stringFrom, textFrom, type JsonObject } from '../../util/json-value.ts';
import type { AgentCliMode, AgentTurnReport } from '../driver.ts';
import { permissionRefused, retryNotice, sessionError, toolRefused } from './errors.ts';
import type { OpencodeServer, SessionListener } from './server.ts';

/** After an abort, the session is watched this long for the busy state an early abort missed. */
const DRAIN_MS = 30_000;
/**
 * Until the session is idle again the abort is sent again, first after this long, then at double
 * the wait up to ABORT_REPEAT_MAX_MS: opencode ignores an abort that reaches it before the prompt
 * has registered what to cancel (seen on a loaded machine: the model call began 0.6 s after it).
 */
const ABORT_REPEAT_MS = 100;
const ABORT_REPEAT_MAX_MS = 1000;

/** How a turn ended, for the driver's bookkeeping of sessions. */
export type TurnOutcome = 'answered' | 'failed' | 'aborted';

class PartState {
  readonly kind: 'text' | 'reasoning';
  /** Characters of the part's text already sent. */
  sent = 0;

  constructor(kind: 'text' | 'reasoning') {
    this.kind = kind;
  }
}

const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop', length: 'length', 'content-filter': 'content-filter', error: 'error', other: 'other', unknown: 'other',
};

export interface TurnOptions {
  provider: string;
  mode: AgentCliMode;
  model: string;
  session: string;
  /** `?directory=…` for a session in a working directory of its own (agent mode), else ''. */
  query: string;
  server: OpencodeServer;
  sink: PartSink;
  report: (report: AgentTurnReport) => void;
  /** Called once when the turn is over for the caller (answered, failed or aborted). */
  onOutcome(turn: OpencodeTurn, outcome: TurnOutcome): void;
  /** Called once when the session is quiet again (or given up on): the driver may reuse or delete it. */
  onSettled(turn: OpencodeTurn): void;
}

export class OpencodeTurn implements SessionListener {
  readonly session: string;
  private readonly options: TurnOptions;
  private readonly sink: PartSink;
  /** The assistant messages of this turn (a tool loop would make several). */
  private readonly assistantMessages = new Set<string>();
  private readonly parts = new Map<string, PartState>();
  private open: PartState | undefined = undefined;
  private openIndex = 0;
  private nextIndex = 0;
  private started = false;
  /** The caller has its answer (or error); events after this are only watched for the session's state. */
  private over = false;
  private settled = false;
  /** The gateway aborted the session (the caller left, a deadline, a retry notice, a tool call in llm mode). */
  private aborting = false;
  private drainTimer: NodeJS.Timeout | undefined = undefined;
  private repeatTimer: NodeJS.Timeout | undefined = undefined;
  /** The prompt went to opencode (`prompt_async`), and the session was seen busy with it. */
  private promptSent = false;
  private seenBusy = false;
  private hasContent = false;
  private steps = 0;
  private inputTokens = 0;
  private outputTokens = 0;
  private reasoningTokens = 0;
  private cacheRead = 0;
  private cacheWrite = 0;
  private cost = 0;
  private lastReason: string | undefined = undefined;
  /** The tool the model asked for in `llm` mode (nothing ran: opencode offers none). */
  private toolAsked: string | undefined = undefined;
  /** What opencode asked to be allowed and was refused (`agent` mode). */
  private refused: string | undefined = undefined;

  constructor(options: TurnOptions) {
    this.options = options;
    this.session = options.session;
    this.sink = options.sink;
  }

  get finished(): boolean {
    return this.over;
  }

  // --- from the driver ------------------------------------------------------------------------

  /** The caller left or a deadline passed: no part is sent any more, opencode is told to stop. */
  abort(): void {
    if (this.over) return;
    this.over = true;
    this.stopSession();
    this.options.onOutcome(this, 'aborted');
  }

  /** The driver is closing: the turn fails with `error`, and opencode is told to stop. */
  end(error: ErrorInfo): void {
    this.fail(error, true);
  }

  /** The driver is about to send the prompt: from now on opencode may start it, even after an abort. */
  promptSending(): void {
    this.promptSent = true;
  }

  /** The turn could not start (session or prompt refused): its error, and nothing is running. */
  failBeforeStart(error: ErrorInfo): void {
    if (this.over) return;
    this.over = true;
    this.sink.onPart({ type: 'error', error });
    this.options.onOutcome(this, 'failed');
    this.settle();
  }

  // --- session events ---------------------------------------------------------------------------

  onEvent(type: string, properties: JsonObject): void {
    switch (type) {
      case 'message.part.delta':
        if (!this.over) this.delta(properties);
        return;
      case 'message.part.updated':
        if (!this.over) this.partUpdated(objectFrom(properties.part));
        return;
      case 'message.updated': {
        const info = objectFrom(properties.info);
        if (info !== undefined && info.role === 'assistant') {
          const id = stringFrom(info.id);
          if (id !== undefined && !this.assistantMessages.has(id)) {
            this.assistantMessages.add(id);
            // a model call begun after the abort (the abort reached opencode before the prompt
            // had anything to cancel, or between two steps): stopped again
            if (this.aborting) this.sendAbort();
          }
        }
        return;
      }
      case 'session.status': {
        const status = objectFrom(properties.status);
        const state = textFrom(status?.type);
        if (state === 'busy') this.seenBusy = true;
        if (state === 'idle') this.idle();
        else if (state === 'retry' && !this.over) this.fail(retryNotice(this.options.provider, status, Date.now()), true);
        // an abort sent before the prompt started running missed it: send it again
        else if (state === 'busy' && this.aborting) this.sendAbort();
        return;
      }
      case 'session.idle':
        this.idle();
        return;
      case 'session.error': {
        if (this.over) return;
        const error = sessionError(this.options.provider, properties.error, this.aborting);
        if (error !== undefined) this.fail(error, false);
        return;
      }
      case 'permission.asked':
      case 'question.asked':
        // nothing is ever approved on the caller's behalf: `llm` mode asks for nothing (every
        // permission is denied), and in `agent` mode a question only the CLI's user could answer is refused
        if (type === 'permission.asked') this.refused ??= textFrom(properties.permission, 'a tool');
        this.refuseRequest(type, stringFrom(properties.id));
        return;
      default:
        return;
    }
  }

  onServerLost(error: ErrorInfo): void {
    if (!this.over) this.fail(error, false);
    this.settle();
  }

  // --- content --------------------------------------------------------------------------------

  private partUpdated(part: JsonObject | undefined): void {
    if (part === undefined) return;
    const message = stringFrom(part.messageID);
    if (message === undefined || !this.assistantMessages.has(message)) return;
    const id = stringFrom(part.id);
    if (id === undefined) return;
    switch (part.type) {
      case 'text':
      case 'reasoning': {
        if (part.synthetic === true || part.ignored === true) return;
        let state = this.parts.get(id);
        if (state === undefined) {
          state = new PartState(part.type);
          this.parts.set(id, state);
        }
        // the whole text so far: whatever the deltas did not bring (a provider that does not stream)
        const text = stringFrom(part.text);
        if (text !== undefined && text.length > state.sent) this.emit(state, text.slice(state.sent));
        return;
      }
      case 'tool':
        if (this.options.mode === 'llm') this.toolCalled(textFrom(part.tool, 'unknown'));
        return;
      case 'step-finish':
        this.stepFinished(part);
        return;
      default:
        return;
    }
  }

  private delta(properties: JsonObject): void {
    const message = stringFrom(properties.messageID);
    if (message === undefined || !this.assistantMessages.has(message)) return;
    const state = this.parts.get(textFrom(properties.partID));
    // a part announced by no update yet: its update (with the whole text) will bring it
    if (state === undefined || properties.field !== 'text') return;
    const delta = stringFrom(properties.delta);
    if (delta !== undefined && delta !== '') this.emit(state, delta);
  }

  private emit(state: PartState, delta: string): void {
    const sink = this.sink;
    this.ensureStarted();
    if (this.open !== state) {
      this.closeBlock();
      this.open = state;
      this.openIndex = this.nextIndex++;
      sink.onPart(state.kind === 'text' ? { type: 'text-start', index: this.openIndex } : { type: 'reasoning-start', index: this.openIndex });
    }
    state.sent += delta.length;
    this.hasContent = true;
    sink.onPart(state.kind === 'text' ? { type: 'text-delta', index: this.openIndex, delta } : { type: 'reasoning-delta', index: this.openIndex, delta });
  }

  private closeBlock(): void {
    const open = this.open;
    if (open === undefined) return;
    this.open = undefined;
    this.sink.onPart(open.kind === 'text' ? { type: 'text-end', index: this.openIndex } : { type: 'reasoning-end', index: this.openIndex });
  }

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    this.sink.onPart({ type: 'response-start', id: `opencode-${this.session}`, model: this.options.model, created: Math.floor(Date.now() / 1000) });
  }

  private stepFinished(part: JsonObject): void {
    this.steps++;
    this.lastReason = stringFrom(part.reason) ?? this.lastReason;
    const cost = finiteFrom(part.cost);
    if (cost !== undefined && cost > 0) this.cost += cost;
    const tokens = objectFrom(part.tokens);
    if (tokens === undefined) return;
    // opencode's `input` leaves out the cached tokens, its `output` the reasoning ones
    const cache = objectFrom(tokens.cache);
    this.inputTokens += countFrom(tokens.input) ?? 0;
    this.outputTokens += countFrom(tokens.output) ?? 0;
    this.reasoningTokens += countFrom(tokens.reasoning) ?? 0;
    this.cacheRead += countFrom(cache?.read) ?? 0;
    this.cacheWrite += countFrom(cache?.write) ?? 0;
  }

  /**
   * In `llm` mode opencode offers the model no tool, so a tool call runs nothing (opencode answers
   * it with an error), but it would loop, calling the model again: the turn ends here.
   */
  private toolCalled(tool: string): void {
    if (this.toolAsked !== undefined) return;
    this.toolAsked = tool;
    this.stopSession();
    if (!this.hasContent) this.fail(toolRefused(this.options.provider, tool), false);
    else this.finish();
  }

  // --- the end ------------------------------------------------------------------------------------

  private usage(): Usage | undefined {
    if (this.steps === 0) return undefined;
    return {
      inputTokens: this.inputTokens + this.cacheRead + this.cacheWrite,
      outputTokens: this.outputTokens + this.reasoningTokens,
      ...(this.cacheRead > 0 ? { cachedInputTokens: this.cacheRead } : {}),
      ...(this.cacheWrite > 0 ? { cacheWriteInputTokens: this.cacheWrite } : {}),
      ...(this.reasoningTokens > 0 ? { reasoningTokens: this.reasoningTokens } : {}),
    };
  }

  private idle(): void {
    // an abort that reached opencode before the prompt started sets the session idle, and the
    // prompt starts after it: the turn is quiet only once the session has been busy and idle again
    // (the abort is repeated meanwhile; DRAIN_MS at most)
    if (this.aborting && this.promptSent && !this.seenBusy) return;
    if (!this.over) {
      if (this.refused !== undefined && !this.hasContent) {
        this.fail(permissionRefused(this.options.provider, this.refused), false);
      } else if (this.steps === 0 && !this.hasContent) {
        this.fail(sessionError(this.options.provider, { name: 'UnknownError', data: { message: 'opencode went idle without an answer' } }, false)!, false);
      } else {
        this.finish();
      }
    }
    this.settle();
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.closeBlock();
    this.ensureStarted();
    const usage = this.usage();
    const raw = this.toolAsked !== undefined ? 'tool-calls' : this.lastReason;
    const finishReason: FinishReason = this.toolAsked !== undefined ? 'stop' : FINISH_REASONS[raw ?? 'stop'] ?? 'other';
    this.options.report({ session: this.session, ...(this.cost > 0 ? { reportedCostUsd: this.cost } : {}) });
    this.sink.onPart({
      type: 'response-end', finishReason,
      ...(raw !== undefined ? { rawFinishReason: raw } : {}),
      ...(usage !== undefined ? { usage } : {}),
    });
    this.options.onOutcome(this, 'answered');
  }

  /** The turn fails; `stop` also tells opencode to stop (it would retry, or loop, on its own). */
  private fail(error: ErrorInfo, stop: boolean): void {
    if (this.over) return;
    this.over = true;
    if (stop) this.stopSession();
    this.options.report({ session: this.session, ...(this.cost > 0 ? { reportedCostUsd: this.cost } : {}) });
    this.sink.onPart({ type: 'error', error });
    this.options.onOutcome(this, 'failed');
  }

  private stopSession(): void {
    if (this.aborting) return;
    this.aborting = true;
    this.sendAbort();
    this.drainTimer = setTimeout(() => this.settle(), DRAIN_MS);
    this.drainTimer.unref();
    this.repeatAbort(ABORT_REPEAT_MS);
  }

  private repeatAbort(wait: number): void {
    this.repeatTimer = setTimeout(() => {
      this.repeatTimer = undefined;
      if (this.settled) return;
      this.sendAbort();
      this.repeatAbort(Math.min(wait * 2, ABORT_REPEAT_MAX_MS));
    }, wait);
    this.repeatTimer.unref();
  }

  private sendAbort(): void {
    if (this.settled || this.options.server.closed) return;
    this.options.server.call('POST', `/session/${this.session}/abort${this.options.query}`).catch(() => {});
  }

  private refuseRequest(type: string, id: string | undefined): void {
    if (id === undefined) return;
    // a request belongs to the session's directory (its opencode instance)
    const path = `${type === 'permission.asked' ? `/permission/${id}/reply` : `/question/${id}/reject`}${this.options.query}`;
    this.options.server.call('POST', path, type === 'permission.asked' ? { reply: 'reject' } : {}).catch(() => {});
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    if (this.repeatTimer !== undefined) clearTimeout(this.repeatTimer);
    this.options.server.unsubscribe(this.session, this);
    this.options.onSettled(this);
  }

  /** For the driver: whether opencode may still be working on the session (an abort not yet confirmed). */
  get quiet(): boolean {
    return this.settled;
  }
}

