// One turn's answer, from Codex's notifications to canonical stream parts: agent-message deltas
// become text blocks, reasoning deltas reasoning blocks (one block per Codex item, in order), the
// usage of each model request the turn made is added up (`thread/tokenUsage/updated.last`: `total`
// is the thread's running sum), and `turn/completed` ends the stream — `response-end`, or an
// `error` part for a failed turn. `response-start` goes out with the first content, so a turn that
// fails before it answers is an error part alone and the gateway can still answer with a status.
import type { PartSink } from '../../canonical/adapters.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import type { Usage } from '../../canonical/usage.ts';
import type { AgentTurn, AgentTurnReport } from '../driver.ts';
import { countFrom, objectFrom, stringFrom } from '../../util/json-value.ts';

const NO_BLOCK = 0;
const TEXT_BLOCK = 1;
const REASONING_BLOCK = 2;

let nextResponse = 0;

export class CodexTurn {
  readonly turn: AgentTurn;
  private readonly sink: PartSink;
  readonly report: (report: AgentTurnReport) => void;
  /** The thread it runs on, once started or resumed. */
  threadId: string | undefined = undefined;
  /** Codex's turn id, from `turn/start` or the first notification that names it. */
  turnId: string | undefined = undefined;
  /** The thread's previous turn, whose late notifications are not this turn's. */
  staleTurnId: string | undefined = undefined;
  /** No part may follow: the stream ended, failed, or the caller left. */
  ended = false;
  /** The caller left (the signal): the turn ends without a part. */
  aborted = false;
  /** It ended with an error part. */
  failed = false;
  /** The thread was made for this turn alone (ephemeral), not kept for the conversation. */
  oneOff = false;
  private started = false;
  private blockKind = NO_BLOCK;
  private blockItem = '';
  private blockIndex = -1;
  /** The agent messages whose text went out. */
  private readonly textItems: string[] = [];
  private usage: Usage | undefined = undefined;
  /** The last `error` notification that said Codex would not retry, for a failed turn without an error of its own. */
  lastError: unknown = undefined;

  constructor(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void) {
    this.turn = turn;
    this.sink = sink;
    this.report = report;
  }

  /** Whether parts may still go out. */
  get live(): boolean {
    return !this.ended && !this.aborted;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.sink.onPart({ type: 'response-start', id: `codex-${Date.now().toString(36)}-${(nextResponse++).toString(36)}`, model: this.turn.model, created: Math.floor(Date.now() / 1000) });
  }

  private closeBlock(): void {
    if (this.blockKind === TEXT_BLOCK) this.sink.onPart({ type: 'text-end', index: this.blockIndex });
    else if (this.blockKind === REASONING_BLOCK) this.sink.onPart({ type: 'reasoning-end', index: this.blockIndex });
    this.blockKind = NO_BLOCK;
  }

  private openBlock(kind: number, item: string): void {
    if (this.blockKind === kind && this.blockItem === item) return;
    this.start();
    this.closeBlock();
    this.blockKind = kind;
    this.blockItem = item;
    this.blockIndex++;
    this.sink.onPart(kind === TEXT_BLOCK ? { type: 'text-start', index: this.blockIndex } : { type: 'reasoning-start', index: this.blockIndex });
  }

  /** `item/agentMessage/delta` */
  text(item: string, delta: string): void {
    if (!this.live || delta.length === 0) return;
    if (this.blockKind !== TEXT_BLOCK || this.blockItem !== item) this.textItems.push(item);
    this.openBlock(TEXT_BLOCK, item);
    this.sink.onPart({ type: 'text-delta', index: this.blockIndex, delta });
  }

  /** `item/completed` of an agent message: its text, when no delta carried it. */
  completedMessage(item: string, text: string): void {
    if (!this.textItems.includes(item)) this.text(item, text);
  }

  /** `item/reasoning/summaryTextDelta` and `item/reasoning/textDelta` */
  reasoning(item: string, delta: string): void {
    if (!this.live || delta.length === 0) return;
    this.openBlock(REASONING_BLOCK, item);
    this.sink.onPart({ type: 'reasoning-delta', index: this.blockIndex, delta });
  }

  /** `item/reasoning/summaryPartAdded`: a new paragraph of the same summary. */
  reasoningBreak(item: string): void {
    if (this.live && this.blockKind === REASONING_BLOCK && this.blockItem === item) this.sink.onPart({ type: 'reasoning-delta', index: this.blockIndex, delta: '\n\n' });
  }

  /** `thread/tokenUsage/updated`: `last` is one model request's usage; a turn may make several. */
  addUsage(last: unknown): void {
    const breakdown = objectFrom(last);
    if (breakdown === undefined || !this.live) return;
    const usage = this.usage ?? { inputTokens: 0, outputTokens: 0 };
    usage.inputTokens += countFrom(breakdown.inputTokens) ?? 0;
    usage.outputTokens += countFrom(breakdown.outputTokens) ?? 0;
    const cached = countFrom(breakdown.cachedInputTokens);
    if (cached !== undefined) usage.cachedInputTokens = (usage.cachedInputTokens ?? 0) + cached;
    const written = countFrom(breakdown.cacheWriteInputTokens);
    if (written !== undefined) usage.cacheWriteInputTokens = (usage.cacheWriteInputTokens ?? 0) + written;
    const reasoning = countFrom(breakdown.reasoningOutputTokens);
    if (reasoning !== undefined) usage.reasoningTokens = (usage.reasoningTokens ?? 0) + reasoning;
    this.usage = usage;
  }

  /** The turn completed: its answer ends. */
  finish(): void {
    if (!this.live) return;
    this.start();
    this.closeBlock();
    this.ended = true;
    if (this.threadId !== undefined && !this.oneOff) this.report({ session: this.threadId });
    this.sink.onPart(this.usage === undefined ? { type: 'response-end', finishReason: 'stop' } : { type: 'response-end', finishReason: 'stop', usage: this.usage });
  }

  /** The turn failed: an error part (alone, when nothing was answered yet). */
  fail(error: GatewayError): void {
    if (!this.live) return;
    this.ended = true;
    this.failed = true;
    if (this.started) this.closeBlock();
    this.sink.onPart({ type: 'error', error });
  }

  /** Whether a notification about `turnId` belongs to this turn (adopting the id when not known yet). */
  owns(turnId: unknown): boolean {
    const id = stringFrom(turnId);
    if (id === undefined) return true;
    if (this.turnId === undefined) {
      if (id === this.staleTurnId) return false;
      this.turnId = id;
      return true;
    }
    return this.turnId === id;
  }
}
