// OpenAI Chat Completions request → canonical request.
import type { SurfaceRequest } from '../../../canonical/adapters.ts';
import { invalidRequest } from '../../../canonical/errors.ts';
import { type JsonObject, listFrom, objectFrom, shown, textFrom } from '../../../util/json-value.ts';
import type {
  CanonicalRequest, ContentPart, HostedTool, Message, ResponseFormat, ToolChoice, ToolDefinition,
} from '../../../canonical/request.ts';
import { requestObject } from '../inspect.ts';
import { isEffort, mediaFromUrl, NO_PARAMETERS, num, schemaOf, userLocationOf } from '../fields.ts';

/** Fields mapped into the canonical request, or that only steer this surface (stream_options). */
const MODELLED = new Set([
  'model', 'messages', 'tools', 'tool_choice', 'parallel_tool_calls', 'temperature', 'top_p', 'top_k', 'max_tokens',
  'max_completion_tokens', 'stop', 'seed', 'presence_penalty', 'frequency_penalty', 'response_format', 'reasoning_effort',
  'reasoning', 'stream', 'stream_options', 'user', 'prompt_cache_key', 'safety_identifier', 'web_search_options',
]);
/**
 * Fields with no effect on what a model generates, dropped when the provider speaks another
 * dialect (documented in docs/translation.md); `n` only when it is 1.
 */
const INERT = new Set(['store', 'metadata', 'service_tier', 'n', 'logit_bias']);

function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw invalidRequest(`Invalid '${param}': expected a string or an array of content parts.`, param);
  return content.map((entry: unknown, i) => {
    const part = objectFrom(entry);
    if (part?.type === 'text' && typeof part.text === 'string') return part.text;
    if (part?.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
    throw invalidRequest(`Invalid '${param}[${i}]': only text parts are allowed here.`, `${param}[${i}]`);
  }).join('');
}

function userParts(content: unknown, param: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalidRequest(`Invalid '${param}': expected a string or an array of content parts.`, param);
  return content.map((entry: unknown, i): ContentPart => {
    const part = objectFrom(entry);
    const where = `${param}[${i}]`;
    switch (part?.type) {
      case 'text':
        if (typeof part.text !== 'string') throw invalidRequest(`Invalid '${where}.text': expected a string.`, `${where}.text`);
        return { type: 'text', text: part.text };
      case 'image_url': {
        const image = objectFrom(part.image_url);
        if (typeof image?.url !== 'string') throw invalidRequest(`Invalid '${where}.image_url.url': expected a string.`, `${where}.image_url.url`);
        const detail = image.detail;
        return { type: 'image', source: mediaFromUrl(image.url), ...(detail === 'low' || detail === 'high' || detail === 'auto' ? { detail } : {}) };
      }
      case 'input_audio': {
        const audio = objectFrom(part.input_audio);
        if (typeof audio?.data !== 'string') throw invalidRequest(`Invalid '${where}.input_audio.data': expected base64 text.`, `${where}.input_audio.data`);
        const format = typeof audio.format === 'string' ? audio.format : 'wav';
        return { type: 'audio', source: { kind: 'base64', mediaType: `audio/${format}`, data: audio.data }, format };
      }
      case 'file': {
        const file = objectFrom(part.file);
        if (typeof file?.file_data === 'string') {
          const source = mediaFromUrl(file.file_data);
          return { type: 'file', source, ...(typeof file.filename === 'string' ? { filename: file.filename } : {}) };
        }
        throw invalidRequest(`Invalid '${where}.file': only inline file_data can be translated (file_id refers to OpenAI's storage).`, `${where}.file`);
      }
      default:
        throw invalidRequest(`Invalid '${where}.type': '${shown(part?.type)}' is not a known content part type.`, `${where}.type`);
    }
  });
}

/** Reasoning carried in OpenAI-style history: `reasoning_details` (with signatures) or plain text. */
function reasoningParts(message: JsonObject): ContentPart[] {
  const details = message.reasoning_details;
  if (Array.isArray(details) && details.length > 0) {
    const parts: ContentPart[] = [];
    for (const entry of details) {
      const detail = objectFrom(entry);
      if (detail?.type === 'reasoning.encrypted' && typeof detail.data === 'string') parts.push({ type: 'reasoning', text: '', redactedData: detail.data });
      else if (detail?.type === 'reasoning.text' || detail?.type === 'reasoning.summary') {
        const text = typeof detail.text === 'string' ? detail.text : typeof detail.summary === 'string' ? detail.summary : '';
        parts.push({ type: 'reasoning', text, ...(typeof detail.signature === 'string' ? { signature: detail.signature } : {}) });
      }
    }
    return parts;
  }
  const text = typeof message.reasoning_content === 'string' ? message.reasoning_content : typeof message.reasoning === 'string' ? message.reasoning : '';
  return text.length > 0 ? [{ type: 'reasoning', text }] : [];
}

function decodeMessage(raw: unknown, i: number): Message {
  const param = `messages[${i}]`;
  // inspect refused any message that is not an object with a string role
  const message = objectFrom(raw) ?? {};
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: [{ type: 'text', text: textOf(message.content, `${param}.content`) }] };
    case 'user':
      return { role: 'user', content: userParts(message.content, `${param}.content`), ...(typeof message.name === 'string' ? { name: message.name } : {}) };
    case 'assistant': {
      const content: ContentPart[] = reasoningParts(message);
      const text = textOf(message.content, `${param}.content`);
      if (text.length > 0) content.push({ type: 'text', text });
      const calls = message.tool_calls;
      if (calls !== undefined && calls !== null) {
        if (!Array.isArray(calls)) throw invalidRequest(`Invalid '${param}.tool_calls': expected an array.`, `${param}.tool_calls`);
        calls.forEach((entry: unknown, j) => {
          const call = objectFrom(entry);
          const fn = objectFrom(call?.function);
          if (typeof call?.id !== 'string' || typeof fn?.name !== 'string') throw invalidRequest(`Invalid '${param}.tool_calls[${j}]': expected id and function.name.`, `${param}.tool_calls[${j}]`);
          content.push({ type: 'tool-call', id: call.id, name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}) });
        });
      }
      return { role: 'assistant', content };
    }
    case 'tool': {
      if (typeof message.tool_call_id !== 'string') throw invalidRequest(`Missing '${param}.tool_call_id'.`, `${param}.tool_call_id`);
      const content = typeof message.content === 'string' ? message.content : userParts(message.content, `${param}.content`);
      return { role: 'tool', content: [{ type: 'tool-result', toolCallId: message.tool_call_id, content }] };
    }
    case 'function':
      return { role: 'tool', content: [{ type: 'tool-result', toolCallId: textFrom(message.name), content: textOf(message.content, `${param}.content`) }] };
    default:
      throw invalidRequest(`Invalid '${param}.role': '${shown(message.role)}'.`, `${param}.role`);
  }
}

function decodeTools(raw: unknown): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw invalidRequest("Invalid 'tools': expected an array.", 'tools');
  return raw.map((entry: unknown, i) => {
    const tool = objectFrom(entry);
    const fn = objectFrom(tool?.function);
    if (tool?.type !== 'function' || typeof fn?.name !== 'string') throw invalidRequest(`Invalid 'tools[${i}]': expected {type: 'function', function: {name, parameters}}.`, `tools[${i}]`);
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      parameters: schemaOf(fn.parameters, `tools[${i}].function.parameters`, NO_PARAMETERS),
      ...(typeof fn.strict === 'boolean' ? { strict: fn.strict } : {}),
    };
  });
}

function decodeToolChoice(raw: unknown): ToolChoice | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'auto' || raw === 'none' || raw === 'required') return { type: raw };
  const name = objectFrom(objectFrom(raw)?.function)?.name;
  if (typeof name === 'string') return { type: 'tool', name };
  throw invalidRequest("Invalid 'tool_choice'.", 'tool_choice');
}

function decodeResponseFormat(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  const format = objectFrom(raw);
  if (format?.type === 'text') return { type: 'text' };
  if (format?.type === 'json_object') return { type: 'json' };
  if (format?.type === 'json_schema') {
    const schema = objectFrom(format.json_schema);
    if (typeof schema?.name !== 'string') throw invalidRequest("Invalid 'response_format.json_schema.name'.", 'response_format.json_schema.name');
    return {
      type: 'json-schema', name: schema.name, schema: schemaOf(schema.schema, 'response_format.json_schema.schema', {}),
      ...(typeof schema.strict === 'boolean' ? { strict: schema.strict } : {}),
      ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    };
  }
  throw invalidRequest(`Invalid 'response_format.type': '${shown(format?.type)}'.`, 'response_format.type');
}

/** `web_search_options` (OpenAI's search models): a hosted web search, mapped for other providers. */
function decodeWebSearch(raw: unknown): HostedTool | undefined {
  if (raw === undefined || raw === null) return undefined;
  const options = objectFrom(raw);
  if (options === undefined) throw invalidRequest("Invalid 'web_search_options': expected an object.", 'web_search_options');
  const tool: HostedTool = { kind: 'web-search', field: 'web_search_options', dialect: 'openai', raw: options };
  const size = options.search_context_size;
  if (size === 'low' || size === 'medium' || size === 'high') tool.searchContextSize = size;
  const location = userLocationOf(options.user_location);
  if (location !== undefined) tool.userLocation = location;
  return tool;
}

export function decodeChatRequest(raw: unknown, _request: SurfaceRequest): CanonicalRequest {
  const body = requestObject(raw);
  // inspect checked the model, a string, and the messages, a list
  const messages = listFrom(body.messages).map(decodeMessage);
  const stop = body.stop;
  const request: CanonicalRequest = {
    model: textFrom(body.model),
    messages,
    sampling: {},
    stream: body.stream === true,
  };
  const sampling = request.sampling;
  const temperature = num(body, 'temperature'); if (temperature !== undefined) sampling.temperature = temperature;
  const topP = num(body, 'top_p'); if (topP !== undefined) sampling.topP = topP;
  const topK = num(body, 'top_k'); if (topK !== undefined) sampling.topK = topK;
  const maxTokens = num(body, 'max_completion_tokens') ?? num(body, 'max_tokens'); if (maxTokens !== undefined) sampling.maxTokens = maxTokens;
  const seed = num(body, 'seed'); if (seed !== undefined) sampling.seed = seed;
  const presence = num(body, 'presence_penalty'); if (presence !== undefined) sampling.presencePenalty = presence;
  const frequency = num(body, 'frequency_penalty'); if (frequency !== undefined) sampling.frequencyPenalty = frequency;
  if (typeof stop === 'string') sampling.stop = [stop];
  else if (Array.isArray(stop)) sampling.stop = stop.filter((value): value is string => typeof value === 'string');
  const tools = decodeTools(body.tools); if (tools !== undefined) request.tools = tools;
  const toolChoice = decodeToolChoice(body.tool_choice); if (toolChoice !== undefined) request.toolChoice = toolChoice;
  const webSearch = decodeWebSearch(body.web_search_options); if (webSearch !== undefined) request.hostedTools = [webSearch];
  if (typeof body.parallel_tool_calls === 'boolean') request.parallelToolCalls = body.parallel_tool_calls;
  const format = decodeResponseFormat(body.response_format); if (format !== undefined) request.responseFormat = format;
  const effort = body.reasoning_effort ?? objectFrom(body.reasoning)?.effort;
  const budget = objectFrom(body.reasoning)?.max_tokens;
  if (effort !== undefined || budget !== undefined) {
    if (effort !== undefined && !isEffort(effort)) throw invalidRequest(`Invalid 'reasoning_effort': '${shown(effort)}'.`, 'reasoning_effort');
    request.reasoning = {
      ...(effort !== undefined ? { effort } : {}),
      ...(typeof budget === 'number' ? { budgetTokens: budget } : {}),
      includeThoughts: true,
    };
  }
  const user = typeof body.user === 'string' ? body.user : typeof body.safety_identifier === 'string' ? body.safety_identifier : undefined;
  const sessionId = typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : undefined;
  if (user !== undefined || sessionId !== undefined) request.metadata = { ...(user !== undefined ? { user } : {}), ...(sessionId !== undefined ? { sessionId } : {}) };
  const extra: Record<string, unknown> = {};
  let hasExtra = false;
  for (const key of Object.keys(body)) {
    if (MODELLED.has(key)) continue;
    if (INERT.has(key) && !(key === 'n' && body.n !== 1 && body.n !== null)) continue;
    extra[key] = body[key];
    hasExtra = true;
  }
  if (hasExtra) request.passThrough = { dialect: 'openai', fields: extra };
  if (objectFrom(body.stream_options)?.include_usage === true) request.surfaceHints = { includeUsage: true };
  return request;
}
