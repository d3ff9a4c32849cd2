// Canonical stream parts → the OpenAI Responses event stream: response.created and
// response.in_progress first, then per output item its added / part / delta / done events, and
// response.completed (or response.incomplete) last, each with its sequence_number. The text of an
// open item is kept so its `.done` events and the final response can repeat it, as OpenAI does;
// nothing waits for it: every part is written as soon as it arrives.
import type { ItemStore, StreamEncoder } from '../../../canonical/adapters.ts';
import type { ErrorInfo } from '../../../canonical/errors.ts';
import type { CanonicalRequest, Citation, HostedToolCallPart } from '../../../canonical/request.ts';
import type { StreamPart } from '../../../canonical/stream.ts';
import type { Usage } from '../../../canonical/usage.ts';
import { openaiErrorObject } from '../encode-error.ts';
import type { ResponsesEcho, ToolCallShape } from './decode-request.ts';
import {
  itemStoreOf,
  callItem, callPrefix, customInput, echoOf, failureCode, failureMessage, hostedCallItem, itemId, messageItem, outputText, reasoningItem, responseIdFrom,
  responseObject, responsesUsage, statusOf, type ResponseFrame, urlCitation,
} from './encode-response.ts';
import type { JsonObject } from '../../../util/json-value.ts';

type OpenItem = 'none' | 'text' | 'reasoning' | 'call';

export class ResponsesStreamEncoder implements StreamEncoder {
  readonly contentType = 'text/event-stream';
  private readonly echo: ResponsesEcho | undefined;
  private readonly calls: ReadonlyMap<string, ToolCallShape> | undefined;
  private readonly requestedModel: string;
  private sequence = 0;
  private frame: ResponseFrame | undefined = undefined;
  /** Finished output items, for the final response object. */
  private readonly output: JsonObject[] = [];
  private usage: Usage | undefined = undefined;
  private open: OpenItem = 'none';
  private itemId = '';
  private outputIndex = -1;
  /** JSON fragment `"item_id":…,"output_index":…` shared by the open item's events. */
  private position = '';
  private text = '';
  private summaryOpen = false;
  private encrypted: string | undefined = undefined;
  private callId = '';
  private callName = '';
  private readonly items: ItemStore | undefined;
  /** How the open call goes back (absent: a plain function call); a custom tool's input or a search's arguments are sent whole at its end. */
  private callShape: ToolCallShape | undefined = undefined;
  /** The open message's url_citation annotations, and citations of the whole text (placed when it ends). */
  private annotations: JsonObject[] = [];
  private wholeCitations: Citation[] | undefined = undefined;

  constructor(request: CanonicalRequest) {
    this.items = itemStoreOf(request);
    this.echo = echoOf(request);
    this.calls = this.echo?.calls;
    this.requestedModel = request.model;
  }

  private event(type: string, fields: string): string {
    return `event: ${type}\ndata: {"type":"${type}","sequence_number":${this.sequence++}${fields.length > 0 ? ',' : ''}${fields}}\n\n`;
  }

  encode(part: StreamPart): string {
    switch (part.type) {
      case 'response-start': {
        this.frame = { id: responseIdFrom(part.id), model: part.model || this.requestedModel, createdAt: part.created };
        const response = JSON.stringify(responseObject(this.frame, this.echo, 'in_progress', [], null));
        return this.event('response.created', `"response":${response}`) + this.event('response.in_progress', `"response":${response}`);
      }
      case 'text-start':
        return this.close() + this.openText();
      case 'text-delta':
        if (part.delta.length === 0) return '';
        return (this.open === 'text' ? '' : this.close() + this.openText()) + this.textDelta(part.delta);
      case 'text-citation':
        if (this.open !== 'text') return '';
        if (part.citation.start === undefined || part.citation.end === undefined) {
          (this.wholeCitations ??= []).push(part.citation);
          return '';
        }
        return this.annotation(urlCitation(part.citation, 0, 0));
      case 'hosted-tool-call':
        return this.close() + this.hostedCall(part.call);
      case 'hosted-tool-result':
        return ''; // a Responses client sees what a search found in the text's url_citation annotations
      case 'text-end':
      case 'reasoning-end':
      case 'tool-call-end':
        return this.close();
      case 'reasoning-start':
        return this.close() + this.openReasoning(part.redactedData);
      case 'reasoning-delta':
        if (part.delta.length === 0) return '';
        return (this.open === 'reasoning' ? '' : this.close() + this.openReasoning(undefined)) + this.reasoningDelta(part.delta);
      case 'reasoning-signature':
        if (this.open === 'reasoning') this.encrypted = part.signature;
        return '';
      case 'tool-call-start':
        return this.close() + this.openCall(part.id, part.name);
      case 'tool-call-delta':
        if (this.open !== 'call' || part.argumentsDelta.length === 0) return '';
        this.text += part.argumentsDelta;
        // a custom tool's input is the string inside the arguments, a search's arguments an object: sent whole at the end
        if (this.callShape !== undefined && this.callShape.item !== 'function_call') return '';
        return this.event('response.function_call_arguments.delta', `${this.position},"delta":${JSON.stringify(part.argumentsDelta)}`);
      case 'usage':
        this.usage = { ...this.usage, ...part.usage };
        return '';
      case 'response-end': {
        const out = this.close();
        const usage = part.usage !== undefined ? { ...this.usage, ...part.usage } : this.usage;
        const { status, incomplete } = statusOf(part.finishReason);
        const response = responseObject(this.ensureFrame(), this.echo, status, this.output, responsesUsage(usage ?? { inputTokens: 0, outputTokens: 0 }), { incomplete });
        return out + this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', `"response":${JSON.stringify(response)}`);
      }
      case 'error':
        return this.encodeError(part.error);
    }
  }

  /** `error`, then `response.failed` (what the SDKs and Codex act on). */
  encodeError(error: ErrorInfo): string {
    const object = openaiErrorObject(error);
    const out = this.event('error', `"code":${JSON.stringify(object.code)},"message":${JSON.stringify(object.message)},"param":${JSON.stringify(object.param)}`);
    const response = responseObject(this.ensureFrame(), this.echo, 'failed', this.output, responsesUsage(this.usage), {
      error: { code: failureCode(error), message: failureMessage(error) },
    });
    return out + this.event('response.failed', `"response":${JSON.stringify(response)}`);
  }

  private ensureFrame(): ResponseFrame {
    this.frame ??= { id: responseIdFrom(''), model: this.requestedModel, createdAt: Math.floor(Date.now() / 1000) };
    return this.frame;
  }

  private begin(kind: OpenItem, prefix: string): void {
    const frame = this.ensureFrame();
    this.open = kind;
    this.outputIndex = this.output.length;
    this.itemId = itemId(prefix, frame.id, this.outputIndex);
    this.position = `"item_id":${JSON.stringify(this.itemId)},"output_index":${this.outputIndex}`;
    this.text = '';
  }

  private added(item: JsonObject): string {
    return this.event('response.output_item.added', `"output_index":${this.outputIndex},"item":${JSON.stringify(item)}`);
  }

  private done(item: JsonObject): string {
    this.output.push(item);
    this.items?.set(String(item.id), item);
    this.open = 'none';
    return this.event('response.output_item.done', `"output_index":${this.outputIndex},"item":${JSON.stringify(item)}`);
  }

  private annotation(annotation: JsonObject): string {
    const index = this.annotations.length;
    this.annotations.push(annotation);
    return this.event('response.output_text.annotation.added', `${this.position},"content_index":0,"annotation_index":${index},"annotation":${JSON.stringify(annotation)}`);
  }

  /** A hosted call, whole: its item added, the search's progress events, its item done. */
  private hostedCall(call: HostedToolCallPart): string {
    const frame = this.ensureFrame();
    const item = hostedCallItem(call, itemId('ws', frame.id, this.output.length));
    if (item === undefined) return '';
    this.outputIndex = this.output.length;
    const id = JSON.stringify(String(item.id));
    const where = `"output_index":${this.outputIndex},"item_id":${id}`;
    let out = this.added({ ...item, status: 'in_progress' });
    if (item.type === 'web_search_call') {
      out += this.event('response.web_search_call.in_progress', where) + this.event('response.web_search_call.searching', where) + this.event('response.web_search_call.completed', where);
    }
    return out + this.done(item);
  }

  private openText(): string {
    this.annotations = [];
    this.wholeCitations = undefined;
    this.begin('text', 'msg');
    return this.added(messageItem(this.itemId, 'in_progress', undefined))
      + this.event('response.content_part.added', `${this.position},"content_index":0,"part":${JSON.stringify(outputText(''))}`);
  }

  private textDelta(delta: string): string {
    this.text += delta;
    return this.event('response.output_text.delta', `${this.position},"content_index":0,"delta":${JSON.stringify(delta)},"logprobs":[]`);
  }

  private openReasoning(redacted: string | undefined): string {
    this.begin('reasoning', 'rs');
    this.summaryOpen = false;
    this.encrypted = redacted;
    return this.added(reasoningItem(this.itemId, undefined, redacted));
  }

  private reasoningDelta(delta: string): string {
    let out = '';
    if (!this.summaryOpen) {
      this.summaryOpen = true;
      out = this.event('response.reasoning_summary_part.added', `${this.position},"summary_index":0,"part":{"type":"summary_text","text":""}`);
    }
    this.text += delta;
    return out + this.event('response.reasoning_summary_text.delta', `${this.position},"summary_index":0,"delta":${JSON.stringify(delta)}`);
  }

  private openCall(id: string, name: string): string {
    const frame = this.ensureFrame();
    this.callShape = this.calls?.get(name);
    this.begin('call', callPrefix(this.callShape));
    this.callId = id;
    this.callName = name;
    return this.added(callItem(frame.id, this.outputIndex, id, name, '', 'in_progress', this.callShape));
  }

  /** Ends the open item with its `.done` events. */
  private close(): string {
    const text = this.text;
    switch (this.open) {
      case 'none':
        return '';
      case 'text': {
        let out = '';
        // citations of the whole text (Anthropic's) span it now that its length is known
        if (this.wholeCitations !== undefined) for (const citation of this.wholeCitations) out += this.annotation(urlCitation(citation, 0, text.length));
        const quoted = JSON.stringify(text);
        return out + this.event('response.output_text.done', `${this.position},"content_index":0,"text":${quoted},"logprobs":[]`)
          + this.event('response.content_part.done', `${this.position},"content_index":0,"part":${JSON.stringify(outputText(text, this.annotations))}`)
          + this.done(messageItem(this.itemId, 'completed', text, this.annotations));
      }
      case 'reasoning': {
        let out = '';
        if (this.summaryOpen) {
          out = this.event('response.reasoning_summary_text.done', `${this.position},"summary_index":0,"text":${JSON.stringify(text)}`)
            + this.event('response.reasoning_summary_part.done', `${this.position},"summary_index":0,"part":${JSON.stringify({ type: 'summary_text', text })}`);
        }
        return out + this.done(reasoningItem(this.itemId, text, this.encrypted));
      }
      case 'call': {
        const frame = this.ensureFrame();
        const shape = this.callShape;
        let out = '';
        if (shape?.item === 'custom_tool_call') {
          const input = JSON.stringify(customInput(text));
          out = this.event('response.custom_tool_call_input.delta', `${this.position},"delta":${input}`)
            + this.event('response.custom_tool_call_input.done', `${this.position},"input":${input}`);
        } else if (shape?.item !== 'tool_search_call') {
          out = this.event('response.function_call_arguments.done', `${this.position},"name":${JSON.stringify(shape?.name ?? this.callName)},"arguments":${JSON.stringify(text)}`);
        }
        return out + this.done(callItem(frame.id, this.outputIndex, this.callId, this.callName, text, 'completed', shape));
      }
    }
  }
}
