// Canonical request → Gemini GenerateContentRequest. Gemini has no tool-call ids: a tool result
// names its function, found from the call it answers in the history. Thought signatures travel
// in canonical reasoning parts and go back on the part Gemini attached them to.
import type { ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import type {
  CanonicalRequest, ContentPart, HostedTool, MediaSource, Message, PassThrough, ReasoningEffort, ReasoningPart, ReasoningSettings, ToolResultPart,
} from '../../canonical/request.ts';
import { geminiParameters, geminiResponseSchema } from './schema.ts';
import { isObject, type JsonObject, objectFrom } from '../../util/json-value.ts';
import { encodeHostedTools } from '../common/hosted-tools.ts';
import { withLoadedTools } from '../common/deferred-tools.ts';
import { ownPassThrough } from '../common/foreign-fields.ts';

/**
 * Fields from a Gemini caller are merged (server-side ones too); another dialect's cannot be
 * expressed (400), its inert ones are dropped (its server-side ones are left to the unsupported_tools policy).
 */
export function geminiExtras(passThrough: PassThrough | undefined, provider: string): { fields: JsonObject; inert: JsonObject } | undefined {
  const own = ownPassThrough(passThrough, 'gemini', provider);
  if (own === undefined) return undefined;
  return { fields: own.serverSide === undefined ? own.fields : { ...own.serverSide, ...own.fields }, inert: own.inert ?? {} };
}

/** `models/{model}` or `tunedModels/{model}`: the resource name Gemini bodies use. */
export function modelResource(model: string): string {
  return model.startsWith('tunedModels/') || model.startsWith('models/') ? model : `models/${model}`;
}

/** The path of a model under the base URL (`/models/gemini-2.5-flash`). */
export function modelPath(model: string): string {
  const resource = modelResource(model);
  const slash = resource.indexOf('/');
  return `/${resource.slice(0, slash)}/${encodeURIComponent(resource.slice(slash + 1))}`;
}

/** Gemini 3 rejects a function call of the current turn that has no signature (docs: thought signatures). */
function requiresSignatures(model: string): boolean {
  return /gemini-(?:[3-9]|\d{2,})/.test(model) || /^(?:models\/)?gemini-(?:flash|pro|flash-lite)-latest$/.test(model);
}

/** Google's documented placeholder for calls made by another model (history moved to Gemini). */
const SKIP_SIGNATURE = 'skip_thought_signature_validator';

function media(source: MediaSource, fallbackType: string): JsonObject {
  if (source.kind === 'base64') return { inlineData: { mimeType: source.mediaType, data: source.data } };
  // Gemini fetches no URL except its own file URIs; other URLs were inlined by the pipeline
  return { fileData: { mimeType: source.mediaType ?? fallbackType, fileUri: source.url } };
}

/** A signature Gemini can verify: ours, or one of unknown origin (sent on verbatim). */
function signatureOf(part: ReasoningPart): string | undefined {
  if (part.signature === undefined || part.signature.length === 0) return undefined;
  return part.provider === undefined || part.provider === 'gemini' ? part.signature : undefined;
}

function parseArguments(text: string, param: string): JsonObject {
  if (text.trim().length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest(`Invalid '${param}': the tool call's arguments are not JSON, and Gemini takes them as an object.`, param);
  }
  if (!isObject(value)) throw invalidRequest(`Invalid '${param}': Gemini takes a tool call's arguments as a JSON object.`, param);
  return value;
}

interface GeminiContent {
  role: 'user' | 'model';
  parts: JsonObject[];
}

class ContentsEncoder {
  readonly contents: GeminiContent[] = [];
  readonly system: string[] = [];
  /** tool-call id → function name, from the whole history */
  private readonly calls = new Map<string, string>();
  private readonly toolNames: ReadonlySet<string>;
  private readonly signaturesRequired: boolean;

  constructor(request: CanonicalRequest, model: string) {
    for (const message of request.messages) for (const part of message.content) if (part.type === 'tool-call') this.calls.set(part.id, part.name);
    this.toolNames = new Set((request.tools ?? []).map((tool) => tool.name));
    this.signaturesRequired = requiresSignatures(model);
  }

  private push(role: 'user' | 'model', parts: JsonObject[]): void {
    if (parts.length === 0) return;
    const last = this.contents.at(-1);
    if (last !== undefined && last.role === role) last.parts.push(...parts);
    else this.contents.push({ role, parts });
  }

  message(message: Message, i: number): void {
    const where = `messages[${i}]`;
    switch (message.role) {
      case 'system':
        this.system.push(message.content.map((part, j) => {
          if (part.type === 'text') return part.text;
          throw invalidRequest(`Invalid '${where}.content[${j}]': a Gemini system instruction holds text only.`, `${where}.content[${j}]`);
        }).join('\n'));
        return;
      case 'assistant':
        this.push('model', this.modelParts(message.content, where));
        return;
      case 'user':
      case 'tool':
        this.push('user', this.userParts(message.content, where));
        return;
    }
  }

  private userParts(content: readonly ContentPart[], where: string): JsonObject[] {
    const parts: JsonObject[] = [];
    content.forEach((part, j) => {
      switch (part.type) {
        case 'text': parts.push({ text: part.text }); break;
        case 'image': parts.push(media(part.source, 'image/png')); break;
        case 'audio': parts.push(media(part.source, `audio/${part.format ?? 'wav'}`)); break;
        case 'file': parts.push(media(part.source, 'application/pdf')); break;
        case 'tool-result': parts.push(...this.functionResponse(part, `${where}.content[${j}]`)); break;
        case 'reasoning': break; // a caller's own thinking is not the model's
        case 'tool-call': throw invalidRequest(`Invalid '${where}.content[${j}]': a tool call belongs to an assistant message.`, `${where}.content[${j}]`);
      }
    });
    return parts;
  }

  private functionResponse(part: ToolResultPart, where: string): JsonObject[] {
    const name = this.calls.get(part.toolCallId) ?? (this.toolNames.has(part.toolCallId) ? part.toolCallId : undefined);
    if (name === undefined) {
      throw invalidRequest(`Invalid '${where}': the tool result answers '${part.toolCallId}', a call the conversation does not contain; Gemini needs the function's name.`, where);
    }
    const texts: string[] = [];
    const extra: JsonObject[] = [];
    if (typeof part.content === 'string') texts.push(part.content);
    else {
      for (const item of part.content) {
        if (item.type === 'text') texts.push(item.text);
        else if (item.type === 'image' || item.type === 'file' || item.type === 'audio') extra.push(media(item.source, 'application/octet-stream'));
      }
    }
    const text = texts.join('\n');
    // Gemini's convention: `output` for a result, `error` for a failure
    return [{ functionResponse: { name, response: part.isError === true ? { error: text } : { output: text } } }, ...extra];
  }

  /**
   * A signature in an empty reasoning part goes back on the part Gemini attached it to: the call
   * right after it (how the decoders carry call signatures), else the text right before it; when
   * neither is next to it (a caller that moved its reasoning ahead of the text) it goes to the
   * turn's first unsigned call, else to the next text, else alone as a signature-only part.
   */
  private modelParts(content: readonly ContentPart[], where: string): JsonObject[] {
    const parts: JsonObject[] = [];
    const hasCalls = content.some((part) => part.type === 'tool-call');
    const queue: string[] = [];
    let callSignature: string | undefined;
    let textSignature: string | undefined;
    let firstCall = true;
    content.forEach((part, j) => {
      switch (part.type) {
        case 'reasoning': {
          if (part.redactedData !== undefined) break; // another provider's opaque thinking: Gemini cannot read it
          const signature = signatureOf(part);
          if (part.text.length > 0) {
            parts.push({ text: part.text, thought: true, ...(signature !== undefined ? { thoughtSignature: signature } : {}) });
            break;
          }
          if (signature === undefined) break;
          const previous = parts.at(-1);
          if (content[j + 1]?.type === 'tool-call') callSignature = signature;
          else if (content[j - 1]?.type === 'text' && previous !== undefined && previous.functionCall === undefined && previous.thought !== true && previous.thoughtSignature === undefined) previous.thoughtSignature = signature;
          else if (hasCalls) queue.push(signature);
          else if (content[j + 1]?.type === 'text') textSignature = signature;
          else parts.push({ text: '', thoughtSignature: signature });
          break;
        }
        case 'text':
          if (part.text.length === 0) break;
          parts.push({ text: part.text, ...(textSignature !== undefined ? { thoughtSignature: textSignature } : {}) });
          textSignature = undefined;
          break;
        case 'tool-call': {
          let signature = callSignature ?? queue.shift();
          callSignature = undefined;
          if (signature === undefined && firstCall && this.signaturesRequired) signature = SKIP_SIGNATURE;
          firstCall = false;
          const args = parseArguments(part.arguments, `${where}.content[${j}].arguments`);
          parts.push({ functionCall: { name: part.name, args }, ...(signature !== undefined ? { thoughtSignature: signature } : {}) });
          break;
        }
        case 'image': parts.push(media(part.source, 'image/png')); break;
        case 'audio': parts.push(media(part.source, `audio/${part.format ?? 'wav'}`)); break;
        case 'file': parts.push(media(part.source, 'application/pdf')); break;
        case 'tool-result': throw invalidRequest(`Invalid '${where}.content[${j}]': a tool result belongs to a user or tool message.`, `${where}.content[${j}]`);
      }
    });
    for (const signature of queue) parts.push({ text: '', thoughtSignature: signature });
    return parts;
  }
}

/** Effort → thinking budget, as Google maps OpenAI's reasoning_effort on its compatible endpoint. */
export const EFFORT_BUDGETS: Readonly<Record<ReasoningEffort, number>> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24_576, xhigh: 24_576 };
/**
 * Effort → Gemini 3 thinking level. Gemini 3 cannot turn thinking off (`none` is its least), and
 * its Pro models know only `low` and `high`; Flash models also `minimal` and `medium`.
 */
export const EFFORT_LEVELS: Readonly<Record<ReasoningEffort, string>> = { none: 'minimal', minimal: 'minimal', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };
export const PRO_EFFORT_LEVELS: Readonly<Record<ReasoningEffort, string>> = { none: 'low', minimal: 'low', low: 'low', medium: 'high', high: 'high', xhigh: 'high' };

function thinkingConfig(reasoning: ReasoningSettings, model: string): JsonObject | undefined {
  const config: JsonObject = {};
  if (reasoning.budgetTokens !== undefined) config.thinkingBudget = reasoning.budgetTokens;
  else if (reasoning.effort !== undefined) {
    if (requiresSignatures(model)) config.thinkingLevel = (/flash/.test(model) ? EFFORT_LEVELS : PRO_EFFORT_LEVELS)[reasoning.effort];
    else config.thinkingBudget = EFFORT_BUDGETS[reasoning.effort];
  }
  const off = config.thinkingBudget === 0;
  const include = reasoning.includeThoughts ?? !off;
  if (include && !off) config.includeThoughts = true;
  return Object.keys(config).length > 0 ? config : undefined;
}

function mergeExtras(body: JsonObject, generation: JsonObject, values: JsonObject): void {
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith('tools.')) {
      const tool = { [key.slice(6)]: value };
      if (Array.isArray(body.tools)) body.tools.push(tool);
      else body.tools = [tool];
    } else if (key.startsWith('generationConfig.')) {
      generation[key.slice(17)] ??= value;
    } else if (key.startsWith('toolConfig.')) {
      let config = objectFrom(body.toolConfig);
      if (config === undefined) body.toolConfig = config = {};
      config[key.slice(11)] ??= value;
    } else if (!(key in body)) body[key] = value;
  }
}

/**
 * A web search of another dialect → Grounding with Google Search. Gemini restricts no domains, and
 * Google Search alongside function calling needs the server-side invocation history Gemini 3 keeps
 * (`includeServerSideToolInvocations`), which the gateway does not carry: only a request without
 * function tools gets it.
 */
export function geminiHostedTool(tool: HostedTool, request: CanonicalRequest): JsonObject | undefined {
  if (tool.kind !== 'web-search' || (request.tools !== undefined && request.tools.length > 0)) return undefined;
  if ((tool.allowedDomains?.length ?? 0) > 0 || (tool.blockedDomains?.length ?? 0) > 0) return undefined;
  return { googleSearch: {} };
}

/** The GenerateContentRequest body (also wrapped by countTokens), and what it left out. */
export function encodeGenerateBody(request: CanonicalRequest, model: string, provider: ProviderContext): { body: JsonObject; unsupported: string[] | undefined } {
  request = withLoadedTools(request); // deferred tools: those the conversation has loaded
  const extras = geminiExtras(request.passThrough, provider.name);
  const hosted = encodeHostedTools(request, model, 'gemini', geminiHostedTool);
  const encoder = new ContentsEncoder(request, model);
  request.messages.forEach((message, i) => encoder.message(message, i));
  const body: JsonObject = { contents: encoder.contents };
  if (encoder.system.length > 0) body.systemInstruction = { parts: [{ text: encoder.system.join('\n\n') }] };
  if (request.tools !== undefined && request.tools.length > 0) {
    body.tools = [{
      functionDeclarations: request.tools.map((tool) => {
        const parameters = geminiParameters(tool.parameters);
        return { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), ...(parameters !== undefined ? { parameters } : {}) };
      }),
    }];
  }
  if (hosted !== undefined && hosted.tools.length > 0) body.tools = Array.isArray(body.tools) ? [...body.tools, ...hosted.tools] : hosted.tools;
  const choice = request.toolChoice;
  if (choice !== undefined && request.tools !== undefined && request.tools.length > 0) {
    const mode = choice.type === 'auto' ? 'AUTO' : choice.type === 'none' ? 'NONE' : 'ANY';
    body.toolConfig = { functionCallingConfig: { mode, ...(choice.type === 'tool' ? { allowedFunctionNames: [choice.name] } : {}) } };
  }
  const generation: JsonObject = {};
  const sampling = request.sampling;
  if (sampling.temperature !== undefined) generation.temperature = sampling.temperature;
  if (sampling.topP !== undefined) generation.topP = sampling.topP;
  if (sampling.topK !== undefined) generation.topK = sampling.topK;
  if (sampling.maxTokens !== undefined) generation.maxOutputTokens = sampling.maxTokens;
  if (sampling.stop !== undefined && sampling.stop.length > 0) generation.stopSequences = sampling.stop;
  if (sampling.seed !== undefined) generation.seed = sampling.seed;
  if (sampling.presencePenalty !== undefined) generation.presencePenalty = sampling.presencePenalty;
  if (sampling.frequencyPenalty !== undefined) generation.frequencyPenalty = sampling.frequencyPenalty;
  const format = request.responseFormat;
  if (format !== undefined && format.type !== 'text') {
    generation.responseMimeType = 'application/json';
    if (format.type === 'json-schema') {
      const schema = geminiResponseSchema(format.schema);
      if (schema !== undefined) generation.responseSchema = schema;
    }
  }
  if (request.reasoning !== undefined) {
    const thinking = thinkingConfig(request.reasoning, model);
    if (thinking !== undefined) generation.thinkingConfig = thinking;
  }
  if (extras !== undefined) {
    mergeExtras(body, generation, extras.fields);
    mergeExtras(body, generation, extras.inert);
  }
  if (Object.keys(generation).length > 0) body.generationConfig = generation;
  return { body, unsupported: hosted !== undefined && hosted.unsupported.length > 0 ? hosted.unsupported : undefined };
}

export function encodeGenerateRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest {
  const { body, unsupported } = encodeGenerateBody(request, model, provider);
  const path = `${modelPath(model)}:${request.stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
  const upstream: UpstreamRequest = { path, headers: ['accept', request.stream ? 'text/event-stream' : 'application/json'], body: JSON.stringify(body) };
  if (unsupported !== undefined) upstream.unsupported = unsupported;
  return upstream;
}
