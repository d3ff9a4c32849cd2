// OpenAI Responses request → canonical request, for providers that do not speak Responses.
// The gateway is stateless: whatever refers to state kept by OpenAI (previous_response_id,
// conversation, stored prompts, file ids, item references) is refused with a 400 naming it.
import type { SurfaceRequest } from '../../../canonical/adapters.ts';
import type { CanonicalRequest, ResponseFormat, ToolChoice } from '../../../canonical/request.ts';
import { isEffort, num, schemaOf } from '../fields.ts';
import { decodeItem, History } from './decode-input.ts';
import { DecodedTools, flatName, hostedKind, str, type ToolCallShape } from './decode-tools.ts';
import { type JsonObject, listFrom, objectFrom, shown, textFrom } from '../../../util/json-value.ts';
import { invalidRequest } from '../../../canonical/errors.ts';
import { requestObject } from '../inspect.ts';

export { CUSTOM_TOOL_ARGUMENT, type ToolCallShape } from './decode-tools.ts';

/** The hint key under `surfaceHints` with the gateway's item store, where answer items are kept. */
export const ITEM_STORE = 'responsesItemStore';

/** The hint key under `surfaceHints` with what the encoders echo back (see responses-encode.ts). */
export const RESPONSES_ECHO = 'responses';

/** The request fields a response object repeats, and how calls of the tools that are not plain functions go back. */
export interface ResponsesEcho {
  instructions: unknown;
  tools: unknown[];
  toolChoice: unknown;
  parallelToolCalls: boolean;
  temperature: number | null;
  topP: number | null;
  maxOutputTokens: number | null;
  reasoning: { effort: unknown; summary: unknown };
  text: unknown;
  truncation: unknown;
  store: unknown;
  metadata: unknown;
  user: unknown;
  promptCacheKey: unknown;
  safetyIdentifier: unknown;
  serviceTier: unknown;
  /**
   * By the name the provider sees: custom tools (carried as one-string-argument functions,
   * answered as custom_tool_call), a client tool search (answered as tool_search_call) and tools in
   * a namespace (their calls name it).
   */
  calls: ReadonlyMap<string, ToolCallShape>;
}

/** Fields mapped into the canonical request (or refused there). */
const MODELLED = new Set([
  'model', 'input', 'instructions', 'tools', 'tool_choice', 'parallel_tool_calls', 'text', 'reasoning', 'max_output_tokens',
  'temperature', 'top_p', 'stream', 'user', 'safety_identifier', 'prompt_cache_key', 'previous_response_id', 'conversation',
  'prompt', 'background',
]);
/**
 * Fields with no effect on what the model generates (docs/translation/openai-responses.md):
 * storage, bookkeeping, which extra outputs to include (encrypted reasoning is always returned
 * when the provider signs its thinking), the stream's obfuscation padding. Carried as `inert`:
 * a Responses provider gets them, any other drops them.
 */
const INERT = new Set(['store', 'metadata', 'client_metadata', 'include', 'truncation', 'service_tier', 'stream_options', 'prompt_cache_retention']);

function decodeTools(raw: unknown): DecodedTools {
  const decoded = new DecodedTools();
  if (raw === undefined || raw === null) return decoded;
  if (!Array.isArray(raw)) throw invalidRequest("Invalid 'tools': expected an array.", 'tools');
  raw.forEach((entry: unknown, i) => decoded.add(entry, `tools[${i}]`));
  return decoded;
}

/** The name a tool choice names, as the provider sees it. */
function chosenName(entry: JsonObject): string | undefined {
  if ((entry.type !== 'function' && entry.type !== 'custom') || typeof entry.name !== 'string') return undefined;
  return flatName(typeof entry.namespace === 'string' ? entry.namespace : undefined, entry.name);
}

function decodeToolChoice(raw: unknown, tools: DecodedTools, extra: JsonObject, serverSide: JsonObject): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto' || raw === 'none' || raw === 'required') return { type: raw };
  const choice = objectFrom(raw) ?? {};
  const chosen = chosenName(choice);
  if (chosen !== undefined) return { type: 'tool', name: chosen };
  if (choice.type === 'allowed_tools') {
    const names = new Set<string>();
    for (const item of listFrom(choice.tools)) {
      const name = chosenName(objectFrom(item) ?? {});
      if (name !== undefined) names.add(name);
      else {
        extra.tool_choice = raw;
        return undefined;
      }
    }
    // the nearest equivalent: offer only the allowed tools, with the same mode
    tools.keep(names);
    return { type: choice.mode === 'required' ? 'required' : 'auto' };
  }
  if (typeof choice.type === 'string') {
    // a hosted tool (web_search, file_search, mcp, …): only a Responses provider can honour it;
    // for another, the unsupported_tools policy decides (the tool itself may still be mapped)
    if (hostedKind(choice.type) !== undefined) serverSide.tool_choice = raw;
    else extra.tool_choice = raw;
    return undefined;
  }
  throw invalidRequest("Invalid 'tool_choice'.", 'tool_choice');
}

function decodeFormat(text: unknown): ResponseFormat | undefined {
  if (text === undefined || text === null) return undefined;
  if (typeof text !== 'object') throw invalidRequest("Invalid 'text': expected an object.", 'text');
  const given = objectFrom(text)?.format;
  if (given === undefined || given === null) return undefined;
  const format = objectFrom(given);
  switch (format?.type) {
    case 'text': return { type: 'text' };
    case 'json_object': return { type: 'json' };
    case 'json_schema':
      return {
        type: 'json-schema',
        name: str(format?.name, 'text.format.name'),
        schema: schemaOf(format.schema, 'text.format.schema', {}),
        ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
        ...(typeof format.description === 'string' ? { description: format.description } : {}),
      };
    default:
      throw invalidRequest(`Invalid 'text.format.type': '${shown(format?.type)}'.`, 'text.format.type');
  }
}

function refuseState(body: JsonObject): void {
  if (body.previous_response_id !== undefined && body.previous_response_id !== null) {
    throw invalidRequest("'previous_response_id' cannot be used with this model: its provider is not a Responses API, and the gateway keeps no conversation state. Send the whole conversation in 'input' (with store: false).", 'previous_response_id');
  }
  if (body.conversation !== undefined && body.conversation !== null) {
    throw invalidRequest("'conversation' cannot be used with this model: its provider is not a Responses API, and the gateway keeps no conversation state. Send the whole conversation in 'input'.", 'conversation');
  }
  if (body.prompt !== undefined && body.prompt !== null) {
    throw invalidRequest("'prompt' (a stored prompt template) cannot be used with this model: its provider is not a Responses API. Send the prompt text in 'instructions' and 'input'.", 'prompt');
  }
  if (body.background === true) {
    throw invalidRequest("'background': true cannot be used with this model: its provider is not a Responses API, and the gateway keeps no responses to poll.", 'background');
  }
}

export function decodeResponsesRequest(raw: unknown, surfaceRequest: SurfaceRequest): CanonicalRequest {
  const body = requestObject(raw);
  refuseState(body);
  // the tools first: input items may add more (additional_tools, a tool search's output)
  const tools = decodeTools(body.tools);
  const history = new History();
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions === 'string') {
      if (body.instructions.length > 0) history.system(body.instructions);
    } else if (Array.isArray(body.instructions)) {
      body.instructions.forEach((item, i) => decodeItem(history, item, i, tools, surfaceRequest.items));
    } else throw invalidRequest("Invalid 'instructions': expected a string.", 'instructions');
  }
  const input = body.input;
  if (typeof input === 'string') history.user([{ type: 'text', text: input }]);
  else if (Array.isArray(input)) input.forEach((item, i) => decodeItem(history, item, i, tools, surfaceRequest.items));
  else if (input !== undefined && input !== null) throw invalidRequest("Invalid 'input': expected a string or an array of input items.", 'input');
  if (history.messages.every((message) => message.role === 'system')) throw invalidRequest("Missing 'input': nothing to answer.", 'input');

  const request: CanonicalRequest = { model: textFrom(body.model), messages: history.messages, sampling: {}, stream: body.stream === true };
  const temperature = num(body, 'temperature'); if (temperature !== undefined) request.sampling.temperature = temperature;
  const topP = num(body, 'top_p'); if (topP !== undefined) request.sampling.topP = topP;
  const maxTokens = num(body, 'max_output_tokens'); if (maxTokens !== undefined) request.sampling.maxTokens = maxTokens;

  const extra: JsonObject = {};
  const serverSide: JsonObject = {};
  const toolChoice = decodeToolChoice(body.tool_choice, tools, extra, serverSide);
  if (tools.tools.length > 0) request.tools = tools.tools;
  if (tools.hosted.length > 0) request.hostedTools = tools.hosted;
  if (toolChoice !== undefined) request.toolChoice = toolChoice;
  Object.assign(extra, tools.builtIn);
  if (typeof body.parallel_tool_calls === 'boolean') request.parallelToolCalls = body.parallel_tool_calls;
  const format = decodeFormat(body.text); if (format !== undefined) request.responseFormat = format;

  const reasoning = objectFrom(body.reasoning);
  if (body.reasoning !== undefined && body.reasoning !== null) {
    const effort = reasoning?.effort;
    if (effort !== undefined && effort !== null && !isEffort(effort)) throw invalidRequest(`Invalid 'reasoning.effort': '${shown(effort)}'.`, 'reasoning.effort');
    const summary = reasoning?.summary ?? reasoning?.generate_summary;
    request.reasoning = {
      ...(isEffort(effort) ? { effort } : {}),
      includeThoughts: summary !== undefined && summary !== null,
    };
  }
  const user = typeof body.safety_identifier === 'string' ? body.safety_identifier : typeof body.user === 'string' ? body.user : undefined;
  const sessionId = typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : undefined;
  if (user !== undefined || sessionId !== undefined) request.metadata = { ...(user !== undefined ? { user } : {}), ...(sessionId !== undefined ? { sessionId } : {}) };

  const inert: JsonObject = {};
  for (const key of Object.keys(body)) {
    if (MODELLED.has(key)) continue;
    if (INERT.has(key)) inert[key] = body[key];
    else extra[key] = body[key];
  }
  // a style hint with no equivalent elsewhere: kept for a Responses provider, dropped for others
  const verbosity = objectFrom(body.text)?.verbosity;
  if (verbosity !== undefined && verbosity !== null) inert['text.verbosity'] = verbosity;
  const hasExtra = Object.keys(extra).length > 0;
  const hasServerSide = serverSide.tool_choice !== undefined;
  if (hasExtra || hasServerSide || Object.keys(inert).length > 0) {
    request.passThrough = { dialect: 'openai-responses', fields: extra, ...(Object.keys(inert).length > 0 ? { inert } : {}), ...(hasServerSide ? { serverSide } : {}) };
  }

  const echo: ResponsesEcho = {
    instructions: body.instructions ?? null,
    tools: Array.isArray(body.tools) ? body.tools : [],
    toolChoice: body.tool_choice ?? 'auto',
    parallelToolCalls: typeof body.parallel_tool_calls === 'boolean' ? body.parallel_tool_calls : true,
    temperature: temperature ?? null,
    topP: topP ?? null,
    maxOutputTokens: maxTokens ?? null,
    reasoning: { effort: reasoning?.effort ?? null, summary: reasoning?.summary ?? null },
    text: typeof body.text === 'object' && body.text !== null ? { format: { type: 'text' }, ...body.text } : { format: { type: 'text' } },
    truncation: body.truncation ?? 'disabled',
    store: body.store ?? true,
    metadata: body.metadata ?? {},
    user: body.user ?? null,
    promptCacheKey: body.prompt_cache_key ?? null,
    safetyIdentifier: body.safety_identifier ?? null,
    serviceTier: body.service_tier ?? 'default',
    calls: tools.calls,
  };
  request.surfaceHints = { [RESPONSES_ECHO]: echo, ...(surfaceRequest.items !== undefined ? { [ITEM_STORE]: surfaceRequest.items } : {}) };
  return request;
}
