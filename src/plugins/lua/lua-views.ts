// The Lua-facing views of the canonical request, response and stream parts, and how a hook's
// changes are written back (docs/plugins-lua.md describes the shapes).
//
// Cost: a request hook on the hot path has 15 µs. `req` is built with `model` and `stream` only;
// `messages`, `params`, `tools` and `metadata` are filled in by the `__index` metamethod the first
// time the script reads them, so a hook that looks at the model alone never pays for the messages.
// Every table the host builds is remembered by address (and kept alive in an anchor table for the
// call), so on the way back a table the script kept maps onto the canonical object it came from:
// unchanged messages and parts are reused as they are, and fields Lua never sees (an image's
// bytes, cache-control marks, signatures) survive.
import type { ContentPart, Message, Role, SamplingSettings, ToolDefinition, CanonicalRequest } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import type { Usage } from '../../canonical/usage.ts';
import type { AttemptInfo, CompletionSummary, PluginContext, PluginErrorInfo } from '../api.ts';
import { LUA_REGISTRYINDEX, LuaType, type LuaRuntime } from './lua-runtime.ts';
import { LuaPluginError } from './lua-errors.ts';
import { pushValue, readValue } from './lua-values.ts';

const ROLES: ReadonlySet<string> = new Set<Role>(['system', 'user', 'assistant', 'tool']);
const FINISH_REASONS: ReadonlySet<string> = new Set<FinishReason>(['stop', 'length', 'tool-calls', 'content-filter', 'error', 'other']);
export const LAZY_REQUEST_FIELDS: ReadonlySet<string> = new Set(['messages', 'params', 'tools', 'metadata']);

/** What one hook call built: the canonical objects behind its tables, by table address. */
export class ViewTracker {
  readonly originals = new Map<number, object>();
  /** Registry reference of the anchor table that keeps the tracked tables alive (0: none yet). */
  anchor = 0;
  private anchored = 0;
  readonly runtime: LuaRuntime;

  constructor(runtime: LuaRuntime) {
    this.runtime = runtime;
  }

  /** Remembers the table on top of the stack as the view of `original`. */
  track(L: number, original: object): void {
    const api = this.runtime.api;
    if (this.anchor === 0) {
      api.lua_createtable(L, 16, 0);
      this.anchor = api.luaL_ref(L, LUA_REGISTRYINDEX);
    }
    this.originals.set(api.lua_topointer(L, -1), original);
    api.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.anchor));
    api.lua_pushvalue(L, -2);
    api.lua_rawseti(L, -2, BigInt(++this.anchored));
    api.lua_settop(L, -2);
  }

  original(L: number, index: number): object | undefined {
    if (this.originals.size === 0) return undefined;
    return this.originals.get(this.runtime.api.lua_topointer(L, index));
  }

  release(L: number): void {
    if (this.anchor !== 0) this.runtime.api.luaL_unref(L, LUA_REGISTRYINDEX, this.anchor);
    this.anchor = 0;
    this.anchored = 0;
    this.originals.clear();
  }
}

// ---- small readers and writers ------------------------------------------------------------------

function setString(runtime: LuaRuntime, L: number, key: string, value: string | undefined): void {
  if (value === undefined) return;
  runtime.pushString(L, value);
  runtime.setField(L, -2, key);
}

function setNumber(runtime: LuaRuntime, L: number, key: string, value: number | undefined): void {
  if (value === undefined) return;
  runtime.pushNumber(L, value);
  runtime.setField(L, -2, key);
}

function setBoolean(runtime: LuaRuntime, L: number, key: string, value: boolean | undefined): void {
  if (value === undefined) return;
  runtime.api.lua_pushboolean(L, value ? 1 : 0);
  runtime.setField(L, -2, key);
}

/**
 * Pushes t[key] of the table at `index`; returns its type. Keys are interned C strings; the one
 * table with a metatable, the request view, answers only its lazy fields through it (rawField).
 */
function field(runtime: LuaRuntime, L: number, index: number, key: string): number {
  return runtime.api.lua_getfield(L, index, runtime.key(key));
}

/** Pushes t[key] of the table at `index` without metamethods; returns its type. */
function rawField(runtime: LuaRuntime, L: number, index: number, key: string): number {
  const table = index < 0 && index > LUA_REGISTRYINDEX ? runtime.api.lua_gettop(L) + index + 1 : index;
  runtime.pushString(L, key);
  return runtime.api.lua_rawget(L, table);
}

function stringField(runtime: LuaRuntime, L: number, index: number, key: string, where: string): string | undefined {
  const type = field(runtime, L, index, key);
  let value: string | undefined;
  if (type === LuaType.String) value = runtime.readString(L, -1);
  else if (type === LuaType.Number) value = String(runtime.readNumber(L, -1));
  else if (type !== LuaType.Nil) {
    runtime.api.lua_settop(L, -2);
    throw new LuaPluginError(`${where}.${key} must be a string`);
  }
  runtime.api.lua_settop(L, -2);
  return value;
}

function numberField(runtime: LuaRuntime, L: number, index: number, key: string, where: string): number | undefined {
  const type = field(runtime, L, index, key);
  let value: number | undefined;
  if (type === LuaType.Number) value = runtime.readNumber(L, -1);
  else if (type !== LuaType.Nil) {
    runtime.api.lua_settop(L, -2);
    throw new LuaPluginError(`${where}.${key} must be a number`);
  }
  runtime.api.lua_settop(L, -2);
  return value;
}

function booleanField(runtime: LuaRuntime, L: number, index: number, key: string): boolean | undefined {
  const type = field(runtime, L, index, key);
  const value = type === LuaType.Nil ? undefined : runtime.api.lua_toboolean(L, -1) !== 0;
  runtime.api.lua_settop(L, -2);
  return value;
}

function listLength(runtime: LuaRuntime, L: number, index: number): number {
  return Number(runtime.api.lua_rawlen(L, index));
}

function pushUsage(runtime: LuaRuntime, L: number, usage: Usage): void {
  runtime.api.lua_createtable(L, 0, 5);
  setNumber(runtime, L, 'input_tokens', usage.inputTokens);
  setNumber(runtime, L, 'output_tokens', usage.outputTokens);
  setNumber(runtime, L, 'cached_input_tokens', usage.cachedInputTokens);
  setNumber(runtime, L, 'cache_write_input_tokens', usage.cacheWriteInputTokens);
  setNumber(runtime, L, 'reasoning_tokens', usage.reasoningTokens);
}

// ---- content ---------------------------------------------------------------------------------

/** The string view of a message's content: only when it is exactly one text part. */
function textOnly(content: readonly ContentPart[]): string | undefined {
  const first = content[0];
  return content.length === 1 && first !== undefined && first.type === 'text' ? first.text : undefined;
}

function pushPart(tracker: ViewTracker, L: number, part: ContentPart): void {
  const runtime = tracker.runtime;
  runtime.api.lua_createtable(L, 0, 4);
  tracker.track(L, part);
  setString(runtime, L, 'type', part.type);
  switch (part.type) {
    case 'text':
    case 'reasoning':
      setString(runtime, L, 'text', part.text);
      break;
    case 'image':
      if (part.source.kind === 'url') setString(runtime, L, 'url', part.source.url);
      setString(runtime, L, 'media_type', part.source.mediaType);
      break;
    case 'audio':
      setString(runtime, L, 'format', part.format);
      break;
    case 'file':
      setString(runtime, L, 'filename', part.filename);
      setString(runtime, L, 'media_type', part.source.mediaType);
      break;
    case 'tool-call':
      setString(runtime, L, 'id', part.id);
      setString(runtime, L, 'name', part.name);
      setString(runtime, L, 'arguments', part.arguments);
      break;
    case 'tool-result':
      setString(runtime, L, 'tool_call_id', part.toolCallId);
      setBoolean(runtime, L, 'is_error', part.isError);
      if (typeof part.content === 'string') setString(runtime, L, 'content', part.content);
      else pushContent(tracker, L, part.content), runtime.setField(L, -2, 'content');
      break;
    case 'hosted-tool-call':
      setString(runtime, L, 'id', part.id);
      setString(runtime, L, 'name', part.name);
      setString(runtime, L, 'kind', part.kind);
      break;
    case 'hosted-tool-result':
      setString(runtime, L, 'call_id', part.callId);
      setString(runtime, L, 'kind', part.kind);
      break;
  }
}

/** Pushes a content list: a string when it is one text part, else a list of part tables. */
function pushContent(tracker: ViewTracker, L: number, content: readonly ContentPart[]): void {
  const text = textOnly(content);
  if (text !== undefined) {
    tracker.runtime.pushString(L, text);
    return;
  }
  const api = tracker.runtime.api;
  api.lua_createtable(L, content.length, 0);
  for (let i = 0; i < content.length; i++) {
    pushPart(tracker, L, content[i]!);
    api.lua_rawseti(L, -2, BigInt(i + 1));
  }
}

function withText<T extends { text: string; citations?: unknown }>(part: T, text: string): T {
  if (part.text === text) return part;
  const changed = { ...part, text };
  // citation offsets point into the old text
  delete changed.citations;
  return changed;
}

function readPart(tracker: ViewTracker, L: number, index: number, where: string): ContentPart {
  const runtime = tracker.runtime;
  if (runtime.api.lua_type(L, index) !== LuaType.Table) throw new LuaPluginError(`${where} must be a table`);
  const original = tracker.original(L, index) as ContentPart | undefined;
  const type = stringField(runtime, L, index, 'type', where) ?? 'text';
  if (original !== undefined && original.type === type) {
    switch (original.type) {
      case 'text':
      case 'reasoning':
        return withText(original, stringField(runtime, L, index, 'text', where) ?? '');
      case 'tool-call': {
        const name = stringField(runtime, L, index, 'name', where) ?? original.name;
        const args = stringField(runtime, L, index, 'arguments', where) ?? original.arguments;
        return name === original.name && args === original.arguments ? original : { ...original, name, arguments: args };
      }
      case 'tool-result': {
        const contentType = field(runtime, L, index, 'content');
        let content: string | ContentPart[] = original.content;
        if (contentType === LuaType.String) content = runtime.readString(L, -1);
        else if (contentType === LuaType.Table) content = readContent(tracker, L, -1, typeof original.content === 'string' ? undefined : original.content, `${where}.content`);
        runtime.api.lua_settop(L, -2);
        return content === original.content ? original : { ...original, content };
      }
      default:
        return original;
    }
  }
  if (type === 'text') return { type: 'text', text: stringField(runtime, L, index, 'text', where) ?? '' };
  if (type === 'image') {
    const url = stringField(runtime, L, index, 'url', where);
    if (url === undefined) throw new LuaPluginError(`${where}: a new image part needs a url`);
    const mediaType = stringField(runtime, L, index, 'media_type', where);
    return { type: 'image', source: mediaType === undefined ? { kind: 'url', url } : { kind: 'url', url, mediaType } };
  }
  throw new LuaPluginError(`${where}: a plugin can add parts of type "text" or "image" (with a url), not "${type}"`);
}

/** Reads content (a string or a list of parts) at `index` back into canonical parts. */
function readContent(tracker: ViewTracker, L: number, index: number, original: readonly ContentPart[] | undefined, where: string): ContentPart[] {
  const runtime = tracker.runtime;
  const api = runtime.api;
  const type = api.lua_type(L, index);
  if (type === LuaType.String || type === LuaType.Number) {
    const text = type === LuaType.String ? runtime.readString(L, index) : String(runtime.readNumber(L, index));
    if (original !== undefined && textOnly(original) !== undefined) {
      const part = original[0] as Extract<ContentPart, { type: 'text' }>;
      return part.text === text ? (original as ContentPart[]) : [withText(part, text)];
    }
    return [{ type: 'text', text }];
  }
  if (type === LuaType.Nil) return [];
  if (type !== LuaType.Table) throw new LuaPluginError(`${where} must be a string or a list of parts`);
  const table = index < 0 ? api.lua_gettop(L) + index + 1 : index;
  const length = listLength(runtime, L, table);
  const parts: ContentPart[] = new Array<ContentPart>(length);
  let same = original !== undefined && original.length === length;
  for (let i = 0; i < length; i++) {
    api.lua_rawgeti(L, table, BigInt(i + 1));
    parts[i] = readPart(tracker, L, -1, `${where}[${i + 1}]`);
    api.lua_settop(L, -2);
    if (same && parts[i] !== original![i]) same = false;
  }
  return same ? (original as ContentPart[]) : parts;
}

// ---- request ---------------------------------------------------------------------------------

/** The request a hook call works on, with what its view built. */
export class RequestView {
  request: CanonicalRequest = { model: '', messages: [], sampling: {}, stream: false };
  readonly tracker: ViewTracker;
  constructor(tracker: ViewTracker) {
    this.tracker = tracker;
  }
}

/** Pushes `req` with its eager fields; the lazy ones come from `materializeRequestField`. */
export function pushRequestView(runtime: LuaRuntime, L: number, request: CanonicalRequest, metatableRef: number): void {
  const api = runtime.api;
  api.lua_createtable(L, 0, 6);
  setString(runtime, L, 'model', request.model);
  setBoolean(runtime, L, 'stream', request.stream);
  api.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(metatableRef));
  api.lua_setmetatable(L, -2);
}

/** Pushes the value of a lazy field of `req` (nil when the request has none). */
export function pushRequestField(view: RequestView, L: number, field: string): void {
  const runtime = view.tracker.runtime;
  const api = runtime.api;
  const request = view.request;
  switch (field) {
    case 'messages': {
      const messages = request.messages;
      api.lua_createtable(L, messages.length, 0);
      for (let i = 0; i < messages.length; i++) {
        const message = messages[i]!;
        api.lua_createtable(L, 0, 3);
        view.tracker.track(L, message);
        setString(runtime, L, 'role', message.role);
        pushContent(view.tracker, L, message.content);
        runtime.setField(L, -2, 'content');
        setString(runtime, L, 'name', message.name);
        api.lua_rawseti(L, -2, BigInt(i + 1));
      }
      return;
    }
    case 'params': {
      const sampling = request.sampling;
      api.lua_createtable(L, 0, 8);
      setNumber(runtime, L, 'temperature', sampling.temperature);
      setNumber(runtime, L, 'top_p', sampling.topP);
      setNumber(runtime, L, 'top_k', sampling.topK);
      setNumber(runtime, L, 'max_tokens', sampling.maxTokens);
      setNumber(runtime, L, 'seed', sampling.seed);
      setNumber(runtime, L, 'presence_penalty', sampling.presencePenalty);
      setNumber(runtime, L, 'frequency_penalty', sampling.frequencyPenalty);
      if (sampling.stop !== undefined) {
        pushValue(runtime, L, sampling.stop);
        runtime.setField(L, -2, 'stop');
      }
      return;
    }
    case 'tools': {
      const tools = request.tools ?? [];
      api.lua_createtable(L, tools.length, 0);
      for (let i = 0; i < tools.length; i++) {
        const tool = tools[i]!;
        api.lua_createtable(L, 0, 4);
        view.tracker.track(L, tool);
        setString(runtime, L, 'name', tool.name);
        setString(runtime, L, 'description', tool.description);
        setBoolean(runtime, L, 'strict', tool.strict);
        pushValue(runtime, L, tool.parameters);
        runtime.setField(L, -2, 'parameters');
        api.lua_rawseti(L, -2, BigInt(i + 1));
      }
      return;
    }
    case 'metadata': {
      api.lua_createtable(L, 0, 2);
      setString(runtime, L, 'user', request.metadata?.user);
      setString(runtime, L, 'session_id', request.metadata?.sessionId);
      return;
    }
    default:
      api.lua_pushnil(L);
  }
}

function readMessages(view: RequestView, L: number, index: number): Message[] {
  const runtime = view.tracker.runtime;
  const api = runtime.api;
  const length = listLength(runtime, L, index);
  const messages: Message[] = new Array<Message>(length);
  let same = length === view.request.messages.length;
  for (let i = 0; i < length; i++) {
    const where = `req.messages[${i + 1}]`;
    api.lua_rawgeti(L, index, BigInt(i + 1));
    if (api.lua_type(L, -1) !== LuaType.Table) throw new LuaPluginError(`${where} must be a table`);
    const original = view.tracker.original(L, -1) as Message | undefined;
    const role = stringField(runtime, L, -1, 'role', where) ?? original?.role ?? 'user';
    if (!ROLES.has(role)) throw new LuaPluginError(`${where}.role must be system, user, assistant or tool, not "${role}"`);
    field(runtime, L, -1, 'content');
    const content = readContent(view.tracker, L, -1, original?.content, `${where}.content`);
    api.lua_settop(L, -2);
    const name = stringField(runtime, L, -1, 'name', where);
    api.lua_settop(L, -2);
    if (original !== undefined && original.role === role && original.content === content && original.name === name) {
      messages[i] = original;
    } else {
      messages[i] = name === undefined ? { role: role as Role, content } : { role: role as Role, content, name };
    }
    if (same && messages[i] !== view.request.messages[i]) same = false;
  }
  return same ? view.request.messages : messages;
}

function readParams(runtime: LuaRuntime, L: number, index: number): SamplingSettings {
  const sampling: SamplingSettings = {};
  const where = 'req.params';
  const temperature = numberField(runtime, L, index, 'temperature', where);
  if (temperature !== undefined) sampling.temperature = temperature;
  const topP = numberField(runtime, L, index, 'top_p', where);
  if (topP !== undefined) sampling.topP = topP;
  const topK = numberField(runtime, L, index, 'top_k', where);
  if (topK !== undefined) sampling.topK = topK;
  const maxTokens = numberField(runtime, L, index, 'max_tokens', where);
  if (maxTokens !== undefined) sampling.maxTokens = maxTokens;
  const seed = numberField(runtime, L, index, 'seed', where);
  if (seed !== undefined) sampling.seed = seed;
  const presence = numberField(runtime, L, index, 'presence_penalty', where);
  if (presence !== undefined) sampling.presencePenalty = presence;
  const frequency = numberField(runtime, L, index, 'frequency_penalty', where);
  if (frequency !== undefined) sampling.frequencyPenalty = frequency;
  const stopType = field(runtime, L, index, 'stop');
  if (stopType === LuaType.String) sampling.stop = [runtime.readString(L, -1)];
  else if (stopType === LuaType.Table) {
    const stop = readValue(runtime, L, -1);
    if (!Array.isArray(stop) || !stop.every((item) => typeof item === 'string')) throw new LuaPluginError('req.params.stop must be a list of strings');
    sampling.stop = stop;
  }
  runtime.api.lua_settop(L, -2);
  return sampling;
}

function sameSampling(a: SamplingSettings, b: SamplingSettings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof SamplingSettings>;
  for (const key of keys) {
    if (key === 'stop') {
      if (JSON.stringify(a.stop) !== JSON.stringify(b.stop)) return false;
    } else if (a[key] !== b[key]) return false;
  }
  return true;
}

function readTools(view: RequestView, L: number, index: number): ToolDefinition[] {
  const runtime = view.tracker.runtime;
  const api = runtime.api;
  const length = listLength(runtime, L, index);
  const tools: ToolDefinition[] = [];
  for (let i = 0; i < length; i++) {
    const where = `req.tools[${i + 1}]`;
    api.lua_rawgeti(L, index, BigInt(i + 1));
    if (api.lua_type(L, -1) !== LuaType.Table) throw new LuaPluginError(`${where} must be a table`);
    const original = view.tracker.original(L, -1) as ToolDefinition | undefined;
    const name = stringField(runtime, L, -1, 'name', where);
    if (name === undefined || name === '') throw new LuaPluginError(`${where}.name is required`);
    const description = stringField(runtime, L, -1, 'description', where);
    const strict = booleanField(runtime, L, -1, 'strict');
    field(runtime, L, -1, 'parameters');
    const parameters = readValue(runtime, L, -1);
    api.lua_settop(L, -2);
    const tool: ToolDefinition = { ...original, name, parameters: parameters !== null && typeof parameters === 'object' && !Array.isArray(parameters) ? (parameters as Record<string, unknown>) : {} };
    if (description === undefined) delete tool.description;
    else tool.description = description;
    if (strict === undefined) delete tool.strict;
    else tool.strict = strict;
    tools.push(tool);
    api.lua_settop(L, -2);
  }
  return tools;
}

/**
 * Writes the table at `index` (the view itself or a table the script built) back onto the request.
 * A field absent from the table (`rawget` nil: never read, or a new table without it) is left as it was.
 */
export function readRequestView(view: RequestView, L: number, index: number): void {
  const runtime = view.tracker.runtime;
  const api = runtime.api;
  const request = view.request;
  const model = stringField(runtime, L, index, 'model', 'req');
  let messages: Message[] | undefined;
  if (rawField(runtime, L, index, 'messages') === LuaType.Table) messages = readMessages(view, L, api.lua_gettop(L));
  api.lua_settop(L, -2);
  let sampling: SamplingSettings | undefined;
  if (rawField(runtime, L, index, 'params') === LuaType.Table) sampling = readParams(runtime, L, api.lua_gettop(L));
  api.lua_settop(L, -2);
  let tools: ToolDefinition[] | undefined;
  const toolsType = rawField(runtime, L, index, 'tools');
  if (toolsType === LuaType.Table) tools = readTools(view, L, api.lua_gettop(L));
  api.lua_settop(L, -2);
  let user: string | undefined;
  let sessionId: string | undefined;
  const hasMetadata = rawField(runtime, L, index, 'metadata') === LuaType.Table;
  if (hasMetadata) {
    user = stringField(runtime, L, -1, 'user', 'req.metadata');
    sessionId = stringField(runtime, L, -1, 'session_id', 'req.metadata');
  }
  api.lua_settop(L, -2);
  // everything read: now change the request
  if (model !== undefined && model !== '') request.model = model;
  if (messages !== undefined && messages !== request.messages) request.messages = messages;
  if (sampling !== undefined && !sameSampling(sampling, request.sampling)) request.sampling = sampling;
  if (tools !== undefined) {
    if (tools.length === 0) delete request.tools;
    else request.tools = tools;
  }
  if (hasMetadata) {
    if (user === undefined && sessionId === undefined) delete request.metadata;
    else request.metadata = { ...(user === undefined ? {} : { user }), ...(sessionId === undefined ? {} : { sessionId }) };
  }
}

// ---- response --------------------------------------------------------------------------------

export function pushResponseView(tracker: ViewTracker, L: number, response: CanonicalResponse): void {
  const runtime = tracker.runtime;
  runtime.api.lua_createtable(L, 0, 6);
  setString(runtime, L, 'id', response.id);
  setString(runtime, L, 'model', response.model);
  setNumber(runtime, L, 'created', response.created);
  pushContent(tracker, L, response.content);
  runtime.setField(L, -2, 'content');
  setString(runtime, L, 'finish_reason', response.finishReason);
  pushUsage(runtime, L, response.usage);
  runtime.setField(L, -2, 'usage');
}

const RESPONSE_PART_TYPES: ReadonlySet<string> = new Set(['text', 'reasoning', 'tool-call', 'hosted-tool-call', 'hosted-tool-result']);

/** Writes the table at `index` back onto the response (content, model, finish_reason); absent fields stay. */
export function readResponseView(tracker: ViewTracker, L: number, index: number, response: CanonicalResponse): void {
  const runtime = tracker.runtime;
  const model = stringField(runtime, L, index, 'model', 'res');
  const finishReason = stringField(runtime, L, index, 'finish_reason', 'res');
  if (finishReason !== undefined && !FINISH_REASONS.has(finishReason)) throw new LuaPluginError(`res.finish_reason must be one of ${[...FINISH_REASONS].join(', ')}`);
  let content: ContentPart[] | undefined;
  if (field(runtime, L, index, 'content') !== LuaType.Nil) content = readContent(tracker, L, -1, response.content, 'res.content');
  runtime.api.lua_settop(L, -2);
  if (content !== undefined) {
    for (const part of content) {
      if (!RESPONSE_PART_TYPES.has(part.type)) throw new LuaPluginError(`res.content cannot hold a part of type "${part.type}"`);
    }
    response.content = content as ResponsePart[];
  }
  if (model !== undefined && model !== '') response.model = model;
  if (finishReason !== undefined) response.finishReason = finishReason as FinishReason;
}

// ---- stream parts ----------------------------------------------------------------------------

export function pushStreamPartView(runtime: LuaRuntime, L: number, part: StreamPart): void {
  runtime.api.lua_createtable(L, 0, 4);
  setString(runtime, L, 'type', part.type);
  switch (part.type) {
    case 'response-start':
      setString(runtime, L, 'id', part.id);
      setString(runtime, L, 'model', part.model);
      setNumber(runtime, L, 'created', part.created);
      return;
    case 'text-delta':
    case 'reasoning-delta':
      setNumber(runtime, L, 'index', part.index);
      setString(runtime, L, 'delta', part.delta);
      return;
    case 'tool-call-start':
      setNumber(runtime, L, 'index', part.index);
      setString(runtime, L, 'id', part.id);
      setString(runtime, L, 'name', part.name);
      return;
    case 'tool-call-delta':
      setNumber(runtime, L, 'index', part.index);
      setString(runtime, L, 'arguments_delta', part.argumentsDelta);
      return;
    case 'usage':
      pushUsage(runtime, L, part.usage);
      runtime.setField(L, -2, 'usage');
      return;
    case 'response-end':
      setString(runtime, L, 'finish_reason', part.finishReason);
      if (part.usage !== undefined) pushUsage(runtime, L, part.usage), runtime.setField(L, -2, 'usage');
      return;
    case 'error':
      setString(runtime, L, 'code', part.error.code);
      setString(runtime, L, 'message', part.error.message);
      return;
    default:
      setNumber(runtime, L, 'index', part.index);
  }
}

/** One stream part from the table at `index`: the view (edited or not) or a new text/reasoning/arguments delta. */
function readStreamPart(runtime: LuaRuntime, L: number, index: number, viewIndex: number, original: StreamPart, where: string): StreamPart {
  const api = runtime.api;
  if (api.lua_type(L, index) !== LuaType.Table) throw new LuaPluginError(`${where} must be a table`);
  const type = stringField(runtime, L, index, 'type', where) ?? original.type;
  if (api.lua_rawequal(L, index, viewIndex) !== 0 || type === original.type) {
    switch (original.type) {
      case 'text-delta':
      case 'reasoning-delta': {
        if (type !== original.type) break;
        const delta = stringField(runtime, L, index, 'delta', where) ?? '';
        return delta === original.delta ? original : { ...original, delta };
      }
      case 'tool-call-delta': {
        if (type !== original.type) break;
        const argumentsDelta = stringField(runtime, L, index, 'arguments_delta', where) ?? '';
        return argumentsDelta === original.argumentsDelta ? original : { ...original, argumentsDelta };
      }
      default:
        if (type === original.type) return original;
    }
  }
  const partIndex = numberField(runtime, L, index, 'index', where) ?? ('index' in original ? original.index : 0);
  switch (type) {
    case 'text-delta':
    case 'reasoning-delta':
      return { type, index: partIndex, delta: stringField(runtime, L, index, 'delta', where) ?? '' };
    case 'tool-call-delta':
      return { type, index: partIndex, argumentsDelta: stringField(runtime, L, index, 'arguments_delta', where) ?? '' };
    default:
      throw new LuaPluginError(`${where}: a plugin can make stream parts of type text-delta, reasoning-delta or tool-call-delta, not "${type}"`);
  }
}

/**
 * What a stream hook returned (at `index`; the part's view at `viewIndex`): undefined to keep the
 * part, null to drop it, a part or a list of parts to put in its place.
 */
export function readStreamResult(runtime: LuaRuntime, L: number, index: number, viewIndex: number, original: StreamPart): StreamPart | StreamPart[] | null | undefined {
  const api = runtime.api;
  const type = api.lua_type(L, index);
  if (type === LuaType.Nil) return undefined;
  if (type === LuaType.Boolean) {
    if (api.lua_toboolean(L, index) === 0) return null;
    return undefined;
  }
  if (type !== LuaType.Table) throw new LuaPluginError('on_stream_event must return nil, false, a part or a list of parts');
  if (api.lua_rawequal(L, index, viewIndex) === 0 && api.lua_rawgeti(L, index, 1n) === LuaType.Table) {
    api.lua_settop(L, -2);
    const length = listLength(runtime, L, index);
    const parts: StreamPart[] = [];
    for (let i = 0; i < length; i++) {
      api.lua_rawgeti(L, index, BigInt(i + 1));
      parts.push(readStreamPart(runtime, L, api.lua_gettop(L), viewIndex, original, `part[${i + 1}]`));
      api.lua_settop(L, -2);
    }
    return parts;
  }
  if (api.lua_rawequal(L, index, viewIndex) === 0) api.lua_settop(L, -2);
  const part = readStreamPart(runtime, L, index, viewIndex, original, 'part');
  return part === original ? undefined : part;
}

// ---- completion summary and context ----------------------------------------------------------

export function pushSummary(runtime: LuaRuntime, L: number, summary: CompletionSummary): void {
  runtime.api.lua_createtable(L, 0, 16);
  setString(runtime, L, 'request_id', summary.requestId);
  setNumber(runtime, L, 'status', summary.status);
  setString(runtime, L, 'key_id', summary.keyId);
  setString(runtime, L, 'model', summary.model);
  setString(runtime, L, 'provider', summary.provider);
  setString(runtime, L, 'upstream_model', summary.upstreamModel);
  setBoolean(runtime, L, 'stream', summary.stream);
  setNumber(runtime, L, 'attempts', summary.attempts);
  if (summary.usage !== undefined) pushUsage(runtime, L, summary.usage), runtime.setField(L, -2, 'usage');
  setNumber(runtime, L, 'cost_usd', summary.costUsd);
  setNumber(runtime, L, 'duration_ms', summary.durationMs);
  setNumber(runtime, L, 'first_byte_ms', summary.firstByteMs);
  setBoolean(runtime, L, 'cached', summary.cached);
  setBoolean(runtime, L, 'aborted', summary.aborted);
  if (summary.error !== undefined) pushValue(runtime, L, summary.error), runtime.setField(L, -2, 'error');
}

/**
 * The optional second argument of a hook: what the request is, besides its body, and `state`, an
 * empty table for the script. Made once per request (the caller keeps it for the request's hooks).
 */
export function pushContext(runtime: LuaRuntime, L: number, ctx: PluginContext): void {
  const api = runtime.api;
  api.lua_createtable(L, 0, 8);
  setString(runtime, L, 'request_id', ctx.requestId);
  setString(runtime, L, 'key_id', ctx.keyId);
  setString(runtime, L, 'model', ctx.model);
  setString(runtime, L, 'dialect', ctx.dialect);
  setString(runtime, L, 'surface', ctx.surface);
  setString(runtime, L, 'path', ctx.path);
  setBoolean(runtime, L, 'stream', ctx.stream);
  api.lua_createtable(L, 0, 0);
  runtime.setField(L, -2, 'state');
}

// ---- attempt and error ---------------------------------------------------------------------------

export function pushAttempt(runtime: LuaRuntime, L: number, attempt: AttemptInfo): void {
  runtime.api.lua_createtable(L, 0, 5);
  setString(runtime, L, 'provider', attempt.provider);
  setString(runtime, L, 'model', attempt.model);
  setString(runtime, L, 'dialect', attempt.dialect);
  setNumber(runtime, L, 'attempt', attempt.attempt);
  pushValue(runtime, L, attempt.headers);
  runtime.setField(L, -2, 'headers');
}

/**
 * The `headers` of the attempt table an on_attempt hook returned (at `index`), written into
 * `headers`: a string value sets the header (names are case-insensitive). The plugin host keeps
 * credentials and framing headers out, as for a JS hook.
 */
export function readAttemptHeaders(runtime: LuaRuntime, L: number, index: number, headers: Record<string, string>): void {
  const api = runtime.api;
  const type = field(runtime, L, index, 'headers');
  if (type === LuaType.Nil) {
    api.lua_settop(L, -2);
    return;
  }
  if (type !== LuaType.Table) throw new LuaPluginError('on_attempt: attempt.headers must be a table of header names to values');
  const table = api.lua_gettop(L);
  api.lua_pushnil(L);
  while (api.lua_next(L, table) !== 0) {
    const valueType = api.lua_type(L, -1);
    if (api.lua_type(L, -2) !== LuaType.String || (valueType !== LuaType.String && valueType !== LuaType.Number)) {
      api.lua_settop(L, table - 1);
      throw new LuaPluginError('on_attempt: attempt.headers must map header names (strings) to strings');
    }
    const value = valueType === LuaType.String ? runtime.readString(L, -1) : String(runtime.readNumber(L, -1));
    headers[runtime.readString(L, -2).toLowerCase()] = value;
    api.lua_settop(L, -2);
  }
  api.lua_settop(L, table - 1);
}

export function pushErrorInfo(runtime: LuaRuntime, L: number, error: PluginErrorInfo): void {
  runtime.api.lua_createtable(L, 0, 3);
  setNumber(runtime, L, 'status', error.status);
  setString(runtime, L, 'code', error.code);
  setString(runtime, L, 'message', error.message);
}

/** What an on_error hook returned (at `index`): nil keeps the error; a table's `status` and `message` replace it (the code stays). */
export function readErrorResult(runtime: LuaRuntime, L: number, index: number, error: PluginErrorInfo): PluginErrorInfo | undefined {
  const type = runtime.api.lua_type(L, index);
  if (type === LuaType.Nil) return undefined;
  if (type !== LuaType.Table) throw new LuaPluginError('on_error must return nil or a table { status, message }');
  const status = numberField(runtime, L, index, 'status', 'error');
  const message = stringField(runtime, L, index, 'message', 'error');
  return { status: status ?? error.status, code: error.code, message: message ?? error.message };
}
