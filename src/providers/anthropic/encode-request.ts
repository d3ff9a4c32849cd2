// Canonical request → Anthropic Messages request body (and the count_tokens body, its subset).
import type { ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import type { CacheControl, CanonicalRequest, Citation, ContentPart, HostedTool, MediaSource, Message, ReasoningEffort } from '../../canonical/request.ts';
import { isObject, type JsonObject } from '../../util/json-value.ts';
import { encodeHostedTools, type EncodedHostedTools, withUnsupported } from '../common/hosted-tools.ts';
import { ownPassThrough } from '../common/foreign-fields.ts';

/** Anthropic requires max_tokens; this is sent when the caller gave none (Claude 3 models cap output at 4096). */
export const DEFAULT_MAX_TOKENS = 8192;
export const CLAUDE_3_MAX_TOKENS = 4096;
/** Effort → thinking budget; the inverse of the OpenAI provider's budget → effort thresholds (≤2048 low, ≤12288 medium). */
export const EFFORT_BUDGETS: Readonly<Record<Exclude<ReasoningEffort, 'none'>, number>> = { minimal: 1024, low: 2048, medium: 8192, high: 16384, xhigh: 24576 };
/** Anthropic's smallest thinking budget. */
export const MIN_BUDGET = 1024;
/** Room left for the answer when the default max_tokens has to grow around a thinking budget. */
const ANSWER_ROOM = 4096;

/** Anthropic's own unmodelled fields (inert and server-side ones too), to merge into the body. */
export function rejectForeignFields(request: CanonicalRequest, provider: string): JsonObject | undefined {
  const own = ownPassThrough(request.passThrough, 'anthropic', provider);
  if (own === undefined) return undefined;
  return own.inert === undefined && own.serverSide === undefined ? own.fields : { ...own.inert, ...own.serverSide, ...own.fields };
}

function cache(control: CacheControl | undefined): JsonObject {
  return control === undefined ? {} : { cache_control: control.ttl !== undefined ? { type: 'ephemeral', ttl: control.ttl } : { type: 'ephemeral' } };
}

function imageSource(source: MediaSource): JsonObject {
  if (source.kind === 'url') return { type: 'url', url: source.url };
  // `data:image/jpg;…` is common in the wild; Anthropic knows only image/jpeg
  return { type: 'base64', media_type: source.mediaType === 'image/jpg' ? 'image/jpeg' : source.mediaType, data: source.data };
}

function documentBlock(source: MediaSource, filename: string | undefined): JsonObject {
  const title = filename !== undefined ? { title: filename } : {};
  if (source.kind === 'url') return { type: 'document', source: { type: 'url', url: source.url }, ...title };
  if (source.mediaType === 'application/pdf') return { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: source.data }, ...title };
  if (source.mediaType.startsWith('text/')) return { type: 'document', source: { type: 'text', media_type: 'text/plain', data: Buffer.from(source.data, 'base64').toString('utf8') }, ...title };
  throw invalidRequest(`Anthropic takes PDF and plain-text documents only, not '${source.mediaType}'.`, 'messages');
}

/** Citations Anthropic issued go back verbatim (it checks their encrypted index); others cannot. */
function citations(list: readonly Citation[] | undefined): JsonObject {
  if (list === undefined) return {};
  const raw: JsonObject[] = [];
  for (const citation of list) if (citation.dialect === 'anthropic' && citation.raw !== undefined) raw.push(citation.raw);
  return raw.length > 0 ? { citations: raw } : {};
}

/** Blocks of user content, and of tool results (text, images, documents). */
function userBlock(part: ContentPart): JsonObject | undefined {
  switch (part.type) {
    case 'text':
      // a tool search's answer: the reference that loads the deferred tool
      if (part.toolReference !== undefined) return { type: 'tool_reference', tool_name: part.toolReference };
      return part.text.length === 0 ? undefined : { type: 'text', text: part.text, ...cache(part.cacheControl) };
    case 'hosted-tool-call':
    case 'hosted-tool-result':
      return undefined;
    case 'image':
      return { type: 'image', source: imageSource(part.source), ...cache(part.cacheControl) };
    case 'file':
      return documentBlock(part.source, part.filename);
    case 'audio':
      throw invalidRequest('Anthropic models do not take audio input; remove the audio part or route to a provider that does.', 'messages');
    case 'tool-result': {
      const content = typeof part.content === 'string' ? part.content
        : part.content.map(userBlock).filter((block): block is JsonObject => block !== undefined && block.type !== 'tool_result');
      return { type: 'tool_result', tool_use_id: toolUseId(part.toolCallId), content, ...(part.isError === true ? { is_error: true } : {}), ...cache(part.cacheControl) };
    }
    case 'tool-call':
      throw invalidRequest('A tool call can only appear in an assistant message.', 'messages');
    case 'reasoning':
      return undefined;
  }
}

/**
 * Anthropic accepts tool-use ids of [a-zA-Z0-9_-] only; some providers issue others (Kimi's
 * `functions.get_weather:0`). The same mapping applies to calls and results, so pairs still match.
 */
export function toolUseId(id: string): string {
  return /^[a-zA-Z0-9_-]+$/.test(id) ? id : id.replace(/[^a-zA-Z0-9_-]/g, '_') || 'toolu_';
}

/** Tool input must be a JSON object for Anthropic. */
function toolInput(args: string, name: string): unknown {
  if (args.trim().length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw invalidRequest(`The arguments of the earlier call to tool '${name}' are not valid JSON; Anthropic needs a JSON object.`, 'messages');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalidRequest(`The arguments of the earlier call to tool '${name}' are not a JSON object, which Anthropic needs.`, 'messages');
  return parsed;
}

function assistantBlock(part: ContentPart): JsonObject | undefined {
  switch (part.type) {
    case 'text':
      return part.text.length === 0 ? undefined : { type: 'text', text: part.text, ...citations(part.citations), ...cache(part.cacheControl) };
    case 'hosted-tool-call':
    case 'hosted-tool-result':
      // Anthropic's own server-tool blocks go back as they were (with their encrypted content);
      // another provider's hosted calls ran elsewhere: the answer text after them carries what they found
      return part.dialect === 'anthropic' ? part.raw : undefined;
    case 'reasoning':
      if (part.redactedData !== undefined) return { type: 'redacted_thinking', data: part.redactedData };
      // only a signature Anthropic issued validates; unsigned or foreign thinking cannot be replayed
      if (part.signature === undefined || part.signature.length === 0 || (part.provider !== undefined && part.provider !== 'anthropic')) return undefined;
      return { type: 'thinking', thinking: part.text, signature: part.signature };
    case 'tool-call':
      return { type: 'tool_use', id: toolUseId(part.id), name: part.name, input: toolInput(part.arguments, part.name) };
    default:
      return userBlock(part);
  }
}

function systemBlocks(messages: readonly Message[]): string | JsonObject[] | undefined {
  const blocks: { type: 'text'; text: string; cache_control?: unknown }[] = [];
  for (const message of messages) {
    if (message.role !== 'system') continue;
    for (const part of message.content) {
      if (part.type !== 'text') throw invalidRequest('A system prompt sent to Anthropic can hold text only.', 'messages');
      if (part.text.length > 0) blocks.push({ type: 'text', text: part.text, ...cache(part.cacheControl) });
    }
  }
  if (blocks.length === 0) return undefined;
  return blocks.length === 1 && blocks[0]!.cache_control === undefined ? blocks[0]!.text : blocks;
}

interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: JsonObject[];
}

/** Consecutive turns of one role are merged (Anthropic would merge them too); tool results are user turns. */
function encodeMessages(messages: readonly Message[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks: JsonObject[] = [];
    for (const part of message.content) {
      const block = role === 'assistant' ? assistantBlock(part) : userBlock(part);
      if (block !== undefined) blocks.push(block);
    }
    if (blocks.length === 0) continue;
    const last = out.at(-1);
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  return out;
}

/** With thinking on, a final assistant turn that called tools must open with its (signed) thinking. */
function lastAssistantNeedsThinking(messages: readonly AnthropicMessage[]): boolean {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role !== 'assistant') continue;
    const content = message.content;
    const first = content[0]?.type;
    return content.some((block) => block.type === 'tool_use') && first !== 'thinking' && first !== 'redacted_thinking';
  }
  return false;
}

function defaultMaxTokens(model: string): number {
  return /^claude-3-(?:opus|sonnet|haiku)/.test(model) ? CLAUDE_3_MAX_TOKENS : DEFAULT_MAX_TOKENS;
}

/** The thinking budget the canonical reasoning asks for: 0 = off, undefined = not asked. */
export function thinkingBudget(request: CanonicalRequest): number | undefined {
  const reasoning = request.reasoning;
  if (reasoning === undefined) return undefined;
  if (reasoning.budgetTokens !== undefined) return reasoning.budgetTokens <= 0 ? 0 : Math.max(MIN_BUDGET, reasoning.budgetTokens);
  if (reasoning.effort === 'none') return 0;
  if (reasoning.effort !== undefined) return EFFORT_BUDGETS[reasoning.effort];
  return reasoning.includeThoughts === true ? EFFORT_BUDGETS.medium : undefined;
}

/** A web search of another dialect → Anthropic's server tool (one of allowed or blocked domains: Anthropic takes not both). */
export function anthropicHostedTool(tool: HostedTool): JsonObject | undefined {
  if (tool.kind !== 'web-search') return undefined;
  const out: JsonObject = { type: 'web_search_20250305', name: 'web_search' };
  if (tool.maxUses !== undefined) out.max_uses = tool.maxUses;
  if (tool.allowedDomains !== undefined && tool.allowedDomains.length > 0) out.allowed_domains = tool.allowedDomains;
  else if (tool.blockedDomains !== undefined && tool.blockedDomains.length > 0) out.blocked_domains = tool.blockedDomains;
  if (tool.userLocation !== undefined) out.user_location = { type: 'approximate', ...tool.userLocation };
  return out;
}

function encodeTools(request: CanonicalRequest, body: JsonObject, hosted: EncodedHostedTools | undefined): void {
  const tools = request.tools ?? [];
  if (hosted !== undefined && hosted.tools.length > 0) body.tools = hosted.tools;
  if (tools.length === 0) return;
  const custom = tools.map((tool) => ({
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    input_schema: tool.parameters.type === undefined ? { type: 'object', properties: {}, ...tool.parameters } : tool.parameters,
    ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
    ...cache(tool.cacheControl),
    ...(tool.deferred === true ? { defer_loading: true } : {}),
  }));
  body.tools = hosted !== undefined && hosted.tools.length > 0 ? [...custom, ...hosted.tools] : custom;
  const choice = request.toolChoice;
  if (choice === undefined && request.parallelToolCalls !== false) return;
  const toolChoice: JsonObject = choice === undefined ? { type: 'auto' }
    : choice.type === 'required' ? { type: 'any' }
    : choice.type === 'tool' ? { type: 'tool', name: choice.name }
    : { type: choice.type };
  if (request.parallelToolCalls === false && toolChoice.type !== 'none') toolChoice.disable_parallel_tool_use = true;
  body.tool_choice = toolChoice;
}

/**
 * The thinking budget to send (0 = disabled, undefined = none) once Anthropic's rules are applied:
 * no thinking with a forced tool, nor after a final tool-calling turn without signed thinking; and
 * max_tokens caps thinking and answer together (as OpenAI's max_completion_tokens does), so a
 * budget that does not fit shrinks to half of it, and thinking is off when not even the minimum fits.
 */
function effectiveBudget(request: CanonicalRequest, messages: readonly AnthropicMessage[], forCount: boolean): number | undefined {
  const budget = thinkingBudget(request);
  if (budget === undefined || budget === 0) return budget;
  const choice = request.toolChoice?.type;
  if (choice === 'required' || choice === 'tool' || lastAssistantNeedsThinking(messages)) return undefined;
  const askedMax = request.sampling.maxTokens;
  if (forCount || askedMax === undefined || budget < askedMax) return budget;
  const shrunk = Math.max(MIN_BUDGET, Math.floor(askedMax / 2));
  return shrunk < askedMax ? shrunk : undefined;
}

function encodeSampling(request: CanonicalRequest, model: string, budget: number | undefined, body: JsonObject): void {
  const sampling = request.sampling;
  const thinking = budget !== undefined && budget > 0;
  let maxTokens = sampling.maxTokens ?? defaultMaxTokens(model);
  if (thinking && maxTokens <= budget) maxTokens = budget + ANSWER_ROOM;
  body.max_tokens = maxTokens;
  // Anthropic's range is 0–1 (OpenAI's 0–2); with thinking on it allows no temperature or top_k change, and top_p ≥ 0.95
  if (sampling.temperature !== undefined && (!thinking || sampling.temperature === 1)) body.temperature = Math.min(1, Math.max(0, sampling.temperature));
  if (sampling.topP !== undefined) body.top_p = thinking ? Math.max(0.95, sampling.topP) : sampling.topP;
  if (sampling.topK !== undefined && !thinking) body.top_k = sampling.topK;
  if (sampling.stop !== undefined && sampling.stop.length > 0) body.stop_sequences = sampling.stop;
}

/** The body both endpoints share; `forCount` leaves out what only generation takes. */
export function encodeMessagesBody(request: CanonicalRequest, model: string, provider: ProviderContext, forCount: boolean, hosted: EncodedHostedTools | undefined): JsonObject {
  const extra = rejectForeignFields(request, provider.name);
  const sampling = request.sampling;
  if (sampling.presencePenalty !== undefined && sampling.presencePenalty !== 0) throw invalidRequest('Anthropic has no presence penalty; remove presence_penalty (or set it to 0).', 'presence_penalty');
  if (sampling.frequencyPenalty !== undefined && sampling.frequencyPenalty !== 0) throw invalidRequest('Anthropic has no frequency penalty; remove frequency_penalty (or set it to 0).', 'frequency_penalty');
  const messages = encodeMessages(request.messages);
  const body: JsonObject = { model };
  const system = systemBlocks(request.messages);
  if (system !== undefined) body.system = system;
  body.messages = messages;
  encodeTools(request, body, hosted);
  const budget = effectiveBudget(request, messages, forCount);
  if (budget === 0) body.thinking = { type: 'disabled' };
  else if (budget !== undefined) body.thinking = { type: 'enabled', budget_tokens: budget };
  const format = request.responseFormat;
  if (format?.type === 'json-schema') body.output_config = { format: { type: 'json_schema', schema: format.schema } };
  if (!forCount) {
    encodeSampling(request, model, budget, body);
    if (request.metadata?.user !== undefined) body.metadata = { user_id: request.metadata.user };
    if (request.stream) body.stream = true;
  }
  if (extra !== undefined) mergeFields(body, extra, forCount);
  return body;
}

const COUNT_FIELDS = new Set(['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking', 'output_config', 'cache_control', 'mcp_servers', 'context_management']);

/** Anthropic fields the surface did not model go back in: lists are appended, objects merged, the rest added. */
function mergeFields(body: JsonObject, extra: JsonObject, forCount: boolean): void {
  for (const [key, value] of Object.entries(extra)) {
    if (forCount && !COUNT_FIELDS.has(key)) continue;
    const present = body[key];
    // the caller's own tool_choice naming a server tool replaces the one built from canonical
    if (present === undefined || key === 'tool_choice') body[key] = value;
    else if (Array.isArray(present) && Array.isArray(value)) body[key] = [...present, ...value];
    else if (isObject(present) && isObject(value)) body[key] = { ...value, ...present };
  }
}

export function encodeMessagesRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest {
  const hosted = encodeHostedTools(request, model, 'anthropic', anthropicHostedTool);
  const body = encodeMessagesBody(request, model, provider, false, hosted);
  return withUnsupported({ path: '/messages', headers: ['accept', request.stream ? 'text/event-stream' : 'application/json'], body: JSON.stringify(body) }, hosted);
}

export function encodeCountTokensRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest {
  const hosted = encodeHostedTools(request, model, 'anthropic', anthropicHostedTool);
  const body = encodeMessagesBody(request, model, provider, true, hosted);
  return withUnsupported({ path: '/messages/count_tokens', headers: ['accept', 'application/json'], body: JSON.stringify(body) }, hosted);
}
