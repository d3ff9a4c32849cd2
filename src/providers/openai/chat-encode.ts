// Canonical request → OpenAI Chat Completions request body.
import type { ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import type { CanonicalRequest, ContentPart, HostedTool, MediaSource, Message, PassThrough, TextPart } from '../../canonical/request.ts';
import type { JsonObject } from '../../util/json-value.ts';
import { encodeHostedTools, withUnsupported } from '../common/hosted-tools.ts';
import { withLoadedTools } from '../common/deferred-tools.ts';
import { ownPassThrough } from '../common/foreign-fields.ts';

/** The caller's own unmodelled fields (server-side ones too) when it speaks `dialect`, to merge into the body. */
export function rejectForeignFields(request: { passThrough?: PassThrough }, dialect: string, provider: string): JsonObject | undefined {
  const own = ownPassThrough(request.passThrough, dialect, provider);
  if (own === undefined) return undefined;
  return own.serverSide === undefined ? own.fields : { ...own.serverSide, ...own.fields };
}

function dataUrl(source: MediaSource): string {
  return source.kind === 'base64' ? `data:${source.mediaType};base64,${source.data}` : source.url;
}

function isText(part: ContentPart): part is TextPart {
  return part.type === 'text';
}

function contentParts(parts: readonly ContentPart[]): string | JsonObject[] {
  if (parts.every(isText)) return parts.map((part) => part.text).join('');
  const out: JsonObject[] = [];
  for (const part of parts) {
    switch (part.type) {
      case 'text': out.push({ type: 'text', text: part.text }); break;
      case 'image': out.push({ type: 'image_url', image_url: { url: dataUrl(part.source), ...(part.detail !== undefined ? { detail: part.detail } : {}) } }); break;
      case 'audio':
        if (part.source.kind !== 'base64') throw invalidRequest('Audio by URL cannot be sent to an OpenAI-compatible provider; send it inline (base64).');
        out.push({ type: 'input_audio', input_audio: { data: part.source.data, format: part.format ?? part.source.mediaType.replace(/^audio\//, '') } });
        break;
      case 'file': out.push({ type: 'file', file: { file_data: dataUrl(part.source), ...(part.filename !== undefined ? { filename: part.filename } : {}) } }); break;
      default: break;
    }
  }
  return out;
}

function toolResultText(content: string | ContentPart[], isError: boolean | undefined): string | JsonObject[] {
  // OpenAI has no error flag on tool results: the text carries it.
  const body = typeof content === 'string' ? content : contentParts(content);
  if (isError !== true) return body;
  return typeof body === 'string' ? `Error: ${body}` : [{ type: 'text', text: 'Error:' }, ...body];
}

function encodeMessages(messages: readonly Message[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        out.push({ role: 'system', content: contentParts(message.content) });
        break;
      case 'user':
        out.push({ role: 'user', content: contentParts(message.content), ...(message.name !== undefined ? { name: message.name } : {}) });
        break;
      case 'assistant': {
        const text = message.content.filter(isText).map((part) => part.text).join('');
        const calls = message.content.filter((part) => part.type === 'tool-call');
        const entry: JsonObject = { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null };
        if (calls.length > 0) entry.tool_calls = calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
        out.push(entry);
        break;
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type === 'tool-result') out.push({ role: 'tool', tool_call_id: part.toolCallId, content: toolResultText(part.content, part.isError) });
        }
        break;
    }
  }
  return out;
}

function effortFromBudget(budget: number): string {
  if (budget <= 2048) return 'low';
  if (budget <= 12_288) return 'medium';
  return 'high';
}

/**
 * A web search of another dialect → `web_search_options`, which Chat Completions honours only on
 * OpenAI's search models (`gpt-4o-search-preview`, `gpt-5-search-api`, …: a name with `search`);
 * it takes no domain lists. Any other chat model has no hosted web search.
 */
export function chatHostedTool(tool: HostedTool, _request: CanonicalRequest, model: string): JsonObject | undefined {
  if (tool.kind !== 'web-search' || !model.includes('search')) return undefined;
  if ((tool.allowedDomains?.length ?? 0) > 0 || (tool.blockedDomains?.length ?? 0) > 0) return undefined;
  const options: JsonObject = {};
  if (tool.searchContextSize !== undefined) options.search_context_size = tool.searchContextSize;
  if (tool.userLocation !== undefined) options.user_location = { type: 'approximate', approximate: tool.userLocation };
  return options;
}

export function encodeChatRequest(request: CanonicalRequest, model: string, options: ProviderContext): UpstreamRequest {
  request = withLoadedTools(request); // deferred tools: those the conversation has loaded
  const extra = rejectForeignFields(request, 'openai', options.name);
  const hosted = encodeHostedTools(request, model, 'openai', chatHostedTool);
  const body: JsonObject = { model, messages: encodeMessages(request.messages) };
  const sampling = request.sampling;
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.topP !== undefined) body.top_p = sampling.topP;
  // top_k is an extension most compatible servers take; OpenAI's own API refuses it, so it is dropped there
  if (sampling.topK !== undefined && options.preset !== 'openai' && options.preset !== 'azure-openai') body.top_k = sampling.topK;
  if (sampling.maxTokens !== undefined) {
    if (options.preset === 'openai' || options.preset === 'azure-openai') body.max_completion_tokens = sampling.maxTokens;
    else body.max_tokens = sampling.maxTokens;
  }
  if (sampling.stop !== undefined && sampling.stop.length > 0) body.stop = sampling.stop;
  if (sampling.seed !== undefined) body.seed = sampling.seed;
  if (sampling.presencePenalty !== undefined) body.presence_penalty = sampling.presencePenalty;
  if (sampling.frequencyPenalty !== undefined) body.frequency_penalty = sampling.frequencyPenalty;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), parameters: tool.parameters, ...(tool.strict !== undefined ? { strict: tool.strict } : {}) },
    }));
  }
  const choice = request.toolChoice;
  if (choice !== undefined) body.tool_choice = choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
  if (request.parallelToolCalls !== undefined && request.tools !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  const format = request.responseFormat;
  if (format !== undefined) {
    if (format.type === 'json') body.response_format = { type: 'json_object' };
    else if (format.type === 'json-schema') {
      body.response_format = { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, ...(format.strict !== undefined ? { strict: format.strict } : {}), ...(format.description !== undefined ? { description: format.description } : {}) } };
    } else body.response_format = { type: 'text' };
  }
  const reasoning = request.reasoning;
  if (reasoning !== undefined) {
    if (reasoning.effort !== undefined) body.reasoning_effort = reasoning.effort;
    else if (reasoning.budgetTokens !== undefined) body.reasoning_effort = effortFromBudget(reasoning.budgetTokens);
  }
  if (request.metadata?.user !== undefined) body.user = request.metadata.user;
  if (request.stream) {
    body.stream = true;
    // usage is what the gateway reports and bills; ask for it even if the client did not
    body.stream_options = { include_usage: true };
  }
  if (hosted !== undefined && hosted.tools.length > 0) body.web_search_options = hosted.tools[0];
  if (extra !== undefined) for (const [key, value] of Object.entries(extra)) if (!(key in body)) body[key] = value;
  return withUnsupported({ path: '/chat/completions', headers: ['accept', request.stream ? 'text/event-stream' : 'application/json'], body: JSON.stringify(body) }, hosted);
}
