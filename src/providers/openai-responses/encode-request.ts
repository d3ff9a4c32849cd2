// Canonical request → OpenAI Responses request body, so clients of every dialect can use models
// served only through /v1/responses (codex models, …). The gateway is stateless: `store: false`,
// and encrypted reasoning is always asked for, so thinking can be sent back on the next turn.
import type { ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import type { CanonicalRequest, ContentPart, HostedTool, MediaSource, Message, ReasoningEffort } from '../../canonical/request.ts';
import { type JsonObject, listFrom, objectFrom } from '../../util/json-value.ts';
import { encodeHostedTools, withUnsupported } from '../common/hosted-tools.ts';
import { withLoadedTools } from '../common/deferred-tools.ts';
import { ownPassThrough } from '../common/foreign-fields.ts';

export const DIALECT = 'openai-responses';

/**
 * Fields another surface did not model are refused, named (its inert ones are dropped); fields of
 * this dialect go through, inert ones included.
 */
function foreignFields(request: CanonicalRequest, provider: string): JsonObject | undefined {
  const own = ownPassThrough(request.passThrough, DIALECT, provider);
  return own === undefined ? undefined : { ...own.inert, ...own.serverSide, ...own.fields };
}

function dataUrl(source: MediaSource): string {
  return source.kind === 'base64' ? `data:${source.mediaType};base64,${source.data}` : source.url;
}

function inputContent(parts: readonly ContentPart[], role: 'user' | 'system'): JsonObject[] {
  const out: JsonObject[] = [];
  for (const part of parts) {
    switch (part.type) {
      case 'text':
        out.push({ type: 'input_text', text: part.text });
        break;
      case 'image':
        out.push({ type: 'input_image', image_url: dataUrl(part.source), detail: part.detail ?? 'auto' });
        break;
      case 'file':
        if (part.source.kind === 'url') out.push({ type: 'input_file', file_url: part.source.url, ...(part.filename !== undefined ? { filename: part.filename } : {}) });
        else out.push({ type: 'input_file', file_data: dataUrl(part.source), filename: part.filename ?? 'file' });
        break;
      case 'audio':
        if (part.source.kind !== 'base64') throw invalidRequest('Audio by URL cannot be sent to a Responses provider; send it inline (base64).', 'messages');
        out.push({ type: 'input_audio', input_audio: { data: part.source.data, format: part.format ?? part.source.mediaType.replace(/^audio\//, '') } });
        break;
      default:
        if (role === 'system') break;
        throw invalidRequest(`A ${part.type} part cannot appear in a ${role} message for a Responses provider.`, 'messages');
    }
  }
  return out;
}

function toolOutput(content: string | ContentPart[], isError: boolean | undefined): string | JsonObject[] {
  // the Responses API has no error flag on tool results: the text carries it
  if (typeof content === 'string') return isError === true ? `Error: ${content}` : content;
  const parts = inputContent(content, 'user');
  return isError === true ? [{ type: 'input_text', text: 'Error:' }, ...parts] : parts;
}

/** A reasoning item can be sent back only with the encrypted content the provider signed it with. */
function reasoningItem(part: Extract<ContentPart, { type: 'reasoning' }>): JsonObject | undefined {
  const encrypted = part.redactedData ?? part.signature;
  if (encrypted === undefined) return undefined;
  return { type: 'reasoning', summary: part.text.length > 0 ? [{ type: 'summary_text', text: part.text }] : [], encrypted_content: encrypted };
}

/** The first message, when it is a system prompt, becomes `instructions`; other system messages stay in place as developer messages. */
function encodeInput(messages: readonly Message[]): { instructions: string | undefined; input: JsonObject[] } {
  const input: JsonObject[] = [];
  let instructions: string | undefined;
  for (const message of messages) {
    switch (message.role) {
      case 'system': {
        const text = message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
        if (message === messages[0]) instructions = text;
        else input.push({ type: 'message', role: 'developer', content: [{ type: 'input_text', text }] });
        break;
      }
      case 'user':
        input.push({ type: 'message', role: 'user', content: inputContent(message.content, 'user') });
        break;
      case 'assistant': {
        let text = '';
        const flush = () => {
          if (text.length === 0) return;
          input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] });
          text = '';
        };
        for (const part of message.content) {
          if (part.type === 'text') text += part.text;
          else if (part.type === 'reasoning') {
            flush();
            const item = reasoningItem(part);
            if (item !== undefined) input.push(item);
          } else if (part.type === 'tool-call') {
            flush();
            input.push({ type: 'function_call', call_id: part.id, name: part.name, arguments: part.arguments });
          } else if ((part.type === 'hosted-tool-call' || part.type === 'hosted-tool-result') && part.dialect === DIALECT && part.raw !== undefined) {
            // a hosted call OpenAI ran (web_search_call, a server tool search and its output) goes back as it was; another provider's ran elsewhere
            flush();
            input.push(part.raw);
          }
        }
        flush();
        break;
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type === 'tool-result') input.push({ type: 'function_call_output', call_id: part.toolCallId, output: toolOutput(part.content, part.isError) });
        }
        break;
    }
  }
  return { instructions, input };
}

/**
 * A web search of another dialect → Responses' `web_search` tool. It has an allow-list of domains
 * but no block-list: a search that must avoid domains has no equivalent here.
 */
export function responsesHostedTool(tool: HostedTool): JsonObject | undefined {
  if (tool.kind !== 'web-search' || (tool.blockedDomains !== undefined && tool.blockedDomains.length > 0)) return undefined;
  const out: JsonObject = { type: 'web_search' };
  if (tool.allowedDomains !== undefined && tool.allowedDomains.length > 0) out.filters = { allowed_domains: tool.allowedDomains };
  if (tool.userLocation !== undefined) out.user_location = { type: 'approximate', ...tool.userLocation };
  if (tool.searchContextSize !== undefined) out.search_context_size = tool.searchContextSize;
  return out;
}

/**
 * A web search of another dialect's caller was mapped: its sources are asked for, so that caller
 * sees what was found (Anthropic's web_search_tool_result, Gemini's grounding chunks).
 */
function mapsWebSearch(request: CanonicalRequest): boolean {
  const hosted = request.hostedTools;
  if (hosted === undefined) return false;
  for (const tool of hosted) if (tool.dialect !== DIALECT && tool.cachedOnly !== true && responsesHostedTool(tool) !== undefined) return true;
  return false;
}

/** Budget → effort for thinking suffixes and Anthropic/Gemini budgets (docs/translation/openai-responses.md). */
export function effortFromBudget(budget: number): ReasoningEffort {
  if (budget <= 0) return 'minimal';
  if (budget <= 2048) return 'low';
  if (budget <= 12_288) return 'medium';
  return 'high';
}

/**
 * What the Responses API has no field for: refused, named, rather than silently dropped — except
 * top_k, a sampling refinement clients such as Gemini CLI send on every request, which is dropped
 * (documented in docs/translation/openai-responses.md).
 */
function refuseUnsupported(request: CanonicalRequest): void {
  const sampling = request.sampling;
  const unsupported: [unknown, string][] = [
    [sampling.seed, 'seed'], [sampling.presencePenalty, 'presence_penalty'], [sampling.frequencyPenalty, 'frequency_penalty'],
  ];
  for (const [value, name] of unsupported) {
    if (value !== undefined) throw invalidRequest(`'${name}' cannot be sent to a Responses API provider, which has no such setting; remove it.`, name);
  }
}

export function encodeResponsesRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest {
  request = withLoadedTools(request); // deferred tools: those the conversation has loaded
  const extra = foreignFields(request, provider.name);
  refuseUnsupported(request);
  const hosted = encodeHostedTools(request, model, DIALECT, responsesHostedTool);
  const { instructions, input } = encodeInput(request.messages);
  const body: JsonObject = { model };
  if (instructions !== undefined) body.instructions = instructions;
  body.input = input;
  const sampling = request.sampling;
  if (sampling.maxTokens !== undefined) body.max_output_tokens = sampling.maxTokens;
  if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
  if (sampling.topP !== undefined) body.top_p = sampling.topP;
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      name: tool.name,
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      parameters: tool.parameters,
      // Responses makes function tools strict unless told otherwise; other dialects' schemas are not
      strict: tool.strict ?? false,
    }));
  }
  if (hosted !== undefined && hosted.tools.length > 0) body.tools = [...listFrom(body.tools), ...hosted.tools];
  const choice = request.toolChoice;
  if (choice !== undefined) body.tool_choice = choice.type === 'tool' ? { type: 'function', name: choice.name } : choice.type;
  if (request.parallelToolCalls !== undefined && request.tools !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  const format = request.responseFormat;
  if (format !== undefined) {
    if (format.type === 'json') body.text = { format: { type: 'json_object' } };
    else if (format.type === 'json-schema') {
      body.text = {
        format: {
          type: 'json_schema', name: format.name, schema: format.schema,
          ...(format.strict !== undefined ? { strict: format.strict } : {}),
          ...(format.description !== undefined ? { description: format.description } : {}),
        },
      };
    } else body.text = { format: { type: 'text' } };
  }
  const reasoning = request.reasoning;
  if (reasoning !== undefined) {
    const effort = reasoning.effort ?? (reasoning.budgetTokens !== undefined ? effortFromBudget(reasoning.budgetTokens) : undefined);
    const settings: JsonObject = {};
    if (effort !== undefined) settings.effort = effort;
    if (reasoning.includeThoughts !== false) settings.summary = 'auto';
    if (Object.keys(settings).length > 0) body.reasoning = settings;
  }
  if (request.metadata?.user !== undefined) body.safety_identifier = request.metadata.user;
  if (request.metadata?.sessionId !== undefined) body.prompt_cache_key = request.metadata.sessionId;
  body.store = false;
  body.include = mapsWebSearch(request) ? ['reasoning.encrypted_content', 'web_search_call.action.sources'] : ['reasoning.encrypted_content'];
  if (request.stream) body.stream = true;
  if (extra !== undefined) mergeFields(body, extra);
  return withUnsupported({ path: '/responses', headers: ['accept', request.stream ? 'text/event-stream' : 'application/json'], body: JSON.stringify(body) }, hosted);
}

/**
 * Fields of a Responses client: hosted tools join the tool list, a hosted tool choice replaces
 * the translated one, `include` entries are added, verbosity joins `text`; the rest are set when
 * absent (`store` stays false: the gateway never refers to stored responses).
 */
function mergeFields(body: JsonObject, extra: JsonObject): void {
  for (const [key, value] of Object.entries(extra)) {
    if (key.startsWith('tools.') && Array.isArray(value)) {
      body.tools = [...listFrom(body.tools), ...value];
    } else if (key === 'tool_choice') {
      body.tool_choice = value;
    } else if (key === 'include' && Array.isArray(value)) {
      body.include = [...new Set([...listFrom(body.include), ...value])];
    } else if (key === 'text.verbosity') {
      body.text = { ...objectFrom(body.text), verbosity: value };
    } else if (!(key in body)) {
      body[key] = value;
    }
  }
}
