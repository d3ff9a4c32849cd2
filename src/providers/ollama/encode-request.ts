// Canonical request → Ollama `/api/chat` (or `/api/generate` for a prompt that carries
// generate-only fields such as `suffix`).
import type { ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import { invalidRequest } from '../../canonical/errors.ts';
import type { CanonicalRequest, ContentPart, Message, PassThrough, ReasoningSettings, ToolDefinition } from '../../canonical/request.ts';
import { isObject, type JsonObject, objectFrom } from '../../util/json-value.ts';
import { encodeHostedTools, noHostedTool, withUnsupported } from '../common/hosted-tools.ts';
import { withLoadedTools } from '../common/deferred-tools.ts';
import { ownPassThrough } from '../common/foreign-fields.ts';

/** `/api/generate` fields with no canonical equivalent, carried from an Ollama caller. */
const GENERATE_ONLY = ['suffix', 'template', 'raw', 'context'];

/**
 * The unmodelled fields to merge: all of them from an Ollama caller, none from another dialect
 * (a 400 names those that would change the answer; inert ones are dropped).
 */
export function ollamaExtras(passThrough: PassThrough | undefined, provider: string): JsonObject | undefined {
  const own = ownPassThrough(passThrough, 'ollama', provider);
  return own === undefined ? undefined : { ...own.inert, ...own.fields };
}

/** Merges extras into the body; `options.<name>` keys go into `options`. */
export function mergeExtras(body: JsonObject, extras: JsonObject | undefined): void {
  if (extras === undefined) return;
  for (const [key, value] of Object.entries(extras)) {
    if (key.startsWith('options.')) {
      let options = objectFrom(body.options);
      if (options === undefined) body.options = options = {};
      const name = key.slice('options.'.length);
      if (!(name in options)) options[name] = value;
    } else if (!(key in body)) body[key] = value;
  }
}

function base64Image(part: ContentPart, param: string): string {
  if (part.type !== 'image') {
    throw invalidRequest(`${param}: Ollama takes text and images only; ${part.type} parts cannot be sent to an Ollama provider.`, param);
  }
  // the pipeline downloads URL images first (mediaUrls: 'inline'); a URL here is a bug upstream of us
  if (part.source.kind !== 'base64') throw invalidRequest(`${param}: Ollama takes images as base64 only.`, param);
  return part.source.data;
}

/** Text and images of a user, system or tool turn; Ollama keeps images beside the text. */
function flatten(parts: readonly ContentPart[] | string, param: string): { content: string; images: string[] } {
  if (typeof parts === 'string') return { content: parts, images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  parts.forEach((part, i) => {
    if (part.type === 'text') texts.push(part.text);
    else images.push(base64Image(part, `${param}[${i}]`));
  });
  return { content: texts.join('\n'), images };
}

function toolArguments(text: string, param: string): JsonObject {
  if (text.trim().length === 0) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value)) return value;
  } catch {
    // reported below
  }
  throw invalidRequest(`${param}: Ollama takes tool-call arguments as a JSON object; these are not one.`, param);
}

function withImages(entry: JsonObject, images: string[]): JsonObject {
  if (images.length > 0) entry.images = images;
  return entry;
}

function encodeMessages(messages: readonly Message[]): JsonObject[] {
  const toolNames = new Map<string, string>();
  for (const message of messages) for (const part of message.content) if (part.type === 'tool-call') toolNames.set(part.id, part.name);
  const out: JsonObject[] = [];
  messages.forEach((message, i) => {
    const param = `messages[${i}].content`;
    switch (message.role) {
      case 'system':
      case 'user': {
        const { content, images } = flatten(message.content, param);
        out.push(withImages({ role: message.role, content }, images));
        break;
      }
      case 'assistant': {
        let content = '';
        let thinking = '';
        const calls: JsonObject[] = [];
        message.content.forEach((part, j) => {
          // thinking signatures and redacted thinking have no Ollama form (see docs/translation/ollama.md)
          if (part.type === 'text') content += part.text;
          else if (part.type === 'reasoning') thinking += part.text;
          else if (part.type === 'tool-call') calls.push({ function: { name: part.name, arguments: toolArguments(part.arguments, `${param}[${j}].arguments`) } });
          // another provider's hosted calls (web search) ran there: the text after them carries what they found
          else if (part.type === 'hosted-tool-call' || part.type === 'hosted-tool-result') return;
          else throw invalidRequest(`${param}[${j}]: ${part.type} parts cannot be part of an assistant turn for Ollama.`, `${param}[${j}]`);
        });
        const entry: JsonObject = { role: 'assistant', content };
        if (thinking.length > 0) entry.thinking = thinking;
        if (calls.length > 0) entry.tool_calls = calls;
        out.push(entry);
        break;
      }
      case 'tool':
        message.content.forEach((part, j) => {
          if (part.type !== 'tool-result') {
            const { content, images } = flatten([part], param);
            out.push(withImages({ role: 'user', content }, images));
            return;
          }
          const { content, images } = flatten(part.content, `${param}[${j}].content`);
          // Ollama has no error flag on tool results: the text carries it
          const entry: JsonObject = { role: 'tool', content: part.isError === true ? `Error: ${content}` : content };
          const name = toolNames.get(part.toolCallId);
          if (name !== undefined) entry.tool_name = name;
          out.push(withImages(entry, images));
        });
        break;
    }
  });
  return out;
}

function encodeTools(request: CanonicalRequest): JsonObject[] | undefined {
  const choice = request.toolChoice;
  let tools: readonly ToolDefinition[] | undefined = request.tools;
  if (tools === undefined || tools.length === 0 || choice?.type === 'none') return undefined; // `none`: no tool to call
  if (choice?.type === 'tool') {
    // Ollama cannot force a call; offering only the named tool is the nearest it comes
    const named = tools.filter((tool) => tool.name === choice.name);
    if (named.length === 0) throw invalidRequest(`tool_choice names '${choice.name}', which is not among the tools.`, 'tool_choice');
    tools = named;
  }
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, ...(tool.description !== undefined ? { description: tool.description } : {}), parameters: tool.parameters },
  }));
}

/** Only gpt-oss takes thinking levels; other thinking models take true/false. */
function takesLevels(model: string): boolean {
  return /gpt-oss/i.test(model);
}

function levelFromBudget(budget: number): 'low' | 'medium' | 'high' {
  if (budget <= 2048) return 'low';
  if (budget <= 12_288) return 'medium';
  return 'high';
}

/** Reasoning settings → `think` (see the effort/budget table in docs/translation/ollama.md). */
export function encodeThink(reasoning: ReasoningSettings | undefined, model: string): boolean | string | undefined {
  if (reasoning === undefined) return undefined;
  let level: 'low' | 'medium' | 'high' | undefined;
  switch (reasoning.effort) {
    case 'none': return false;
    case 'minimal':
    case 'low': level = 'low'; break;
    case 'medium': level = 'medium'; break;
    case 'high':
    case 'xhigh': level = 'high'; break;
    case undefined:
      if (reasoning.budgetTokens !== undefined) {
        if (reasoning.budgetTokens <= 0) return false;
        level = levelFromBudget(reasoning.budgetTokens);
      }
      break;
  }
  if (level !== undefined) return takesLevels(model) ? level : true;
  return reasoning.includeThoughts;
}

function encodeOptions(request: CanonicalRequest): JsonObject | undefined {
  const sampling = request.sampling;
  const options: JsonObject = {};
  if (sampling.temperature !== undefined) options.temperature = sampling.temperature;
  if (sampling.topP !== undefined) options.top_p = sampling.topP;
  if (sampling.topK !== undefined) options.top_k = sampling.topK;
  if (sampling.maxTokens !== undefined) options.num_predict = sampling.maxTokens;
  if (sampling.stop !== undefined && sampling.stop.length > 0) options.stop = sampling.stop;
  if (sampling.seed !== undefined) options.seed = sampling.seed;
  if (sampling.presencePenalty !== undefined) options.presence_penalty = sampling.presencePenalty;
  if (sampling.frequencyPenalty !== undefined) options.frequency_penalty = sampling.frequencyPenalty;
  return Object.keys(options).length > 0 ? options : undefined;
}

function encodeFormat(request: CanonicalRequest): unknown {
  const format = request.responseFormat;
  if (format === undefined || format.type === 'text') return undefined;
  return format.type === 'json' ? 'json' : format.schema;
}

/** A request from `/api/generate` with generate-only fields goes back to `/api/generate`. */
function encodeGenerate(request: CanonicalRequest, body: JsonObject, fields: JsonObject): JsonObject {
  const messages = request.messages;
  const user = messages.at(-1);
  const system = messages.length === 2 ? messages[0] : undefined;
  if (user?.role !== 'user' || messages.length > 2 || (system !== undefined && system.role !== 'system') || request.tools !== undefined) {
    const names = GENERATE_ONLY.filter((key) => key in fields);
    throw invalidRequest(`${names.map((key) => `'${key}'`).join(', ')} ${names.length === 1 ? 'applies' : 'apply'} only to a single prompt (/api/generate), not to a chat.`, names[0]);
  }
  const { content, images } = flatten(user.content, `messages[${messages.length - 1}].content`);
  const out: JsonObject = { model: body.model, prompt: content };
  if (system !== undefined) out.system = flatten(system.content, 'messages[0].content').content;
  if (images.length > 0) out.images = images;
  for (const key of ['format', 'options', 'think', 'stream']) if (body[key] !== undefined) out[key] = body[key];
  return out;
}

export function encodeOllamaRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest {
  request = withLoadedTools(request); // deferred tools: those the conversation has loaded
  const extras = ollamaExtras(request.passThrough, provider.name);
  // Ollama runs no tool itself: every hosted tool is left to the unsupported_tools policy
  const hosted = encodeHostedTools(request, model, 'ollama', noHostedTool);
  let body: JsonObject = { model, messages: encodeMessages(request.messages) };
  const tools = encodeTools(request); if (tools !== undefined) body.tools = tools;
  const format = encodeFormat(request); if (format !== undefined) body.format = format;
  const options = encodeOptions(request); if (options !== undefined) body.options = options;
  const think = encodeThink(request.reasoning, model); if (think !== undefined) body.think = think;
  body.stream = request.stream;
  let path = '/api/chat';
  // only from /api/generate are these real fields (a chat caller's copies are inert, as Ollama ignores them there)
  const generateFields = request.passThrough?.dialect === 'ollama' ? request.passThrough.fields : undefined;
  if (generateFields !== undefined && GENERATE_ONLY.some((key) => key in generateFields)) {
    body = encodeGenerate(request, body, generateFields);
    path = '/api/generate';
  }
  mergeExtras(body, extras);
  return withUnsupported({ path, headers: ['accept', request.stream ? 'application/x-ndjson' : 'application/json'], body: JSON.stringify(body) }, hosted);
}
