// Gemini GenerateContentRequest → canonical request. Gemini has no tool-call ids: calls in the
// history get stable ids from their position, and each functionResponse is matched to the call
// it answers (by id when the client sent one, else the first unanswered call of that name).
// Thought signatures keep no `provider`: a Gemini client holds whatever signature the upstream
// that answered it gave (Anthropic's too, through this surface), so its origin is unknown here.
import type { SurfaceRequest } from '../../canonical/adapters.ts';
import type {
  CanonicalRequest, ContentPart, HostedTool, HostedToolKind, Message, ReasoningEffort, ReasoningPart, ReasoningSettings, ResponseFormat, ToolDefinition,
} from '../../canonical/request.ts';
import { camel, field, redactedFromSignature } from './fields.ts';
import { jsonSchemaFromGemini } from './schema.ts';
import { describe, isObject, type JsonObject, listFrom, shown, stringsFrom, textFrom } from '../../util/json-value.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import { requestObject } from './inspect.ts';

/** Top-level fields decoded into the canonical request (`model` only names the path's model again). */
const MODELLED = new Set(['contents', 'systemInstruction', 'tools', 'toolConfig', 'generationConfig', 'model']);
/** Google's own safety filters and storage: nothing another provider could apply (docs/translation/gemini.md). */
const INERT = new Set(['safetySettings', 'store', 'labels']);
const GENERATION_MODELLED = new Set([
  'temperature', 'topP', 'topK', 'maxOutputTokens', 'stopSequences', 'seed', 'presencePenalty', 'frequencyPenalty',
  'responseMimeType', 'responseSchema', 'responseJsonSchema', 'thinkingConfig',
]);
const LEVELS: ReadonlySet<string> = new Set<ReasoningEffort>(['minimal', 'low', 'medium', 'high']);

function isLevel(value: string): value is ReasoningEffort {
  return LEVELS.has(value);
}

interface PendingCall { id: string; name: string }

interface Extra {
  fields: Record<string, unknown>;
  inert: Record<string, unknown>;
  serverSide: Record<string, unknown> | undefined;
  hosted: HostedTool[];
}

/**
 * Gemini's own tools that Google runs, by kind: Google Search maps to other providers' web
 * searches; the rest have no equivalent and are left to the `unsupported_tools` policy. Tools the
 * client runs (`computerUse`) are not hosted: another provider refuses them.
 */
const HOSTED_TOOLS: ReadonlyMap<string, HostedToolKind> = new Map<string, HostedToolKind>([
  ['googleSearch', 'web-search'],
  ['googleSearchRetrieval', 'web-search'],
  ['urlContext', 'web-fetch'],
  ['codeExecution', 'code-execution'],
  ['googleMaps', 'other'],
  ['fileSearch', 'other'],
  ['enterpriseWebSearch', 'other'],
  ['retrieval', 'other'],
]);

function hostedTool(kind: string, hostedKind: HostedToolKind, value: unknown): HostedTool {
  const tool: HostedTool = { kind: hostedKind, field: `tools.${kind}`, dialect: 'gemini', raw: { [kind]: value } };
  const excluded = isObject(value) ? stringsFrom(field(value, 'excludeDomains')) : undefined;
  if (excluded !== undefined && excluded.length > 0) tool.blockedDomains = excluded;
  return tool;
}

function num(object: JsonObject, name: string, param: string): number | undefined {
  const value = field(object, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`Invalid '${param}': expected a number, got ${describe(value)}.`, param);
  return value;
}

function stringOf(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

function media(part: JsonObject, where: string): ContentPart | undefined {
  const inline = field(part, 'inlineData');
  if (isObject(inline)) {
    const mimeType = field(inline, 'mimeType');
    if (typeof inline.data !== 'string' || typeof mimeType !== 'string') throw invalidRequest(`Invalid '${where}.inlineData': expected mimeType and base64 data.`, `${where}.inlineData`);
    return mediaPart(mimeType, { kind: 'base64', mediaType: mimeType, data: inline.data });
  }
  const file = field(part, 'fileData');
  if (isObject(file)) {
    const uri = field(file, 'fileUri');
    const mimeType = field(file, 'mimeType');
    if (typeof uri !== 'string') throw invalidRequest(`Invalid '${where}.fileData.fileUri': expected a string.`, `${where}.fileData.fileUri`);
    const type = typeof mimeType === 'string' ? mimeType : 'application/octet-stream';
    return mediaPart(type, { kind: 'url', url: uri, ...(typeof mimeType === 'string' ? { mediaType: mimeType } : {}) });
  }
  return undefined;
}

function mediaPart(mimeType: string, source: Extract<ContentPart, { type: 'image' }>['source']): ContentPart {
  if (mimeType.startsWith('image/')) return { type: 'image', source };
  if (mimeType.startsWith('audio/')) return { type: 'audio', source, format: mimeType.slice(6) };
  return { type: 'file', source };
}

/** Code execution history has no canonical part: it is carried as the text a reader would see. */
function codeText(part: JsonObject): string | undefined {
  const code = field(part, 'executableCode');
  if (isObject(code)) return `\`\`\`${textFrom(code.language).toLowerCase().replace('language_unspecified', '')}\n${textFrom(code.code)}\n\`\`\``;
  const result = field(part, 'codeExecutionResult');
  if (isObject(result)) return `\`\`\`output\n${textFrom(result.output)}\n\`\`\``;
  return undefined;
}

/** `{output}` is the result and `{error}` a failure (Gemini's convention); any other object is the result as JSON. */
function toolResult(response: unknown): { content: string; isError: boolean } {
  if (!isObject(response)) return { content: stringOf(response), isError: false };
  if ('error' in response && !('output' in response)) return { content: stringOf(response.error), isError: true };
  if ('output' in response && Object.keys(response).length === 1) return { content: stringOf(response.output), isError: false };
  return { content: JSON.stringify(response), isError: false };
}

class ContentsDecoder {
  readonly messages: Message[] = [];
  /** Calls of the latest model turn not answered yet, in order. */
  private pending: PendingCall[] = [];

  model(parts: unknown[], i: number): void {
    this.pending = [];
    const content: ContentPart[] = [];
    let run: ReasoningPart | undefined; // consecutive thought parts form one reasoning block
    parts.forEach((raw, j) => {
      const where = `contents[${i}].parts[${j}]`;
      if (!isObject(raw)) throw invalidRequest(`Invalid '${where}': expected an object.`, where);
      const signature = field(raw, 'thoughtSignature');
      // Google's documented placeholder is not a signature: a Gemini provider adds it again where needed
      const signed = typeof signature === 'string' && signature.length > 0 && signature !== 'skip_thought_signature_validator' ? signature : undefined;
      if (raw.thought === true) {
        const text = typeof raw.text === 'string' ? raw.text : '';
        const redacted = signed !== undefined && text.length === 0 ? redactedFromSignature(signed) : undefined;
        if (redacted !== undefined) {
          content.push({ type: 'reasoning', text: '', redactedData: redacted });
          run = undefined;
        } else if (run !== undefined && run.signature === undefined) {
          run.text += text;
          if (signed !== undefined) run.signature = signed;
        } else {
          run = { type: 'reasoning', text, ...(signed !== undefined ? { signature: signed } : {}) };
          content.push(run);
        }
        return;
      }
      run = undefined;
      const call = field(raw, 'functionCall');
      if (isObject(call)) {
        if (typeof call.name !== 'string' || call.name.length === 0) throw invalidRequest(`Invalid '${where}.functionCall.name': expected a string.`, `${where}.functionCall.name`);
        // the signature belongs to the call: it travels just before it
        if (signed !== undefined) content.push({ type: 'reasoning', text: '', signature: signed });
        const id = typeof call.id === 'string' && call.id.length > 0 ? call.id : `call_${i}_${j}`;
        content.push({ type: 'tool-call', id, name: call.name, arguments: JSON.stringify(call.args ?? {}) });
        this.pending.push({ id, name: call.name });
        return;
      }
      if (typeof raw.text === 'string') {
        if (raw.text.length > 0) content.push({ type: 'text', text: raw.text });
        if (signed !== undefined) content.push({ type: 'reasoning', text: '', signature: signed });
        return;
      }
      const code = codeText(raw);
      if (code !== undefined) {
        content.push({ type: 'text', text: code });
        return;
      }
      const item = media(raw, where);
      if (item === undefined) throw invalidRequest(`Invalid '${where}': this part kind cannot be translated.`, where);
      content.push(item);
    });
    this.messages.push({ role: 'assistant', content });
  }

  user(parts: unknown[], i: number): void {
    let userParts: ContentPart[] = [];
    const flush = () => {
      if (userParts.length > 0) this.messages.push({ role: 'user', content: userParts });
      userParts = [];
    };
    parts.forEach((raw, j) => {
      const where = `contents[${i}].parts[${j}]`;
      if (!isObject(raw)) throw invalidRequest(`Invalid '${where}': expected an object.`, where);
      const response = field(raw, 'functionResponse');
      if (isObject(response)) {
        if (typeof response.name !== 'string') throw invalidRequest(`Invalid '${where}.functionResponse.name': expected a string.`, `${where}.functionResponse.name`);
        flush();
        const { content, isError } = toolResult(response.response);
        let result: string | ContentPart[] = content;
        if (Array.isArray(response.parts) && response.parts.length > 0) {
          const withMedia: ContentPart[] = [{ type: 'text', text: content }];
          response.parts.forEach((nested: unknown, k) => {
            const item = isObject(nested) ? media(nested, `${where}.functionResponse.parts[${k}]`) : undefined;
            if (item !== undefined) withMedia.push(item);
          });
          result = withMedia;
        }
        const toolCallId = this.answer(response.id, response.name, i, j);
        this.messages.push({ role: 'tool', content: [{ type: 'tool-result', toolCallId, content: result, ...(isError ? { isError: true } : {}) }] });
        return;
      }
      if (typeof raw.text === 'string') {
        userParts.push({ type: 'text', text: raw.text });
        return;
      }
      const code = codeText(raw);
      if (code !== undefined) {
        userParts.push({ type: 'text', text: code });
        return;
      }
      const item = media(raw, where);
      if (item === undefined) throw invalidRequest(`Invalid '${where}': expected text, inlineData, fileData or functionResponse.`, where);
      userParts.push(item);
    });
    flush();
  }

  /** The id of the call a functionResponse answers. */
  private answer(id: unknown, name: string, i: number, j: number): string {
    const pending = this.pending;
    let at = typeof id === 'string' ? pending.findIndex((call) => call.id === id) : -1;
    if (at < 0) at = pending.findIndex((call) => call.name === name);
    if (at >= 0) return pending.splice(at, 1)[0]!.id;
    return typeof id === 'string' && id.length > 0 ? id : `call_${i}_${j}`;
  }
}

function systemText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (!isObject(raw) || !Array.isArray(raw.parts)) throw invalidRequest("Invalid 'systemInstruction': expected a Content with parts.", 'systemInstruction');
  return raw.parts.map((part: unknown, j) => {
    if (isObject(part) && typeof part.text === 'string') return part.text;
    throw invalidRequest(`Invalid 'systemInstruction.parts[${j}]': only text parts can be translated.`, `systemInstruction.parts[${j}]`);
  }).join('\n');
}

function decodeTools(raw: unknown, extra: Extra): ToolDefinition[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw)) throw invalidRequest("Invalid 'tools': expected an array.", 'tools');
  const tools: ToolDefinition[] = [];
  raw.forEach((tool: unknown, i) => {
    if (!isObject(tool)) throw invalidRequest(`Invalid 'tools[${i}]': expected an object.`, `tools[${i}]`);
    for (const [key, value] of Object.entries(tool)) {
      const kind = camel(key);
      if (kind !== 'functionDeclarations') {
        // googleSearch, codeExecution, urlContext, …: Gemini's own tools
        const hostedKind = HOSTED_TOOLS.get(kind);
        if (hostedKind !== undefined) extra.hosted.push(hostedTool(kind, hostedKind, value));
        else extra.fields[`tools.${kind}`] = value;
        continue;
      }
      if (!Array.isArray(value)) throw invalidRequest(`Invalid 'tools[${i}].functionDeclarations': expected an array.`, `tools[${i}].functionDeclarations`);
      value.forEach((declaration: unknown, j) => {
        const where = `tools[${i}].functionDeclarations[${j}]`;
        if (!isObject(declaration) || typeof declaration.name !== 'string') throw invalidRequest(`Invalid '${where}': expected an object with a name.`, where);
        const jsonSchema = field(declaration, 'parametersJsonSchema');
        const parameters = isObject(jsonSchema) ? jsonSchema
          : isObject(declaration.parameters) ? jsonSchemaFromGemini(declaration.parameters)
          : { type: 'object', properties: {} };
        tools.push({ name: declaration.name, ...(typeof declaration.description === 'string' ? { description: declaration.description } : {}), parameters });
      });
    }
  });
  return tools;
}

function decodeToolConfig(raw: unknown, request: CanonicalRequest, extra: Extra): void {
  if (!isObject(raw)) return;
  for (const [key, value] of Object.entries(raw)) {
    const name = camel(key);
    if (name === 'functionCallingConfig') continue;
    // the location a Google Search or Maps grounding uses: server-side, like the tools it serves
    if (name === 'retrievalConfig') (extra.serverSide ??= {})[`toolConfig.${name}`] = value;
    else extra.fields[`toolConfig.${name}`] = value;
  }
  const config = field(raw, 'functionCallingConfig');
  if (!isObject(config)) return;
  const mode = textFrom(field(config, 'mode'), 'AUTO').toUpperCase();
  const allowed = field(config, 'allowedFunctionNames');
  const names = Array.isArray(allowed) ? allowed.filter((name): name is string => typeof name === 'string') : [];
  switch (mode) {
    case 'AUTO':
    case 'VALIDATED':
    case 'MODE_UNSPECIFIED':
      request.toolChoice = { type: 'auto' };
      break;
    case 'ANY':
      request.toolChoice = names.length === 1 ? { type: 'tool', name: names[0]! } : { type: 'required' };
      break;
    case 'NONE':
      request.toolChoice = { type: 'none' };
      break;
    default:
      throw invalidRequest(`Invalid 'toolConfig.functionCallingConfig.mode': '${mode}'.`, 'toolConfig.functionCallingConfig.mode');
  }
  // a restriction to several functions: the nearest equivalent is to offer only those
  if (names.length > 1 && request.tools !== undefined) request.tools = request.tools.filter((tool) => names.includes(tool.name));
}

function decodeReasoning(raw: unknown): ReasoningSettings | undefined {
  if (!isObject(raw)) return undefined;
  const settings: ReasoningSettings = {};
  const include = field(raw, 'includeThoughts');
  if (typeof include === 'boolean') settings.includeThoughts = include;
  const budget = num(raw, 'thinkingBudget', 'generationConfig.thinkingConfig.thinkingBudget');
  // 0 turns thinking off; -1 asks for a dynamic budget, which is every provider's default
  if (budget === 0) settings.effort = 'none';
  else if (budget !== undefined && budget > 0) settings.budgetTokens = budget;
  const level = field(raw, 'thinkingLevel');
  if (level !== undefined) {
    const value = textFrom(level).toLowerCase();
    if (isLevel(value)) settings.effort = value;
    else if (value !== 'thinking_level_unspecified') throw invalidRequest(`Invalid 'generationConfig.thinkingConfig.thinkingLevel': '${shown(level)}'.`, 'generationConfig.thinkingConfig.thinkingLevel');
  }
  return Object.keys(settings).length > 0 ? settings : undefined;
}

function decodeFormat(config: JsonObject, extra: Extra): ResponseFormat | undefined {
  const mime = field(config, 'responseMimeType');
  const jsonSchema = field(config, 'responseJsonSchema');
  const schema = field(config, 'responseSchema');
  if (mime === undefined && jsonSchema === undefined && schema === undefined) return undefined;
  if (mime === 'text/plain') return { type: 'text' };
  if (mime !== undefined && mime !== 'application/json') {
    // text/x.enum and other output types have no equivalent elsewhere
    extra.fields['generationConfig.responseMimeType'] = mime;
    if (schema !== undefined) extra.fields['generationConfig.responseSchema'] = schema;
    return undefined;
  }
  if (isObject(jsonSchema)) return { type: 'json-schema', name: 'response', schema: lowerCaseSchema(jsonSchema) };
  if (isObject(schema)) return { type: 'json-schema', name: 'response', schema: jsonSchemaFromGemini(schema) };
  return { type: 'json' };
}

function decodeGeneration(raw: unknown, request: CanonicalRequest, extra: Extra): void {
  if (raw === undefined || raw === null) return;
  if (!isObject(raw)) throw invalidRequest(`Invalid 'generationConfig': expected an object, got ${describe(raw)}.`, 'generationConfig');
  const sampling = request.sampling;
  const p = (name: string) => `generationConfig.${name}`;
  const temperature = num(raw, 'temperature', p('temperature')); if (temperature !== undefined) sampling.temperature = temperature;
  const topP = num(raw, 'topP', p('topP')); if (topP !== undefined) sampling.topP = topP;
  const topK = num(raw, 'topK', p('topK')); if (topK !== undefined) sampling.topK = topK;
  const max = num(raw, 'maxOutputTokens', p('maxOutputTokens')); if (max !== undefined) sampling.maxTokens = max;
  const seed = num(raw, 'seed', p('seed')); if (seed !== undefined) sampling.seed = seed;
  const presence = num(raw, 'presencePenalty', p('presencePenalty')); if (presence !== undefined) sampling.presencePenalty = presence;
  const frequency = num(raw, 'frequencyPenalty', p('frequencyPenalty')); if (frequency !== undefined) sampling.frequencyPenalty = frequency;
  const stop = field(raw, 'stopSequences');
  if (stop !== undefined && stop !== null) {
    const stops = stringsFrom(stop);
    if (stops === undefined) throw invalidRequest(`Invalid '${p('stopSequences')}': expected an array of strings.`, p('stopSequences'));
    if (stops.length > 0) sampling.stop = stops;
  }
  const format = decodeFormat(raw, extra); if (format !== undefined) request.responseFormat = format;
  const reasoning = decodeReasoning(field(raw, 'thinkingConfig')); if (reasoning !== undefined) request.reasoning = reasoning;
  for (const [key, value] of Object.entries(raw)) {
    const name = camel(key);
    if (GENERATION_MODELLED.has(name)) continue;
    // one candidate and text output are what every provider gives anyway
    if (name === 'candidateCount' && value === 1) continue;
    if (name === 'responseModalities' && Array.isArray(value) && value.every((modality) => textFrom(modality).toUpperCase() === 'TEXT')) continue;
    if (name === 'responseLogprobs' && value === false) continue;
    extra.fields[`generationConfig.${name}`] = value;
  }
}

export function decodeGenerateRequest(raw: unknown, surfaceRequest: SurfaceRequest, stream: boolean): CanonicalRequest {
  const body = requestObject(raw);
  const request: CanonicalRequest = { model: surfaceRequest.params.model ?? '', messages: [], sampling: {}, stream };
  const extra: Extra = { fields: {}, inert: {}, serverSide: undefined, hosted: [] };
  const system = field(body, 'systemInstruction');
  if (system !== undefined && system !== null) {
    const text = systemText(system);
    if (text.length > 0) request.messages.push({ role: 'system', content: [{ type: 'text', text }] });
  }
  const contents = new ContentsDecoder();
  // inspect checked the contents, a list
  listFrom(field(body, 'contents')).forEach((content: unknown, i) => {
    if (!isObject(content)) throw invalidRequest(`Invalid 'contents[${i}]': expected an object.`, `contents[${i}]`);
    const parts = content.parts;
    if (!Array.isArray(parts)) throw invalidRequest(`Invalid 'contents[${i}].parts': expected an array.`, `contents[${i}].parts`);
    const role = content.role ?? 'user';
    if (role === 'model') contents.model(parts, i);
    else if (role === 'user' || role === 'function') contents.user(parts, i);
    else throw invalidRequest(`Invalid 'contents[${i}].role': '${shown(role)}' (expected 'user' or 'model').`, `contents[${i}].role`);
  });
  for (const message of contents.messages) request.messages.push(message);
  const tools = decodeTools(field(body, 'tools'), extra);
  if (tools !== undefined && tools.length > 0) request.tools = tools;
  if (extra.hosted.length > 0) request.hostedTools = extra.hosted;
  decodeToolConfig(field(body, 'toolConfig'), request, extra);
  decodeGeneration(field(body, 'generationConfig'), request, extra);
  for (const [key, value] of Object.entries(body)) {
    const name = camel(key);
    if (MODELLED.has(name)) continue;
    if (INERT.has(name)) extra.inert[name] = value;
    else extra.fields[name] = value;
  }
  const hasFields = Object.keys(extra.fields).length > 0;
  const hasInert = Object.keys(extra.inert).length > 0;
  const serverSide = extra.serverSide;
  if (hasFields || hasInert || serverSide !== undefined) {
    request.passThrough = { dialect: 'gemini', fields: extra.fields, ...(hasInert ? { inert: extra.inert } : {}), ...(serverSide !== undefined ? { serverSide } : {}) };
  }
  return request;
}

/** Gemini accepts OpenAPI's upper-case type names (`OBJECT`) even in JSON Schema; other providers do not. */
function lowerCaseTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowerCaseTypes);
  return isObject(schema) ? lowerCaseSchema(schema) : schema;
}

function lowerCaseSchema(schema: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'type' && typeof value === 'string') out[key] = value.toLowerCase();
    else if (key === 'type' && Array.isArray(value)) out[key] = value.map((entry) => (typeof entry === 'string' ? entry.toLowerCase() : entry));
    else if (key === 'properties' && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, lowerCaseTypes(sub)]));
    else out[key] = typeof value === 'object' && value !== null ? lowerCaseTypes(value) : value;
  }
  return out;
}
