// One turn of Claude Code's stream-json output → canonical stream parts.
//
// With --include-partial-messages each API call of the turn streams as `stream_event` lines that
// carry Anthropic's own SSE events (message_start, content_block_*, message_delta, message_stop):
// text_delta → text, thinking_delta → reasoning. A turn may hold several API calls (the model
// asked for a tool, Claude Code answered, the model went on); each call's blocks get the next
// canonical indexes, and tool_use blocks are not the caller's to see (in `llm` mode they cannot
// run; in `agent` mode Claude Code runs them itself). The `assistant` lines repeat each block once
// it is complete: read only for a call that did not stream. The `result` line ends the turn: its
// `is_error` (not its subtype, which says "success" for an API error) decides between
// `response-end` with the turn's usage and an `error` part with the API status Claude Code
// reports; a `rate_limit_event` that says `rejected` makes that error a 429 with the window's
// reset as Retry-After.
import type { PartSink } from '../../canonical/adapters.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import type { FinishReason } from '../../canonical/response.ts';
import { countFrom, finiteFrom, isObject, listFrom, objectFrom, stringFrom, textFrom, type JsonObject } from '../../util/json-value.ts';
import type { AgentTurnReport } from '../driver.ts';
import { usageFrom } from '../../providers/anthropic/decode-response.ts';
import { apiStatusError, rateLimitedError, turnFailedError } from './errors.ts';

type OpenBlock = 'none' | 'text' | 'reasoning' | 'skipped';

/** API calls of one turn whose stream events were seen; more than this is a runaway agent loop, not worth tracking. */
const MAX_TRACKED_CALLS = 256;

// Claude Code reports Anthropic's own usage object: read by the Anthropic provider's mapping
export { usageFrom };

function finishReasonFrom(raw: string | undefined): FinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content-filter';
    default:
      // tool_use (a turn cut short by --max-turns ends as an error instead), pause_turn, newer ones
      return 'other';
  }
}

export class ClaudeTurnDecoder {
  /** The CLI's session id (from its `system/init` line or the result). */
  sessionId: string | undefined = undefined;
  /** The result came (or the turn failed): nothing more is emitted. */
  done = false;
  /** The turn ended with a good result (whether or not its parts still went out). */
  succeeded = false;
  /** A content part went out: the caller has seen the answer begin. */
  answered = false;
  /** The CLI's running total cost after this turn (`total_cost_usd` is per process, not per turn). */
  totalCostUsd: number | undefined = undefined;
  private readonly sink: PartSink;
  private readonly report: (report: AgentTurnReport) => void;
  private readonly provider: string;
  private readonly previousTotalCostUsd: number;
  /** The model asked for: response-start's model when the CLI has not named the one it used. */
  private readonly model: string;
  /** Parts stop going out (the client left), though the lines are still read to the result. */
  private silenced = false;
  private started = false;
  private open: OpenBlock = 'none';
  private index = -1;
  private nextIndex = 0;
  private stopReason: string | undefined = undefined;
  private readonly streamedCalls = new Set<string>();
  private rateLimit: { message: string; retryAfterSeconds: number | undefined } | undefined = undefined;

  constructor(sink: PartSink, report: (report: AgentTurnReport) => void, provider: string, model: string, previousTotalCostUsd = 0) {
    this.sink = sink;
    this.report = report;
    this.provider = provider;
    this.model = model;
    this.previousTotalCostUsd = previousTotalCostUsd;
  }

  /** The client left: the turn ends without another part. */
  silence(): void {
    this.silenced = true;
  }

  /** One line of the CLI's output, parsed. True when it ended the turn. */
  onMessage(message: JsonObject): boolean {
    if (this.done) return false;
    switch (message.type) {
      case 'stream_event':
        // a subagent's own stream (agent mode) is not the answer
        if (message.parent_tool_use_id === null || message.parent_tool_use_id === undefined) this.onEvent(objectFrom(message.event));
        return false;
      case 'assistant':
        this.onAssistant(message);
        return false;
      case 'rate_limit_event':
        this.onRateLimit(objectFrom(message.rate_limit_info));
        return false;
      case 'system':
        if (message.subtype === 'init') this.sessionId = stringFrom(message.session_id) ?? this.sessionId;
        return false;
      case 'result':
        this.onResult(message);
        return true;
      default:
        return false;
    }
  }

  /** Ends the turn with an error (the process ended, the driver closed); nothing after it. */
  fail(error: GatewayError): void {
    if (this.done) return;
    this.done = true;
    if (!this.silenced) this.sink.onPart({ type: 'error', error });
  }

  private emitStart(model: string | undefined, id: string | undefined): void {
    if (this.started) return;
    this.started = true;
    if (this.silenced) return;
    this.sink.onPart({ type: 'response-start', id: id ?? 'msg_claude_code', model: model !== undefined && model.length > 0 ? model : this.model, created: Math.floor(Date.now() / 1000) });
  }

  private onEvent(event: JsonObject | undefined): void {
    if (event === undefined) return;
    switch (event.type) {
      case 'message_start': {
        const message = objectFrom(event.message);
        const id = stringFrom(message?.id);
        if (id !== undefined && this.streamedCalls.size < MAX_TRACKED_CALLS) this.streamedCalls.add(id);
        this.emitStart(stringFrom(message?.model), id);
        return;
      }
      case 'content_block_start':
        this.closeBlock();
        this.blockStart(objectFrom(event.content_block) ?? {});
        return;
      case 'content_block_delta':
        this.blockDelta(objectFrom(event.delta) ?? {});
        return;
      case 'content_block_stop':
        this.closeBlock();
        return;
      case 'message_delta': {
        const stopReason = stringFrom(objectFrom(event.delta)?.stop_reason);
        if (stopReason !== undefined) this.stopReason = stopReason;
        return;
      }
      default:
        return; // message_stop, ping, newer event types
    }
  }

  private blockStart(block: JsonObject): void {
    switch (block.type) {
      case 'text': {
        this.openBlock('text');
        const text = stringFrom(block.text);
        if (text !== undefined && text.length > 0) this.emitDelta(text);
        return;
      }
      case 'thinking': {
        this.openBlock('reasoning');
        const thinking = stringFrom(block.thinking);
        if (thinking !== undefined && thinking.length > 0) this.emitDelta(thinking);
        return;
      }
      case 'redacted_thinking':
        this.openBlock('reasoning', textFrom(block.data));
        return;
      default:
        // tool_use, server tools: Claude Code's own business, not the caller's answer
        this.open = 'skipped';
    }
  }

  private blockDelta(delta: JsonObject): void {
    if (this.open === 'text') {
      if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text.length > 0) this.emitDelta(delta.text);
    } else if (this.open === 'reasoning') {
      if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string' && delta.thinking.length > 0) this.emitDelta(delta.thinking);
      else if (delta.type === 'signature_delta' && typeof delta.signature === 'string' && delta.signature.length > 0 && !this.silenced) {
        this.sink.onPart({ type: 'reasoning-signature', index: this.index, signature: delta.signature });
      }
    }
  }

  private openBlock(kind: 'text' | 'reasoning', redactedData?: string): void {
    this.emitStart(undefined, undefined);
    this.open = kind;
    this.index = this.nextIndex++;
    this.answered = true;
    if (this.silenced) return;
    if (kind === 'text') this.sink.onPart({ type: 'text-start', index: this.index });
    else this.sink.onPart(redactedData !== undefined && redactedData.length > 0 ? { type: 'reasoning-start', index: this.index, redactedData } : { type: 'reasoning-start', index: this.index });
  }

  private emitDelta(delta: string): void {
    if (this.silenced) return;
    if (this.open === 'text') this.sink.onPart({ type: 'text-delta', index: this.index, delta });
    else this.sink.onPart({ type: 'reasoning-delta', index: this.index, delta });
  }

  private closeBlock(): void {
    const open = this.open;
    this.open = 'none';
    if (this.silenced || (open !== 'text' && open !== 'reasoning')) return;
    this.sink.onPart(open === 'text' ? { type: 'text-end', index: this.index } : { type: 'reasoning-end', index: this.index });
  }

  /** A whole content block; its text is sent only when its API call did not stream (no partial messages). */
  private onAssistant(line: JsonObject): void {
    if (line.parent_tool_use_id !== null && line.parent_tool_use_id !== undefined) return;
    const message = objectFrom(line.message);
    if (message === undefined || message.model === '<synthetic>') return; // an error's text: the result says it
    const id = stringFrom(message.id);
    if (id !== undefined && this.streamedCalls.has(id)) return;
    this.emitStart(stringFrom(message.model), id);
    for (const block of listFrom(message.content)) {
      if (!isObject(block)) continue;
      const text = block.type === 'text' ? stringFrom(block.text) : block.type === 'thinking' ? stringFrom(block.thinking) : undefined;
      if (text === undefined || text.length === 0) continue;
      this.openBlock(block.type === 'text' ? 'text' : 'reasoning');
      this.emitDelta(text);
      this.closeBlock();
    }
  }

  private onRateLimit(info: JsonObject | undefined): void {
    if (info === undefined || info.status !== 'rejected') return;
    const resetsAt = finiteFrom(info.resetsAt);
    const window = stringFrom(info.rateLimitType);
    const until = resetsAt === undefined ? '' : ` until ${new Date(resetsAt * 1000).toISOString()}`;
    this.rateLimit = {
      message: `the subscription's ${window === undefined ? '' : `${window} `}usage limit is reached${until}`,
      retryAfterSeconds: resetsAt === undefined ? undefined : Math.max(0, Math.ceil(resetsAt - Date.now() / 1000)),
    };
  }

  private onResult(result: JsonObject): void {
    this.sessionId = stringFrom(result.session_id) ?? this.sessionId;
    this.totalCostUsd = finiteFrom(result.total_cost_usd);
    const cost = this.turnCost(result);
    this.report({ ...(cost !== undefined ? { reportedCostUsd: cost } : {}), ...(this.sessionId !== undefined ? { session: this.sessionId } : {}) });
    if (result.is_error === true) {
      this.fail(this.errorOf(result));
      return;
    }
    this.closeBlock();
    this.emitStart(undefined, stringFrom(result.uuid));
    this.done = true;
    this.succeeded = true;
    if (this.silenced) return;
    const stopReason = stringFrom(result.stop_reason) ?? this.stopReason;
    const usage = usageFrom(result.usage);
    this.sink.onPart({
      type: 'response-end', finishReason: finishReasonFrom(stopReason),
      ...(stopReason !== undefined ? { rawFinishReason: stopReason } : {}),
      ...(usage !== undefined ? { usage } : {}),
    });
  }

  /** This turn's cost: the per-turn model usage when the CLI gives it, else the growth of its running total. */
  private turnCost(result: JsonObject): number | undefined {
    const perModel = objectFrom(result.model_usage_since_last_result);
    if (perModel !== undefined) {
      let sum = 0;
      for (const usage of Object.values(perModel)) sum += finiteFrom(objectFrom(usage)?.costUSD) ?? 0;
      return sum;
    }
    const total = this.totalCostUsd;
    return total === undefined ? undefined : Math.max(0, total - this.previousTotalCostUsd);
  }

  private errorOf(result: JsonObject): GatewayError {
    const errors = listFrom(result.errors).filter((item): item is string => typeof item === 'string');
    const message = textFrom(result.result) || errors.join('; ') || textFrom(result.subtype, 'unknown error');
    const status = countFrom(result.api_error_status);
    if (this.rateLimit !== undefined) return rateLimitedError(this.provider, `${this.rateLimit.message} (${message})`, this.rateLimit.retryAfterSeconds);
    if (status !== undefined && status >= 400) return apiStatusError(this.provider, status, message, undefined);
    return turnFailedError(this.provider, `${textFrom(result.subtype, 'error')}: ${message}`);
  }
}
