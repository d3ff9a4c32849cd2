// OpenAI Responses SSE events → canonical stream parts. Output items become blocks: a message's
// text, a reasoning item (summary or raw reasoning text, its encrypted content as the signature,
// or a redacted block when it has no text), a function call with its argument deltas. The stream
// ends with response.completed / response.incomplete; response.failed and `error` become errors,
// and a stream that stops before any of them ends with an error part.
import type { PartSink } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { failedError, finishOf, hostedCallParts, isHostedCallItem, reasoningText, urlCitation, usageFrom } from './decode-response.ts';
import { StopMatcher } from './stop.ts';
import { SseStreamDecoder } from '../common/sse-stream-decoder.ts';
import { ContentBlocks } from '../common/content-blocks.ts';
import { finiteFrom, isObject, type JsonObject, listFrom, objectFrom, textFrom } from '../../util/json-value.ts';

export class ResponsesStreamDecoder extends SseStreamDecoder {
  protected readonly terminal = 'response.completed';
  private readonly stop: StopMatcher;
  private started = false;
  private readonly blocks = new ContentBlocks();
  /** The upstream output item the open (or pending) block belongs to. */
  private summaryIndex = -1;
  private emitted = false;
  private customInput = false;
  private calledTools = false;
  /** A stop sequence matched: the rest of the answer is not shown. */
  private stopped = false;

  constructor(request: CanonicalRequest) {
    super();
    this.stop = new StopMatcher(request.sampling.stop ?? []);
  }

  onEvent(_event: string, data: string): void {
    if (this.finished || data === '[DONE]') return;
    const sink = this.sink!;
    const event = this.eventObject(data);
    if (event === undefined) return;
    switch (event.type) {
      case 'response.created':
      case 'response.queued':
      case 'response.in_progress':
        if (!this.started) this.start(sink, event.response);
        return;
      case 'response.output_item.added':
        this.itemAdded(sink, isObject(event.item) ? event.item : {});
        return;
      case 'response.output_text.delta':
      case 'response.refusal.delta':
        if (typeof event.delta === 'string') this.text(sink, event.delta);
        return;
      case 'response.reasoning_summary_text.delta':
        if (typeof event.delta === 'string') this.reasoning(sink, event.delta, typeof event.summary_index === 'number' ? event.summary_index : 0);
        return;
      case 'response.reasoning_text.delta':
        if (typeof event.delta === 'string') this.reasoning(sink, event.delta, this.summaryIndex < 0 ? 0 : this.summaryIndex);
        return;
      case 'response.function_call_arguments.delta':
        if (typeof event.delta === 'string') this.toolDelta(sink, this.customInput ? JSON.stringify(event.delta).slice(1, -1) : event.delta);
        return;
      case 'response.custom_tool_call_input.delta':
        if (typeof event.delta === 'string') this.toolDelta(sink, JSON.stringify(event.delta).slice(1, -1));
        return;
      case 'response.output_item.done':
        this.itemDone(sink, isObject(event.item) ? event.item : {});
        return;
      case 'response.output_text.annotation.added':
        this.annotation(sink, event.annotation);
        return;
      case 'response.completed':
      case 'response.incomplete':
        this.complete(sink, isObject(event.response) ? event.response : {});
        return;
      case 'response.failed':
        this.fail(sink, failedError(event.response));
        return;
      case 'error':
        this.fail(sink, failedError({ error: event }));
        return;
      default:
        // part/summary boundaries, `.done` repeats, hosted-tool progress (the call comes whole with its item's done)
        return;
    }
  }

  private start(sink: PartSink, raw: unknown): void {
    this.started = true;
    const response = objectFrom(raw);
    sink.onPart({
      type: 'response-start',
      id: textFrom(response?.id, 'resp_switchyard'),
      model: textFrom(response?.model),
      created: finiteFrom(response?.created_at) ?? Math.floor(Date.now() / 1000),
    });
  }

  /** Content may come before any response.created (servers that skip it): the start goes first. */
  private ensureStarted(sink: PartSink): void {
    if (!this.started) this.start(sink, undefined);
  }

  private itemAdded(sink: PartSink, item: JsonObject): void {
    this.ensureStarted(sink);
    this.blocks.close(sink);
    this.emitted = false;
    this.summaryIndex = -1;
    if (this.stopped) return;
    if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      this.startTool(sink, item);
    }
  }

  private startTool(sink: PartSink, item: JsonObject): void {
    this.ensureStarted(sink);
    this.calledTools = true;
    this.customInput = item.type === 'custom_tool_call';
    const blocks = this.blocks;
    const index = blocks.startTool(sink, textFrom(item.call_id ?? item.id, `call_${blocks.nextIndex}`), textFrom(item.name));
    // a custom tool's raw input is carried as the one string argument `input`
    if (this.customInput) sink.onPart({ type: 'tool-call-delta', index, argumentsDelta: '{"input":"' });
  }

  private text(sink: PartSink, delta: string): void {
    if (this.stopped || delta.length === 0) return;
    const shown = this.stop.active ? this.stop.push(delta) : delta;
    if (shown.length > 0) {
      this.ensureStarted(sink);
      const index = this.blocks.ensure(sink, 'text');
      this.emitted = true;
      sink.onPart({ type: 'text-delta', index, delta: shown });
    }
    if (this.stop.matched !== undefined) {
      this.stopped = true;
      this.blocks.close(sink);
    }
  }

  private reasoning(sink: PartSink, delta: string, summaryIndex: number): void {
    if (this.stopped || delta.length === 0) return;
    this.ensureStarted(sink);
    const index = this.blocks.ensure(sink, 'reasoning');
    if (summaryIndex !== this.summaryIndex) {
      // summaries of one item are separate paragraphs of one thinking block
      if (this.emitted) sink.onPart({ type: 'reasoning-delta', index, delta: '\n\n' });
      this.summaryIndex = summaryIndex;
    }
    this.emitted = true;
    sink.onPart({ type: 'reasoning-delta', index, delta });
  }

  private toolDelta(sink: PartSink, delta: string): void {
    if (this.blocks.open !== 'tool' || delta.length === 0) return;
    this.emitted = true;
    sink.onPart({ type: 'tool-call-delta', index: this.blocks.index, argumentsDelta: delta });
  }

  /** A url_citation of the text being streamed. */
  private annotation(sink: PartSink, raw: unknown): void {
    if (this.stopped || this.blocks.open !== 'text') return;
    const citation = urlCitation(raw);
    if (citation !== undefined) sink.onPart({ type: 'text-citation', index: this.blocks.index, citation });
  }

  private itemDone(sink: PartSink, item: JsonObject): void {
    if (this.stopped) return;
    switch (item.type) {
      case 'message':
        if (this.blocks.open !== 'text' && !this.emitted) {
          // a server that sent the text only whole, at the end
          for (const entry of listFrom(item.content)) {
            const part = objectFrom(entry);
            this.text(sink, typeof part?.text === 'string' ? part.text : typeof part?.refusal === 'string' ? part.refusal : '');
            for (const annotation of listFrom(part?.annotations)) this.annotation(sink, annotation);
          }
        }
        if (this.blocks.open === 'text' && this.stop.active) {
          const rest = this.stop.flush();
          if (rest.length > 0) sink.onPart({ type: 'text-delta', index: this.blocks.index, delta: rest });
        }
        break;
      case 'reasoning':
        this.reasoningDone(sink, item);
        break;
      case 'function_call':
        if (this.blocks.open !== 'tool') this.startTool(sink, item);
        if (!this.emitted && typeof item.arguments === 'string') this.toolDelta(sink, item.arguments);
        break;
      case 'custom_tool_call':
        if (this.blocks.open !== 'tool') this.startTool(sink, item);
        if (!this.emitted && typeof item.input === 'string') this.toolDelta(sink, JSON.stringify(item.input).slice(1, -1));
        sink.onPart({ type: 'tool-call-delta', index: this.blocks.index, argumentsDelta: '"}' });
        break;
      default:
        // a hosted call (web_search_call, …) comes whole with its item's done: shown, nothing to run
        if (isHostedCallItem(item.type)) {
          this.ensureStarted(sink);
          for (const part of hostedCallParts(item, `ws_${this.blocks.nextIndex}`)) {
            if (part === undefined) continue;
            const index = this.blocks.whole(sink);
            sink.onPart(part.type === 'hosted-tool-call' ? { type: 'hosted-tool-call', index, call: part } : { type: 'hosted-tool-result', index, result: part });
          }
        }
        break;
    }
    this.blocks.close(sink);
  }

  private reasoningDone(sink: PartSink, item: JsonObject): void {
    const encrypted = typeof item.encrypted_content === 'string' && item.encrypted_content.length > 0 ? item.encrypted_content : undefined;
    if (this.blocks.open !== 'reasoning') {
      const text = reasoningText(item);
      if (text.length > 0) this.reasoning(sink, text, 0);
      else if (encrypted !== undefined) {
        this.ensureStarted(sink);
        this.blocks.startReasoning(sink, encrypted);
        return;
      } else return;
    }
    if (encrypted !== undefined) sink.onPart({ type: 'reasoning-signature', index: this.blocks.index, signature: encrypted });
  }

  private complete(sink: PartSink, response: JsonObject): void {
    if (!this.started) this.start(sink, response);
    this.blocks.close(sink);
    this.finished = true;
    const usage = usageFrom(response.usage);
    const { finish, raw } = finishOf(response.status ?? 'completed', response.incomplete_details, this.calledTools);
    if (this.stop.matched !== undefined) {
      sink.onPart({ type: 'response-end', finishReason: 'stop', rawFinishReason: 'stop_sequence', stopSequence: this.stop.matched, ...(usage !== undefined ? { usage } : {}) });
      return;
    }
    sink.onPart({ type: 'response-end', finishReason: finish, rawFinishReason: raw, ...(usage !== undefined ? { usage } : {}) });
  }
}
