// Ollama `/api/chat` and `/api/generate` requests → canonical request.
//
// Ollama has no tool-call ids: assistant tool calls get deterministic ids (`call_<message>_<n>`)
// and each `tool` message is paired with the earliest unanswered call of the same `tool_name`, so
// providers that check the pairing (OpenAI, Anthropic) see a consistent history.
import type { SurfaceRequest } from '../../canonical/adapters.ts';
import type {
  CanonicalRequest, ContentPart, ImagePart, MediaSource, Message, PassThrough, ReasoningSettings, ResponseFormat, SamplingSettings, ToolDefinition,
} from '../../canonical/request.ts';
import { isObject, type JsonObject, listFrom, objectFrom, shown, stringsFrom, textFrom } from '../../util/json-value.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { requestObject } from './inspect.ts';

/** Options mapped into the canonical sampling settings. */
const SAMPLING_OPTIONS = new Set(['temperature', 'top_p', 'top_k', 'num_predict', 'stop', 'seed', 'presence_penalty', 'frequency_penalty']);
/**
 * Options that decide how a local runner loads the model, not what it generates (and `num_ctx`,
 * whose remote equivalent is the provider's fixed context window): kept for Ollama providers,
 * dropped for others.
 */
export const INERT_OPTIONS: ReadonlySet<string> = new Set(['num_ctx', 'num_batch', 'num_gpu', 'main_gpu', 'low_vram', 'f16_kv', 'logits_all', 'vocab_only', 'use_mmap', 'use_mlock', 'num_thread', 'numa', 'embedding_only']);
/** Top-level fields with no effect on the answer: how long the model stays loaded, context shifting. */
const INERT_FIELDS = new Set(['keep_alive', 'truncate', 'shift']);
const CHAT_FIELDS = new Set(['model', 'messages', 'tools', 'format', 'options', 'stream', 'think']);
const GENERATE_FIELDS = new Set(['model', 'prompt', 'system', 'images', 'format', 'options', 'stream', 'think']);
/** /api/generate fields with no canonical equivalent; only an Ollama provider can honour them. */
const GENERATE_ONLY = new Set(['suffix', 'template', 'raw', 'context']);

const SIGNATURES: readonly [string, string][] = [
  ['iVBORw0KGgo', 'image/png'],
  ['/9j/', 'image/jpeg'],
  ['R0lGOD', 'image/gif'],
  ['UklGR', 'image/webp'],
  ['Qk', 'image/bmp'],
];

/** Ollama images are bare base64 with no media type: the type is read from the magic bytes. */
export function sniffImageType(base64: string): string {
  for (const [prefix, type] of SIGNATURES) if (base64.startsWith(prefix)) return type;
  return 'image/jpeg';
}

function imagePart(value: unknown, param: string): ImagePart {
  if (typeof value !== 'string' || value.length === 0) throw invalidRequest(`invalid ${param}: expected a base64-encoded image`, param);
  const data = /^data:([^;,]+)?;base64,(.*)$/s.exec(value);
  const source: MediaSource = data !== null
    ? { kind: 'base64', mediaType: data[1] ?? sniffImageType(data[2]!), data: data[2]! }
    : { kind: 'base64', mediaType: sniffImageType(value), data: value };
  return { type: 'image', source };
}

function images(value: unknown, param: string): ImagePart[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidRequest(`invalid ${param}: expected an array of base64-encoded images`, param);
  return value.map((image, i) => imagePart(image, `${param}[${i}]`));
}

function text(value: unknown, param: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw invalidRequest(`invalid ${param}: expected a string`, param);
  return value;
}

function argumentsText(value: unknown, param: string): string {
  if (value === undefined || value === null) return '{}';
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidRequest(`invalid ${param}: expected an object`, param);
  return JSON.stringify(value);
}

interface PendingCall { id: string; name: string }

/** Pairs tool results with the calls they answer (Ollama carries only the tool's name). */
class ToolCallLedger {
  private readonly pending: PendingCall[] = [];

  call(id: string, name: string): void {
    this.pending.push({ id, name });
  }

  answer(explicitId: string | undefined, name: string | undefined, messageIndex: number): string {
    if (explicitId !== undefined) {
      const at = this.pending.findIndex((call) => call.id === explicitId);
      if (at >= 0) this.pending.splice(at, 1);
      return explicitId;
    }
    if (this.pending.length === 0) return `call_${messageIndex}_result`;
    const named = name !== undefined ? this.pending.findIndex((call) => call.name === name) : -1;
    // no name, or one no call has: the oldest unanswered call is the best guess
    return this.pending.splice(named < 0 ? 0 : named, 1)[0]!.id;
  }
}

function decodeMessage(message: unknown, i: number, ledger: ToolCallLedger): Message {
  const param = `messages[${i}]`;
  // inspect refused any message that is not an object with a string role
  const raw = objectFrom(message) ?? {};
  const role = textFrom(raw.role).toLowerCase(); // Ollama lower-cases roles
  const content = text(raw.content, `${param}.content`);
  const pictures = images(raw.images, `${param}.images`);
  switch (role) {
    case 'system':
      if (pictures.length > 0) throw invalidRequest(`invalid ${param}.images: images are not allowed in a system message`, `${param}.images`);
      return { role: 'system', content: [{ type: 'text', text: content }] };
    case 'user': {
      const parts: ContentPart[] = [...pictures];
      if (content.length > 0 || parts.length === 0) parts.push({ type: 'text', text: content });
      return { role: 'user', content: parts };
    }
    case 'assistant': {
      const parts: ContentPart[] = [];
      const thinking = text(raw.thinking, `${param}.thinking`);
      if (thinking.length > 0) parts.push({ type: 'reasoning', text: thinking });
      if (content.length > 0) parts.push({ type: 'text', text: content });
      if (pictures.length > 0) throw invalidRequest(`invalid ${param}.images: images are not allowed in an assistant message`, `${param}.images`);
      const calls = raw.tool_calls;
      if (calls !== undefined && calls !== null) {
        if (!Array.isArray(calls)) throw invalidRequest(`invalid ${param}.tool_calls: expected an array`, `${param}.tool_calls`);
        calls.forEach((entry: unknown, j) => {
          const call = objectFrom(entry);
          const fn = objectFrom(call?.function);
          if (typeof fn?.name !== 'string') throw invalidRequest(`invalid ${param}.tool_calls[${j}]: expected function.name`, `${param}.tool_calls[${j}].function.name`);
          const id = typeof call?.id === 'string' && call.id.length > 0 ? call.id : `call_${i}_${j}`;
          ledger.call(id, fn.name);
          parts.push({ type: 'tool-call', id, name: fn.name, arguments: argumentsText(fn.arguments, `${param}.tool_calls[${j}].function.arguments`) });
        });
      }
      return { role: 'assistant', content: parts };
    }
    case 'tool': {
      const explicit = typeof raw.tool_call_id === 'string' && raw.tool_call_id.length > 0 ? raw.tool_call_id : undefined;
      const name = typeof raw.tool_name === 'string' && raw.tool_name.length > 0 ? raw.tool_name : undefined;
      const result: ContentPart[] | string = pictures.length > 0 ? [{ type: 'text', text: content }, ...pictures] : content;
      return { role: 'tool', content: [{ type: 'tool-result', toolCallId: ledger.answer(explicit, name, i), content: result }] };
    }
    default:
      throw invalidRequest(`invalid ${param}.role: '${shown(raw.role)}' (expected system, user, assistant or tool)`, `${param}.role`);
  }
}

/** A tool's parameters: a JSON Schema object, or none declared. */
function parametersOf(value: unknown, i: number): Record<string, unknown> {
  if (value === undefined || value === null) return { type: 'object', properties: {} };
  if (!isObject(value)) throw invalidRequest(`invalid tools[${i}].function.parameters: expected a JSON Schema object, got ${shown(value)}`, `tools[${i}].function.parameters`);
  return value;
}

function decodeTools(raw: unknown): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw invalidRequest('invalid tools: expected an array', 'tools');
  if (raw.length === 0) return undefined;
  return raw.map((entry: unknown, i) => {
    const tool = objectFrom(entry);
    const fn = objectFrom(tool?.function);
    if ((tool?.type !== undefined && tool.type !== 'function') || typeof fn?.name !== 'string') {
      throw invalidRequest(`invalid tools[${i}]: expected {type: 'function', function: {name, parameters}}`, `tools[${i}]`);
    }
    return {
      name: fn.name,
      ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
      parameters: parametersOf(fn.parameters, i),
    };
  });
}

export function decodeFormat(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (raw === 'json') return { type: 'json' };
  if (isObject(raw)) return { type: 'json-schema', name: 'response', schema: raw };
  throw invalidRequest(`invalid format: expected "json" or a JSON schema, got ${JSON.stringify(raw)}`, 'format');
}

export function decodeThink(raw: unknown): ReasoningSettings | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (raw === true) return { includeThoughts: true };
  if (raw === false) return { includeThoughts: false };
  if (raw === 'low' || raw === 'medium' || raw === 'high') return { effort: raw, includeThoughts: true };
  throw invalidRequest(`invalid think: expected true, false, "low", "medium" or "high", got ${JSON.stringify(raw)}`, 'think');
}

function option(options: JsonObject, key: string): number | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`option "${key}" must be of type number`, `options.${key}`);
  return value;
}

/** Sampling options into `sampling`; the others into the pass-through bag as `options.<name>`. */
function decodeOptions(raw: unknown, sampling: SamplingSettings, extra: PassThroughBuilder): void {
  if (raw === undefined || raw === null) return;
  if (!isObject(raw)) throw invalidRequest('invalid options: expected an object', 'options');
  const options = raw;
  const temperature = option(options, 'temperature'); if (temperature !== undefined) sampling.temperature = temperature;
  const topP = option(options, 'top_p'); if (topP !== undefined) sampling.topP = topP;
  const topK = option(options, 'top_k'); if (topK !== undefined) sampling.topK = topK;
  // -1 (infinite) and -2 (fill the context) mean "no limit"
  const predict = option(options, 'num_predict'); if (predict !== undefined && predict > 0) sampling.maxTokens = predict;
  const seed = option(options, 'seed'); if (seed !== undefined) sampling.seed = seed;
  const presence = option(options, 'presence_penalty'); if (presence !== undefined) sampling.presencePenalty = presence;
  const frequency = option(options, 'frequency_penalty'); if (frequency !== undefined) sampling.frequencyPenalty = frequency;
  const stop = options.stop;
  if (typeof stop === 'string') sampling.stop = [stop];
  else if (Array.isArray(stop)) {
    const stops = stringsFrom(stop);
    if (stops === undefined) throw invalidRequest('option "stop" must be an array of strings', 'options.stop');
    if (stops.length > 0) sampling.stop = stops;
  } else if (stop !== undefined && stop !== null) throw invalidRequest('option "stop" must be an array of strings', 'options.stop');
  for (const key of Object.keys(options)) {
    if (SAMPLING_OPTIONS.has(key)) continue;
    if (INERT_OPTIONS.has(key)) extra.inert(`options.${key}`, options[key]);
    else extra.field(`options.${key}`, options[key]);
  }
}

/** Collects unmodelled fields; options are keyed `options.<name>` so a 400 names them exactly. */
class PassThroughBuilder {
  private fields: Record<string, unknown> | undefined = undefined;
  private inertFields: Record<string, unknown> | undefined = undefined;

  field(key: string, value: unknown): void {
    (this.fields ??= {})[key] = value;
  }

  inert(key: string, value: unknown): void {
    (this.inertFields ??= {})[key] = value;
  }

  build(): PassThrough | undefined {
    if (this.fields === undefined && this.inertFields === undefined) return undefined;
    return { dialect: 'ollama', fields: this.fields ?? {}, ...(this.inertFields !== undefined ? { inert: this.inertFields } : {}) };
  }
}

function rest(body: JsonObject, modelled: ReadonlySet<string>, generate: boolean, extra: PassThroughBuilder): void {
  for (const key of Object.keys(body)) {
    if (modelled.has(key) || key === 'options') continue;
    const value = body[key];
    if (value === undefined || value === null) continue;
    if (INERT_FIELDS.has(key)) extra.inert(key, value);
    else if (GENERATE_ONLY.has(key)) {
      // Ollama's /api/chat ignores them; on /api/generate their defaults (no suffix, templating
      // on, no context) need no provider support
      if (!generate) extra.inert(key, value);
      else if (value !== '' && value !== false && !(Array.isArray(value) && value.length === 0)) extra.field(key, value);
    } else extra.field(key, value);
  }
}

function finish(body: JsonObject, request: CanonicalRequest, modelled: ReadonlySet<string>, generate: boolean): CanonicalRequest {
  const extra = new PassThroughBuilder();
  decodeOptions(body.options, request.sampling, extra);
  rest(body, modelled, generate, extra);
  const format = decodeFormat(body.format); if (format !== undefined) request.responseFormat = format;
  const reasoning = decodeThink(body.think); if (reasoning !== undefined) request.reasoning = reasoning;
  const passThrough = extra.build(); if (passThrough !== undefined) request.passThrough = passThrough;
  return request;
}

export function decodeChatRequest(raw: unknown, _request: SurfaceRequest): CanonicalRequest {
  const body = requestObject(raw);
  const list = listFrom(body.messages);
  // Ollama loads the model when there are no messages; only an Ollama provider can do that
  if (list.length === 0) throw invalidRequest('messages: at least one message is required (loading a model with an empty chat only works against an Ollama provider)', 'messages');
  const ledger = new ToolCallLedger();
  const messages = list.map((message, i) => decodeMessage(message, i, ledger));
  const request: CanonicalRequest = { model: textFrom(body.model), messages, sampling: {}, stream: body.stream !== false };
  const tools = decodeTools(body.tools); if (tools !== undefined) request.tools = tools;
  return finish(body, request, CHAT_FIELDS, false);
}

/** A prompt (with an optional system prompt and images) becomes one user turn. */
export function decodeGenerateRequest(raw: unknown, _request: SurfaceRequest): CanonicalRequest {
  const body = requestObject(raw);
  const prompt = text(body.prompt, 'prompt');
  const pictures = images(body.images, 'images');
  if (prompt.length === 0 && pictures.length === 0) throw invalidRequest('prompt: a prompt is required (loading a model with an empty prompt only works against an Ollama provider)', 'prompt');
  const messages: Message[] = [];
  const system = text(body.system, 'system');
  if (system.length > 0) messages.push({ role: 'system', content: [{ type: 'text', text: system }] });
  const parts: ContentPart[] = [...pictures];
  if (prompt.length > 0) parts.push({ type: 'text', text: prompt });
  messages.push({ role: 'user', content: parts });
  const request: CanonicalRequest = { model: textFrom(body.model), messages, sampling: {}, stream: body.stream !== false };
  return finish(body, request, GENERATE_FIELDS, true);
}
