// Anthropic Messages request (and count_tokens request) → canonical request.
import type { SurfaceRequest } from '../../canonical/adapters.ts';
import type {
  CacheControl, CanonicalRequest, ContentPart, HostedTool, MediaSource, Message, ReasoningEffort, ReasoningSettings, ResponseFormat, ToolChoice, ToolDefinition,
  UserLocation,
} from '../../canonical/request.ts';
import { countFrom, describe, isObject, type JsonObject, listFrom, objectFrom, shown, stringsFrom, textFrom } from '../../util/json-value.ts';
import { isServerToolCall, isServerToolResult, serverToolCall, serverToolKind, serverToolResult, webCitations } from '../../util/server-tool-blocks.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { requestObject } from './inspect.ts';

/** Fields mapped into the canonical request. */
const MODELLED = new Set([
  'model', 'messages', 'system', 'max_tokens', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'stream', 'tools', 'tool_choice',
  'thinking', 'output_config', 'output_format', 'metadata', 'cache_control',
]);
/**
 * Fields that change nothing about what is generated (docs/translation/anthropic.md): capacity and
 * placement choices, diagnostics. Kept for an Anthropic provider, dropped for any other.
 */
const INERT = new Set(['service_tier', 'inference_geo', 'speed', 'diagnostics']);
/**
 * Server-side features another provider has no equivalent of: context editing (another provider
 * simply gets the whole context) and the MCP connector (`mcp_servers`: remote MCP servers whose
 * tools Anthropic's servers call). Kept for an Anthropic provider; for any other, the
 * `unsupported_tools` policy drops them (reported) or refuses the request.
 */
const SERVER_SIDE = new Set(['context_management', 'mcp_servers']);
/** Server tools Anthropic runs itself (web search, web fetch, code execution, tool search, an MCP server's toolset), by type prefix. */
const SERVER_TOOL_TYPES = ['web_search_', 'web_fetch_', 'code_execution_', 'tool_search_tool_', 'mcp_toolset'];
/** Keys of a custom tool the canonical definition carries (`eager_input_streaming` only changes how input streams). */
const TOOL_KEYS = new Set(['type', 'name', 'description', 'input_schema', 'strict', 'cache_control', 'eager_input_streaming', 'defer_loading']);
const EFFORTS: Record<string, ReasoningEffort> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'xhigh' };

function str(value: unknown, param: string): string {
  if (typeof value !== 'string') throw invalidRequest(`${param}: Input should be a valid string, got ${describe(value)}`, param);
  return value;
}

function cacheControl(block: JsonObject, param: string): { cacheControl?: CacheControl } {
  const raw = block.cache_control;
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw) || raw.type !== 'ephemeral') throw invalidRequest(`${param}.cache_control: Input should be {"type": "ephemeral"}`, `${param}.cache_control`);
  return { cacheControl: { type: 'ephemeral', ...(typeof raw.ttl === 'string' ? { ttl: raw.ttl } : {}) } };
}

function mediaSource(raw: unknown, param: string, kind: 'image' | 'document'): MediaSource {
  if (!isObject(raw)) throw invalidRequest(`${param}.source: Field required`, `${param}.source`);
  switch (raw.type) {
    case 'base64':
      return { kind: 'base64', mediaType: str(raw.media_type, `${param}.source.media_type`), data: str(raw.data, `${param}.source.data`) };
    case 'url':
      return { kind: 'url', url: str(raw.url, `${param}.source.url`), ...(kind === 'document' ? { mediaType: 'application/pdf' } : {}) };
    case 'text':
      if (kind === 'document') return { kind: 'base64', mediaType: typeof raw.media_type === 'string' ? raw.media_type : 'text/plain', data: Buffer.from(str(raw.data, `${param}.source.data`), 'utf8').toString('base64') };
      break;
    case 'file':
      throw invalidRequest(`${param}.source: a Files API reference (file_id) points into Anthropic's storage and cannot be translated; send the ${kind} inline.`, `${param}.source`);
    default:
      break;
  }
  throw invalidRequest(`${param}.source.type: '${shown(raw.type)}' is not supported here`, `${param}.source.type`);
}

function textBlock(block: JsonObject, param: string): ContentPart {
  const citations = block.citations === undefined || block.citations === null ? undefined : webCitations(block.citations);
  return { type: 'text', text: str(block.text, `${param}.text`), ...(citations !== undefined ? { citations } : {}), ...cacheControl(block, param) };
}

/**
 * A `tool_reference` block (what a tool search answers, loading a deferred tool): for another
 * provider, a sentence saying the tool can be called now (it joins the tools offered upstream).
 */
function toolReferencePart(block: JsonObject, param: string): ContentPart {
  const name = str(block.tool_name, `${param}.tool_name`);
  return { type: 'text', text: `Tool '${name}' loaded: it can be called now.`, toolReference: name };
}

/** Blocks allowed inside a tool_result's content. */
function resultParts(raw: unknown, param: string): string | ContentPart[] {
  if (raw === undefined || raw === null) return '';
  if (typeof raw === 'string') return raw;
  if (!Array.isArray(raw)) throw invalidRequest(`${param}: Input should be a string or a list of content blocks`, param);
  return raw.map((block: unknown, i): ContentPart => {
    const where = `${param}.${i}`;
    if (!isObject(block)) throw invalidRequest(`${where}: Input should be an object`, where);
    if (block.type === 'text') return textBlock(block, where);
    if (block.type === 'image') return { type: 'image', source: mediaSource(block.source, where, 'image'), ...cacheControl(block, where) };
    if (block.type === 'document') return documentPart(block, where);
    if (block.type === 'tool_reference') return toolReferencePart(block, where);
    throw invalidRequest(`${where}.type: '${shown(block.type)}' blocks cannot be translated (see docs/translation/anthropic.md)`, `${where}.type`);
  });
}

function documentPart(block: JsonObject, param: string): ContentPart {
  return { type: 'file', source: mediaSource(block.source, param, 'document'), ...(typeof block.title === 'string' ? { filename: block.title } : {}) };
}

function contentBlock(block: unknown, param: string, role: 'user' | 'assistant'): ContentPart {
  if (!isObject(block)) throw invalidRequest(`${param}: Input should be an object`, param);
  switch (block.type) {
    case 'text':
      return textBlock(block, param);
    case 'image':
      return { type: 'image', source: mediaSource(block.source, param, 'image'), ...cacheControl(block, param) };
    case 'document':
      return documentPart(block, param);
    case 'tool_use':
      if (role !== 'assistant') break;
      return {
        type: 'tool-call', id: str(block.id, `${param}.id`), name: str(block.name, `${param}.name`),
        arguments: JSON.stringify(block.input ?? {}),
      };
    case 'tool_result':
      if (role !== 'user') break;
      return {
        type: 'tool-result', toolCallId: str(block.tool_use_id, `${param}.tool_use_id`), content: resultParts(block.content, `${param}.content`),
        ...(block.is_error === true ? { isError: true } : {}), ...cacheControl(block, param),
      };
    case 'thinking': {
      const signature = typeof block.signature === 'string' && block.signature.length > 0 ? block.signature : undefined;
      return { type: 'reasoning', text: str(block.thinking, `${param}.thinking`), ...(signature !== undefined ? { signature } : {}) };
    }
    case 'redacted_thinking':
      return { type: 'reasoning', text: '', redactedData: str(block.data, `${param}.data`) };
    default:
      // an earlier server-tool call and its results (Claude Code resends them, encrypted content
      // included): verbatim for an Anthropic provider, left out for others (see docs/translation.md)
      if (role === 'assistant' && isServerToolCall(block.type)) return serverToolCall(block, objectFrom(block.input) ?? {});
      if (role === 'assistant' && isServerToolResult(block.type)) return serverToolResult(block);
      break;
  }
  throw invalidRequest(`${param}.type: '${shown(block.type)}' blocks in ${role} messages cannot be translated (see docs/translation/anthropic.md)`, `${param}.type`);
}

/** One Anthropic message → canonical messages: tool results become `tool` messages, in order. */
function decodeMessage(message: unknown, i: number, out: Message[]): void {
  // inspect refused any message that is not an object with a known role and a string or list content
  const raw = objectFrom(message) ?? {};
  if (raw.role === 'system') {
    // a system message in place (mid-conversation-system beta): text blocks, cache_control kept
    const system = decodeSystemContent(raw.content, `messages.${i}.content`);
    if (system !== undefined) out.push(system);
    return;
  }
  const role = raw.role === 'assistant' ? 'assistant' : 'user';
  const param = `messages.${i}.content`;
  if (typeof raw.content === 'string') {
    out.push({ role, content: [{ type: 'text', text: raw.content }] });
    return;
  }
  const blocks = listFrom(raw.content);
  if (role === 'assistant') {
    out.push({ role, content: blocks.map((block, j) => contentBlock(block, `${param}.${j}`, role)) });
    return;
  }
  let current: Message | undefined;
  for (let j = 0; j < blocks.length; j++) {
    const part = contentBlock(blocks[j], `${param}.${j}`, role);
    const wanted = part.type === 'tool-result' ? 'tool' : 'user';
    if (current === undefined || current.role !== wanted) {
      current = { role: wanted, content: [] };
      out.push(current);
    }
    current.content.push(part);
  }
  if (blocks.length === 0) out.push({ role, content: [] });
}

function decodeSystem(raw: unknown): Message | undefined {
  return decodeSystemContent(raw, 'system');
}

function decodeSystemContent(raw: unknown, where: string): Message | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw.length > 0 ? { role: 'system', content: [{ type: 'text', text: raw }] } : undefined;
  if (!Array.isArray(raw)) throw invalidRequest(`${where}: Input should be a string or a list of text blocks`, where);
  const content = raw.map((block: unknown, i): ContentPart => {
    if (!isObject(block) || block.type !== 'text') throw invalidRequest(`${where}.${i}.type: only text blocks are allowed in a system prompt`, `${where}.${i}.type`);
    return textBlock(block, `${where}.${i}`);
  });
  return content.length > 0 ? { role: 'system', content } : undefined;
}

function strings(value: unknown): string[] | undefined {
  const list = stringsFrom(value);
  return list !== undefined && list.length > 0 ? list : undefined;
}

/** A server tool Anthropic runs → a canonical hosted tool, named `tools.<name>` (`tools.web_search`). */
function hostedTool(tool: JsonObject, type: string): HostedTool {
  const name = typeof tool.name === 'string' ? tool.name : type;
  const hosted: HostedTool = { kind: serverToolKind(type), field: `tools.${name}`, dialect: 'anthropic', raw: tool };
  const allowed = strings(tool.allowed_domains); if (allowed !== undefined) hosted.allowedDomains = allowed;
  const blocked = strings(tool.blocked_domains); if (blocked !== undefined) hosted.blockedDomains = blocked;
  const maxUses = countFrom(tool.max_uses); if (maxUses !== undefined) hosted.maxUses = maxUses;
  const location = objectFrom(tool.user_location);
  if (location !== undefined) {
    const where: UserLocation = {};
    for (const key of ['city', 'region', 'country', 'timezone'] as const) if (typeof location[key] === 'string') where[key] = location[key];
    hosted.userLocation = where;
  }
  return hosted;
}

function decodeTools(raw: unknown, foreign: unknown[], hosted: HostedTool[]): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw invalidRequest('tools: Input should be a valid list', 'tools');
  const tools: ToolDefinition[] = [];
  raw.forEach((tool: unknown, i) => {
    if (!isObject(tool)) throw invalidRequest(`tools.${i}: Input should be an object`, `tools.${i}`);
    const custom = tool.type === undefined || tool.type === null || tool.type === 'custom';
    const type = tool.type;
    if (typeof type === 'string' && SERVER_TOOL_TYPES.some((prefix) => type.startsWith(prefix))) {
      hosted.push(hostedTool(tool, type));
      return;
    }
    // Anthropic-defined client tools (bash_…, text_editor_…, computer_…) and custom tools with settings only Anthropic knows
    if (!custom || Object.keys(tool).some((key) => !TOOL_KEYS.has(key))) {
      foreign.push(tool);
      return;
    }
    const schema = tool.input_schema;
    if (!isObject(schema)) throw invalidRequest(`tools.${i}.input_schema: Field required`, `tools.${i}.input_schema`);
    tools.push({
      name: str(tool.name, `tools.${i}.name`),
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      parameters: schema,
      ...(typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
      ...cacheControl(tool, `tools.${i}`),
      ...(tool.defer_loading === true ? { deferred: true } : {}),
    });
  });
  return tools;
}

function decodeToolChoice(raw: unknown, request: CanonicalRequest): void {
  if (raw === undefined || raw === null) return;
  if (!isObject(raw)) throw invalidRequest('tool_choice: Input should be an object', 'tool_choice');
  let choice: ToolChoice;
  switch (raw.type) {
    case 'auto': choice = { type: 'auto' }; break;
    case 'any': choice = { type: 'required' }; break;
    case 'none': choice = { type: 'none' }; break;
    case 'tool': choice = { type: 'tool', name: str(raw.name, 'tool_choice.name') }; break;
    default: throw invalidRequest(`tool_choice.type: '${shown(raw.type)}' is not one of 'auto', 'any', 'tool', 'none'`, 'tool_choice.type');
  }
  request.toolChoice = choice;
  if (raw.disable_parallel_tool_use === true) request.parallelToolCalls = false;
}

/** `thinking` and `output_config.effort` → canonical reasoning; undefined when neither is given. */
function decodeReasoning(body: JsonObject, extra: JsonObject): ReasoningSettings | undefined {
  const thinking = body.thinking;
  const effortRaw = isObject(body.output_config) ? body.output_config.effort : undefined;
  let reasoning: ReasoningSettings | undefined;
  if (isObject(thinking)) {
    const includeThoughts = thinking.display !== 'omitted';
    switch (thinking.type) {
      case 'enabled': {
        const budget = thinking.budget_tokens;
        if (typeof budget !== 'number' || !Number.isInteger(budget)) throw invalidRequest('thinking.budget_tokens: Input should be a valid integer', 'thinking.budget_tokens');
        reasoning = { budgetTokens: budget, includeThoughts };
        break;
      }
      case 'adaptive':
        reasoning = { includeThoughts };
        break;
      case 'disabled':
        reasoning = { effort: 'none', includeThoughts: false };
        break;
      default:
        extra.thinking = thinking;
    }
  } else if (thinking !== undefined && thinking !== null) {
    throw invalidRequest('thinking: Input should be an object', 'thinking');
  }
  if (effortRaw !== undefined && effortRaw !== null) {
    const effort = typeof effortRaw === 'string' ? EFFORTS[effortRaw] : undefined;
    if (effort === undefined) throw invalidRequest(`output_config.effort: '${shown(effortRaw)}' is not one of low, medium, high, xhigh, max`, 'output_config.effort');
    if (reasoning?.effort !== 'none') reasoning = { ...reasoning, effort };
  }
  return reasoning;
}

function decodeFormat(body: JsonObject, extra: JsonObject): ResponseFormat | undefined {
  const config = body.output_config;
  let format: unknown = body.output_format;
  if (isObject(config)) {
    const rest: JsonObject = {};
    for (const [key, value] of Object.entries(config)) if (key !== 'effort' && key !== 'format') rest[key] = value;
    if (Object.keys(rest).length > 0) extra.output_config = rest;
    if (config.format !== undefined && config.format !== null) format = config.format;
  } else if (config !== undefined && config !== null) {
    throw invalidRequest('output_config: Input should be an object', 'output_config');
  }
  if (format === undefined || format === null) return undefined;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.schema)) {
    throw invalidRequest("output_config.format: Input should be {\"type\": \"json_schema\", \"schema\": {…}}", 'output_config.format');
  }
  // Anthropic's formats carry no name; other dialects need one
  return { type: 'json-schema', name: 'response', schema: format.schema, strict: true };
}

function num(body: JsonObject, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`${key}: Input should be a valid number`, key);
  return value;
}

/** Claude Code's `metadata.user_id` names the session (`…_session_<uuid>`, or JSON with `session_id`): prompt-cache affinity. */
function sessionOf(userId: string): string | undefined {
  const match = /session_([0-9a-f-]{8,})/i.exec(userId);
  if (match !== null) return match[1];
  if (userId.startsWith('{')) {
    try {
      const session = objectFrom(JSON.parse(userId))?.session_id;
      if (typeof session === 'string') return session;
    } catch {
      // an opaque id
    }
  }
  return undefined;
}

/** Anthropic's top-level cache_control marks the last cacheable block; canonical carries it there. */
function applyTopLevelCache(request: CanonicalRequest, control: CacheControl): void {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const content = request.messages[i]!.content;
    for (let j = content.length - 1; j >= 0; j--) {
      const part = content[j]!;
      if (part.type === 'text' || part.type === 'image' || part.type === 'tool-result') {
        part.cacheControl ??= control;
        return;
      }
    }
  }
}

export function decodeMessagesRequest(raw: unknown, _request: SurfaceRequest): CanonicalRequest {
  const body = requestObject(raw);
  const messages: Message[] = [];
  const system = decodeSystem(body.system);
  if (system !== undefined) messages.push(system);
  listFrom(body.messages).forEach((message, i) => decodeMessage(message, i, messages));
  const request: CanonicalRequest = { model: textFrom(body.model), messages, sampling: {}, stream: body.stream === true };
  const sampling = request.sampling;
  const maxTokens = num(body, 'max_tokens'); if (maxTokens !== undefined) sampling.maxTokens = maxTokens;
  const temperature = num(body, 'temperature'); if (temperature !== undefined) sampling.temperature = temperature;
  const topP = num(body, 'top_p'); if (topP !== undefined) sampling.topP = topP;
  const topK = num(body, 'top_k'); if (topK !== undefined) sampling.topK = topK;
  const stop = body.stop_sequences;
  if (stop !== undefined && stop !== null) {
    const stops = stringsFrom(stop);
    if (stops === undefined) throw invalidRequest('stop_sequences: Input should be a list of strings', 'stop_sequences');
    if (stops.length > 0) sampling.stop = stops;
  }
  const extra: JsonObject = {};
  const foreignTools: unknown[] = [];
  const hostedTools: HostedTool[] = [];
  const tools = decodeTools(body.tools, foreignTools, hostedTools);
  if (tools !== undefined && tools.length > 0) request.tools = tools;
  if (hostedTools.length > 0) request.hostedTools = hostedTools;
  if (foreignTools.length > 0) extra.tools = foreignTools;
  decodeToolChoice(body.tool_choice, request);
  const forced = request.toolChoice;
  let serverSide: JsonObject | undefined;
  if (forced?.type === 'tool' && hostedTools.some((tool) => tool.raw.name === forced.name)) {
    // a server tool forced by name: Anthropic's to honour; for another provider it follows the unsupported_tools policy
    delete request.toolChoice;
    serverSide = { tool_choice: body.tool_choice };
  }
  const reasoning = decodeReasoning(body, extra); if (reasoning !== undefined) request.reasoning = reasoning;
  const format = decodeFormat(body, extra); if (format !== undefined) request.responseFormat = format;
  const metadata = body.metadata;
  if (isObject(metadata) && typeof metadata.user_id === 'string' && metadata.user_id.length > 0) {
    const sessionId = sessionOf(metadata.user_id);
    request.metadata = { user: metadata.user_id, ...(sessionId !== undefined ? { sessionId } : {}) };
  }
  const topCache = body.cache_control;
  if (topCache !== undefined && topCache !== null) {
    if (!isObject(topCache) || topCache.type !== 'ephemeral') throw invalidRequest('cache_control: Input should be {"type": "ephemeral"}', 'cache_control');
    applyTopLevelCache(request, { type: 'ephemeral', ...(typeof topCache.ttl === 'string' ? { ttl: topCache.ttl } : {}) });
  }
  const inert: JsonObject = {};
  for (const key of Object.keys(body)) {
    if (MODELLED.has(key)) continue;
    if (INERT.has(key)) inert[key] = body[key];
    else if (SERVER_SIDE.has(key)) (serverSide ??= {})[key] = body[key];
    else extra[key] = body[key];
  }
  const hasInert = Object.keys(inert).length > 0;
  if (Object.keys(extra).length > 0 || hasInert || serverSide !== undefined) {
    request.passThrough = { dialect: 'anthropic', fields: extra, ...(hasInert ? { inert } : {}), ...(serverSide !== undefined ? { serverSide } : {}) };
  }
  return request;
}
