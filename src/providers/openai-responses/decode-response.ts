// OpenAI Responses `response` object → canonical response.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import type { CanonicalRequest, Citation, HostedToolCallPart, HostedToolResultPart } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, finiteFrom, isObject, type JsonObject, listFrom, objectFrom, textFrom } from '../../util/json-value.ts';
import { cutAtStop } from './stop.ts';
import { protocolError } from '../common/protocol-error.ts';

export function usageFrom(raw: unknown): Usage | undefined {
  if (!isObject(raw)) return undefined;
  const usage: Usage = { inputTokens: countFrom(raw.input_tokens) ?? 0, outputTokens: countFrom(raw.output_tokens) ?? 0 };
  const cached = countFrom(objectFrom(raw.input_tokens_details)?.cached_tokens);
  if (cached !== undefined && cached > 0) usage.cachedInputTokens = cached;
  const reasoning = countFrom(objectFrom(raw.output_tokens_details)?.reasoning_tokens);
  if (reasoning !== undefined && reasoning > 0) usage.reasoningTokens = reasoning;
  return usage;
}

/** The readable text of a reasoning item: its raw reasoning text when given, else its summaries. */
export function reasoningText(item: JsonObject): string {
  if (Array.isArray(item.content) && item.content.length > 0) return item.content.map(partText).join('');
  if (!Array.isArray(item.summary)) return '';
  return item.summary.map(partText).filter((text: string) => text.length > 0).join('\n\n');
}

function partText(part: unknown): string {
  const text = objectFrom(part)?.text;
  return typeof text === 'string' ? text : '';
}

/** Reasoning with its encrypted content: the signature of its text, or a redacted block when there is no text. */
export function reasoningPart(item: JsonObject): ResponsePart | undefined {
  const text = reasoningText(item);
  const encrypted = typeof item.encrypted_content === 'string' && item.encrypted_content.length > 0 ? item.encrypted_content : undefined;
  if (text.length === 0) return encrypted === undefined ? undefined : { type: 'reasoning', text: '', redactedData: encrypted };
  return { type: 'reasoning', text, ...(encrypted !== undefined ? { signature: encrypted } : {}) };
}

const DIALECT = 'openai-responses';

/** An output item of a tool OpenAI ran itself (`web_search_call`, `code_interpreter_call`, …), not one for the caller to run. */
export function isHostedCallItem(type: unknown): type is string {
  return typeof type === 'string' && type.endsWith('_call') && type !== 'function_call' && type !== 'custom_tool_call';
}

/**
 * A hosted call item → a hosted call (kept verbatim for a Responses caller), and for a web search
 * its result: the `sources` when the request asked for them.
 */
export function hostedCallParts(item: JsonObject, fallbackId: string): [HostedToolCallPart, HostedToolResultPart?] {
  const type = textFrom(item.type);
  const id = textFrom(item.id, fallbackId);
  const action = objectFrom(item.action);
  const input: JsonObject = {};
  if (typeof action?.query === 'string') input.query = action.query;
  else if (typeof action?.url === 'string') input.url = action.url;
  const kind = type === 'web_search_call' ? 'web-search' : type === 'code_interpreter_call' ? 'code-execution' : 'other';
  const call: HostedToolCallPart = { type: 'hosted-tool-call', id, kind, name: type.slice(0, -'_call'.length), input, raw: item, dialect: DIALECT };
  if (kind !== 'web-search') return [call];
  // a search always has its result, empty when the sources were not asked for
  const results = [];
  for (const entry of listFrom(action?.sources)) {
    const source = objectFrom(entry);
    if (typeof source?.url === 'string') results.push({ url: source.url, ...(typeof source.title === 'string' ? { title: source.title } : {}) });
  }
  return [call, { type: 'hosted-tool-result', callId: id, kind, results }];
}

/** An `output_text` annotation of type `url_citation` → a canonical citation; others (file citations) have no equivalent. */
export function urlCitation(raw: unknown): Citation | undefined {
  const annotation = objectFrom(raw);
  if (annotation?.type !== 'url_citation' || typeof annotation.url !== 'string') return undefined;
  const citation: Citation = { url: annotation.url, raw: annotation, dialect: DIALECT };
  if (typeof annotation.title === 'string') citation.title = annotation.title;
  const start = countFrom(annotation.start_index);
  const end = countFrom(annotation.end_index);
  if (start !== undefined && end !== undefined && end >= start) {
    citation.start = start;
    citation.end = end;
  }
  return citation;
}

function urlCitations(raw: unknown): Citation[] | undefined {
  let out: Citation[] | undefined;
  for (const entry of listFrom(raw)) {
    const citation = urlCitation(entry);
    if (citation !== undefined) (out ??= []).push(citation);
  }
  return out;
}

/** A custom tool's raw input, as the arguments of the one-string-argument function other dialects see. */
export function customArguments(input: unknown): string {
  return JSON.stringify({ input: typeof input === 'string' ? input : '' });
}

/** The canonical finish reason of a finished response. */
export function finishOf(status: unknown, incomplete: unknown, calledTools: boolean): { finish: FinishReason; raw: string } {
  if (status === 'incomplete') {
    const reason = textFrom(objectFrom(incomplete)?.reason, 'incomplete');
    return { finish: reason === 'max_output_tokens' ? 'length' : reason === 'content_filter' ? 'content-filter' : 'other', raw: reason };
  }
  return { finish: calledTools ? 'tool-calls' : 'stop', raw: textFrom(status, 'completed') };
}

/** A response that failed upstream after a 200 (or a `response.failed` event) → a gateway error. */
export function failedError(response: unknown): GatewayError {
  const error = objectFrom(objectFrom(response)?.error);
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const message = typeof error?.message === 'string' ? error.message : 'the response failed';
  if (code === 'rate_limit_exceeded') {
    return new GatewayError(ErrorCode.upstreamStatus, `The provider failed: ${message}`, { status: 429, origin: 'upstream', errorClass: 'rate-limited' });
  }
  if (code === 'context_length_exceeded') {
    return new GatewayError(ErrorCode.contextLength, `The provider failed: ${message}`, { status: 400, origin: 'upstream', errorClass: 'context-length' });
  }
  if (code !== undefined && code !== 'server_error' && code !== 'vector_store_timeout') {
    return new GatewayError(ErrorCode.upstreamStatus, `The provider failed: ${message}`, { status: 400, origin: 'upstream', errorClass: 'client-error' });
  }
  return new GatewayError(ErrorCode.upstreamStatus, `The provider failed: ${message}`, { status: 502, origin: 'upstream', errorClass: 'server-error' });
}

export function decodeResponsesResponse(body: unknown, request?: CanonicalRequest): CanonicalResponse {
  if (!isObject(body) || !Array.isArray(body.output)) throw protocolError('the response has no output array');
  if (body.status === 'failed') throw failedError(body);
  const content: ResponsePart[] = [];
  let calledTools = false;
  for (const entry of body.output) {
    const item = objectFrom(entry);
    if (item === undefined) continue;
    switch (item.type) {
      case 'reasoning': {
        const part = reasoningPart(item);
        if (part !== undefined) content.push(part);
        break;
      }
      case 'message':
        for (const entry of listFrom(item.content)) {
          const part = objectFrom(entry);
          if (part?.type === 'output_text' && typeof part.text === 'string' && part.text.length > 0) {
            const citations = urlCitations(part.annotations);
            content.push(citations === undefined ? { type: 'text', text: part.text } : { type: 'text', text: part.text, citations });
          }
          else if (part?.type === 'refusal' && typeof part.refusal === 'string' && part.refusal.length > 0) content.push({ type: 'text', text: part.refusal });
        }
        break;
      case 'function_call':
        calledTools = true;
        content.push({ type: 'tool-call', id: textFrom(item.call_id ?? item.id), name: textFrom(item.name), arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}) });
        break;
      case 'custom_tool_call':
        calledTools = true;
        content.push({ type: 'tool-call', id: textFrom(item.call_id ?? item.id), name: textFrom(item.name), arguments: customArguments(item.input) });
        break;
      default:
        // hosted tool calls (web_search_call, …) ran upstream: shown to the caller, nothing to run
        if (isHostedCallItem(item.type)) {
          for (const part of hostedCallParts(item, `ws_${content.length}`)) if (part !== undefined) content.push(part);
        }
        break;
    }
  }
  const { finish, raw: rawFinish } = finishOf(body.status, body.incomplete_details, calledTools);
  const response: CanonicalResponse = {
    id: textFrom(body.id, 'resp_switchyard'),
    model: textFrom(body.model),
    created: finiteFrom(body.created_at) ?? Math.floor(Date.now() / 1000),
    content,
    finishReason: finish,
    rawFinishReason: rawFinish,
    usage: usageFrom(body.usage) ?? { inputTokens: 0, outputTokens: 0 },
  };
  const stops = request?.sampling.stop;
  if (stops !== undefined && stops.length > 0) applyStop(response, stops);
  return response;
}

/** The gateway's stop sequences: text after the first match, and anything after it, is cut. */
function applyStop(response: CanonicalResponse, stops: readonly string[]): void {
  for (let i = 0; i < response.content.length; i++) {
    const part = response.content[i]!;
    if (part.type !== 'text') continue;
    const cut = cutAtStop(part.text, stops);
    if (cut.stop === undefined) continue;
    response.content = response.content.slice(0, i);
    if (cut.text.length > 0) response.content.push({ type: 'text', text: cut.text });
    response.finishReason = 'stop';
    response.rawFinishReason = 'stop_sequence';
    response.stopSequence = cut.stop;
    return;
  }
}
