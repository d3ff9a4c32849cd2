// OpenAI Responses request → canonical request, for providers that do not speak Responses.
// The gateway is stateless: whatever refers to state kept by OpenAI (previous_response_id,
// conversation, stored prompts, file ids, item references) is refused with a 400 naming it.
import type { SurfaceRequest } from '../../../canonical/adapters.ts';
import type {
  CanonicalRequest, HostedTool, HostedToolKind, ResponseFormat, ToolChoice, ToolDefinition,
} from '../../../canonical/request.ts';
import { isEffort, NO_PARAMETERS, num, schemaOf, userLocationOf } from '../fields.ts';
import { CUSTOM_TOOL_ARGUMENT, decodeItem, History, str } from './decode-input.ts';
import { type JsonObject, listFrom, objectFrom, shown, stringsFrom, textFrom } from '../../../util/json-value.ts';
import { invalidRequest } from '../../../canonical/errors.ts';
import { requestObject } from '../inspect.ts';

export { CUSTOM_TOOL_ARGUMENT } from './decode-input.ts';

/** The hint key under `surfaceHints` with the gateway's item store, where answer items are kept. */
export const ITEM_STORE = 'responsesItemStore';

/** The hint key under `surfaceHints` with what the encoders echo back (see responses-encode.ts). */
export const RESPONSES_ECHO = 'responses';

/** The request fields a response object repeats, and the custom (free-form) tools by name. */
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
  /** Names of `custom` tools, carried as one-string-argument functions and answered as custom_tool_call. */
  customTools: string[];
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

/**
 * Tools OpenAI runs itself, by kind: a web search maps to other providers' searches; the others
 * have no equivalent elsewhere and are left to the `unsupported_tools` policy. Built-in tools the
 * client runs (`local_shell`, `computer_use_preview`, `apply_patch`, …) are not hosted: a provider
 * of another dialect refuses them.
 */
function hostedKind(type: string): HostedToolKind | undefined {
  if (type === 'web_search' || type === 'web_search_preview' || type.startsWith('web_search_2') || type.startsWith('web_search_preview_')) return 'web-search';
  if (type === 'code_interpreter') return 'code-execution';
  if (type === 'file_search' || type === 'image_generation' || type === 'mcp') return 'other';
  return undefined;
}

const CONTEXT_SIZES: ReadonlySet<unknown> = new Set(['low', 'medium', 'high']);

function hostedTool(tool: JsonObject, type: string, kind: HostedToolKind): HostedTool {
  const hosted: HostedTool = { kind, field: `tools.${type}`, dialect: 'openai-responses', raw: tool };
  if (kind !== 'web-search') return hosted;
  const allowed = stringsFrom(objectFrom(tool.filters)?.allowed_domains);
  if (allowed !== undefined && allowed.length > 0) hosted.allowedDomains = allowed;
  const location = userLocationOf(tool.user_location);
  if (location !== undefined) hosted.userLocation = location;
  if (CONTEXT_SIZES.has(tool.search_context_size)) hosted.searchContextSize = tool.search_context_size as 'low' | 'medium' | 'high';
  if (tool.external_web_access === false) hosted.cachedOnly = true;
  return hosted;
}

function customToolParameters(tool: JsonObject): Record<string, unknown> {
  const format = objectFrom(tool.format);
  let description = 'The raw input for this tool.';
  if (format?.type === 'grammar' && typeof format.definition === 'string') {
    description = `The raw input for this tool, following this ${textFrom(format.syntax)} grammar:\n${textFrom(format.definition)}`;
  }
  return { type: 'object', properties: { [CUSTOM_TOOL_ARGUMENT]: { type: 'string', description } }, required: [CUSTOM_TOOL_ARGUMENT], additionalProperties: false };
}

interface DecodedTools { tools: ToolDefinition[]; hosted: HostedTool[]; builtIn: Record<string, unknown[]>; custom: string[] }

function decodeTools(raw: unknown): DecodedTools {
  const decoded: DecodedTools = { tools: [], hosted: [], builtIn: {}, custom: [] };
  if (raw === undefined || raw === null) return decoded;
  if (!Array.isArray(raw)) throw invalidRequest("Invalid 'tools': expected an array.", 'tools');
  raw.forEach((entry: unknown, i) => {
    const tool = objectFrom(entry);
    const where = `tools[${i}]`;
    if (typeof tool?.type !== 'string') throw invalidRequest(`Invalid '${where}.type': expected a string.`, `${where}.type`);
    if (tool.type === 'function') {
      const name = str(tool.name, `${where}.name`);
      decoded.tools.push({
        name,
        ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
        parameters: schemaOf(tool.parameters, `${where}.parameters`, NO_PARAMETERS),
        ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      });
    } else if (tool.type === 'custom') {
      const name = str(tool.name, `${where}.name`);
      decoded.custom.push(name);
      decoded.tools.push({ name, ...(typeof tool.description === 'string' ? { description: tool.description } : {}), parameters: customToolParameters(tool) });
    } else if (tool.type === 'namespace' && Array.isArray(tool.tools)) {
      // a group of function tools (Codex's multi_agent_v1): offered to other providers as plain tools
      for (const [j, item] of tool.tools.entries()) {
        const inner = objectFrom(item);
        if (inner?.type !== 'function') throw invalidRequest(`Invalid '${where}.tools[${j}]': only function tools can be translated from a namespace.`, `${where}.tools[${j}]`);
        decoded.tools.push({
          name: str(inner.name, `${where}.tools[${j}].name`),
          ...(typeof inner.description === 'string' ? { description: inner.description } : {}),
          parameters: schemaOf(inner.parameters, `${where}.tools[${j}].parameters`, NO_PARAMETERS),
          ...(typeof inner.strict === 'boolean' ? { strict: inner.strict } : {}),
        });
      }
    } else {
      const kind = hostedKind(tool.type);
      if (kind !== undefined) decoded.hosted.push(hostedTool(tool, tool.type, kind));
      // carried for a Responses provider; any other provider refuses it, naming the tool type
      else (decoded.builtIn[`tools.${tool.type}`] ??= []).push(tool);
    }
  });
  return decoded;
}

function decodeToolChoice(raw: unknown, tools: DecodedTools, extra: JsonObject, serverSide: JsonObject): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto' || raw === 'none' || raw === 'required') return { type: raw };
  const choice = objectFrom(raw) ?? {};
  if ((choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') return { type: 'tool', name: choice.name };
  if (choice.type === 'allowed_tools') {
    const names = new Set<string>();
    for (const item of listFrom(choice.tools)) {
      const entry = objectFrom(item);
      if ((entry?.type === 'function' || entry?.type === 'custom') && typeof entry.name === 'string') names.add(entry.name);
      else {
        extra.tool_choice = raw;
        return undefined;
      }
    }
    // the nearest equivalent: offer only the allowed tools, with the same mode
    tools.tools = tools.tools.filter((tool) => names.has(tool.name));
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
  const history = new History();
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions === 'string') {
      if (body.instructions.length > 0) history.system(body.instructions);
    } else if (Array.isArray(body.instructions)) {
      body.instructions.forEach((item, i) => decodeItem(history, item, i, surfaceRequest.items));
    } else throw invalidRequest("Invalid 'instructions': expected a string.", 'instructions');
  }
  const input = body.input;
  if (typeof input === 'string') history.user([{ type: 'text', text: input }]);
  else if (Array.isArray(input)) input.forEach((item, i) => decodeItem(history, item, i, surfaceRequest.items));
  else if (input !== undefined && input !== null) throw invalidRequest("Invalid 'input': expected a string or an array of input items.", 'input');
  if (history.messages.every((message) => message.role === 'system')) throw invalidRequest("Missing 'input': nothing to answer.", 'input');

  const request: CanonicalRequest = { model: textFrom(body.model), messages: history.messages, sampling: {}, stream: body.stream === true };
  const temperature = num(body, 'temperature'); if (temperature !== undefined) request.sampling.temperature = temperature;
  const topP = num(body, 'top_p'); if (topP !== undefined) request.sampling.topP = topP;
  const maxTokens = num(body, 'max_output_tokens'); if (maxTokens !== undefined) request.sampling.maxTokens = maxTokens;

  const extra: JsonObject = {};
  const serverSide: JsonObject = {};
  const tools = decodeTools(body.tools);
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
    customTools: tools.custom,
  };
  request.surfaceHints = { [RESPONSES_ECHO]: echo, ...(surfaceRequest.items !== undefined ? { [ITEM_STORE]: surfaceRequest.items } : {}) };
  return request;
}
