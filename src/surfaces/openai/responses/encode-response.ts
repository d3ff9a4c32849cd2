// Canonical response → an OpenAI Responses `response` object, and the pieces the stream encoder
// shares with it: ids, output items, usage, status, the echoed request fields.
import type { ErrorInfo } from '../../../canonical/errors.ts';
import { ErrorCode } from '../../../canonical/errors.ts';
import type { CanonicalRequest, Citation, HostedToolCallPart } from '../../../canonical/request.ts';
import type { CanonicalResponse, FinishReason } from '../../../canonical/response.ts';
import type { Usage } from '../../../canonical/usage.ts';
import type { ItemStore } from '../../../canonical/adapters.ts';
import { CUSTOM_TOOL_ARGUMENT, ITEM_STORE, RESPONSES_ECHO, type ResponsesEcho, type ToolCallShape } from './decode-request.ts';
import { type JsonObject, objectFrom } from '../../../util/json-value.ts';

/** Where answer items are kept so a later `item_reference` to them can be resolved. */
export function itemStoreOf(request: CanonicalRequest): ItemStore | undefined {
  return request.surfaceHints?.[ITEM_STORE] as ItemStore | undefined;
}

export function echoOf(request: CanonicalRequest): ResponsesEcho | undefined {
  return request.surfaceHints?.[RESPONSES_ECHO] as ResponsesEcho | undefined;
}

/** `resp_…`: the upstream's id when it is one already, else derived from it. */
export function responseIdFrom(id: string): string {
  if (id.startsWith('resp_')) return id;
  const cleaned = id.replace(/[^A-Za-z0-9]/g, '');
  return `resp_${cleaned.length > 0 ? cleaned : Date.now().toString(36)}`;
}

/** Item ids unique within the response: `msg_<response>_<n>`, `rs_…`, `fc_…`, `ctc_…`. */
export function itemId(prefix: string, responseId: string, index: number): string {
  return `${prefix}_${responseId.slice(5)}_${index}`;
}

export function responsesUsage(usage: Usage | undefined): JsonObject | null {
  if (usage === undefined) return null;
  return {
    input_tokens: usage.inputTokens,
    input_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    output_tokens: usage.outputTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
    total_tokens: usage.inputTokens + usage.outputTokens,
  };
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** The final status and why, from the canonical finish reason. */
export function statusOf(finish: FinishReason): { status: ResponseStatus; incomplete: JsonObject | null } {
  if (finish === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (finish === 'content-filter') return { status: 'incomplete', incomplete: { reason: 'content_filter' } };
  return { status: 'completed', incomplete: null };
}

/** `error.code` in a failed response, in the vocabulary clients (Codex) act on. */
export function failureCode(error: ErrorInfo): string {
  if (error.code === ErrorCode.contextLength) return 'context_length_exceeded';
  if (error.status === 429) return 'rate_limit_exceeded';
  if (error.status === 400 || error.status === 422) return 'invalid_prompt';
  return 'server_error';
}

export function failureMessage(error: ErrorInfo): string {
  // Codex reads the delay of a rate-limited response from this phrase
  if (error.status === 429 && error.retryAfterSeconds !== undefined) return `${error.message} Please try again in ${Math.ceil(error.retryAfterSeconds)}s.`;
  return error.message;
}

export interface ResponseFrame {
  id: string;
  model: string;
  createdAt: number;
}

/** The response object, with the request's fields echoed as OpenAI does. */
export function responseObject(frame: ResponseFrame, echo: ResponsesEcho | undefined, status: ResponseStatus, output: JsonObject[], usage: JsonObject | null, extra: { incomplete?: JsonObject | null; error?: JsonObject | null } = {}): JsonObject {
  const done = status !== 'in_progress';
  return {
    id: frame.id,
    object: 'response',
    created_at: frame.createdAt,
    status,
    background: false,
    completed_at: status === 'completed' ? Math.floor(Date.now() / 1000) : null,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete ?? null,
    instructions: echo?.instructions ?? null,
    max_output_tokens: echo?.maxOutputTokens ?? null,
    max_tool_calls: null,
    model: frame.model,
    output,
    parallel_tool_calls: echo?.parallelToolCalls ?? true,
    previous_response_id: null,
    prompt_cache_key: echo?.promptCacheKey ?? null,
    reasoning: echo?.reasoning ?? { effort: null, summary: null },
    safety_identifier: echo?.safetyIdentifier ?? null,
    service_tier: echo?.serviceTier ?? 'default',
    store: echo?.store ?? true,
    temperature: echo?.temperature ?? 1,
    text: echo?.text ?? { format: { type: 'text' } },
    tool_choice: echo?.toolChoice ?? 'auto',
    tools: echo?.tools ?? [],
    top_logprobs: 0,
    top_p: echo?.topP ?? 1,
    truncation: echo?.truncation ?? 'disabled',
    usage: done ? usage : null,
    user: echo?.user ?? null,
    metadata: echo?.metadata ?? {},
  };
}

export function outputText(text: string, annotations: JsonObject[] = []): JsonObject {
  return { type: 'output_text', annotations, logprobs: [], text };
}

export function messageItem(id: string, status: string, text: string | undefined, annotations?: JsonObject[]): JsonObject {
  return { id, type: 'message', status, content: text === undefined ? [] : [outputText(text, annotations)], role: 'assistant' };
}

/**
 * A citation as a `url_citation` annotation over the message text; `base` is where the cited text
 * part starts in it, `length` the part's length (the span of a citation without offsets).
 */
export function urlCitation(citation: Citation, base: number, length: number): JsonObject {
  const start = base + (citation.start ?? 0);
  const end = base + (citation.end ?? length);
  return { type: 'url_citation', start_index: start, end_index: end, url: citation.url, title: citation.title ?? citation.url };
}

/**
 * A hosted call as an output item: OpenAI's own verbatim; another provider's web search as a
 * `web_search_call` (what Codex shows); other kinds have no item a Responses client knows.
 */
export function hostedCallItem(call: HostedToolCallPart, id: string): JsonObject | undefined {
  if (call.dialect === 'openai-responses' && call.raw !== undefined) return call.raw;
  if (call.kind !== 'web-search') return undefined;
  const action: JsonObject = { type: 'search', query: typeof call.input.query === 'string' ? call.input.query : '' };
  if (Array.isArray(call.input.queries)) action.queries = call.input.queries;
  return { id: call.id.startsWith('ws_') ? call.id : id, type: 'web_search_call', status: 'completed', action };
}

export function reasoningItem(id: string, text: string | undefined, encrypted: string | undefined): JsonObject {
  const item: JsonObject = { id, type: 'reasoning', summary: text === undefined || text.length === 0 ? [] : [{ type: 'summary_text', text }] };
  if (encrypted !== undefined) item.encrypted_content = encrypted;
  return item;
}

/** The id prefix of a call's output item. */
export function callPrefix(shape: ToolCallShape | undefined): string {
  return shape?.item === 'custom_tool_call' ? 'ctc' : shape?.item === 'tool_search_call' ? 'tsc' : 'fc';
}

/**
 * The model's call of `name` as the client declared the tool (`shape`): a function call (naming
 * its namespace), a custom tool's call with its raw input, or a client tool search's call.
 */
export function callItem(responseId: string, index: number, callId: string, name: string, args: string, status: string, shape: ToolCallShape | undefined): JsonObject {
  const id = itemId(callPrefix(shape), responseId, index);
  const namespace = shape?.namespace !== undefined ? { namespace: shape.namespace } : {};
  switch (shape?.item) {
    case 'custom_tool_call':
      return { id, type: 'custom_tool_call', status, call_id: callId, ...namespace, name: shape.name, input: customInput(args) };
    case 'tool_search_call':
      return { id, type: 'tool_search_call', status, call_id: callId, execution: 'client', arguments: searchArguments(args) };
    default:
      return { id, type: 'function_call', status, arguments: args, call_id: callId, name: shape?.name ?? name, ...namespace };
  }
}

/** A tool search's arguments, an object (`{query, limit}`), from the arguments the model wrote. */
function searchArguments(args: string): JsonObject {
  try {
    return objectFrom(JSON.parse(args)) ?? {};
  } catch {
    return {}; // none yet (the item just added), or not JSON
  }
}

/** The raw input of a custom tool, from the one-string-argument function the model called. */
export function customInput(args: string): string {
  try {
    const input = objectFrom(JSON.parse(args))?.[CUSTOM_TOOL_ARGUMENT];
    if (typeof input === 'string') return input;
  } catch {
    // not JSON: the model wrote the input itself
  }
  return args;
}

export function encodeResponsesResponse(response: CanonicalResponse, request: CanonicalRequest): string {
  const echo = echoOf(request);
  const calls = echo?.calls;
  const frame: ResponseFrame = { id: responseIdFrom(response.id), model: response.model || request.model, createdAt: response.created };
  const output: JsonObject[] = [];
  let pendingText: string | undefined;
  let annotations: JsonObject[] = [];
  const flushText = () => {
    if (pendingText === undefined) return;
    output.push(messageItem(itemId('msg', frame.id, output.length), 'completed', pendingText, annotations));
    pendingText = undefined;
    annotations = [];
  };
  for (const part of response.content) {
    switch (part.type) {
      case 'text': {
        const base = pendingText?.length ?? 0;
        if (part.citations !== undefined) for (const citation of part.citations) annotations.push(urlCitation(citation, base, part.text.length));
        pendingText = (pendingText ?? '') + part.text;
        break;
      }
      case 'hosted-tool-call': {
        const item = hostedCallItem(part, itemId('ws', frame.id, output.length + (pendingText === undefined ? 0 : 1)));
        if (item === undefined) break;
        flushText();
        output.push(item);
        break;
      }
      case 'hosted-tool-result':
        break; // a Responses client sees what a search found in the text's url_citation annotations
      case 'reasoning':
        flushText();
        output.push(reasoningItem(itemId('rs', frame.id, output.length), part.text, part.redactedData ?? part.signature));
        break;
      case 'tool-call':
        flushText();
        output.push(callItem(frame.id, output.length, part.id, part.name, part.arguments, 'completed', calls?.get(part.name)));
        break;
    }
  }
  flushText();
  const { status, incomplete } = statusOf(response.finishReason);
  const store = itemStoreOf(request);
  if (store !== undefined) for (const item of output) store.set(String(item.id), item);
  return JSON.stringify(responseObject(frame, echo, status, output, responsesUsage(response.usage), { incomplete }));
}
