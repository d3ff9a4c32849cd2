// Responses input items → canonical messages: message items with their content parts, reasoning
// items, function and custom tool calls and their outputs, a client tool search's call and output.
// Consecutive assistant-side items form one assistant turn, consecutive outputs one tool turn.
// Items that declare tools (`additional_tools`, a tool search's output) add them to the request's.
import type { ItemStore } from '../../../canonical/adapters.ts';
import type { ContentPart, HostedToolKind, Message } from '../../../canonical/request.ts';
import { mediaFromUrl } from '../fields.ts';
import { type JsonObject, listFrom, objectFrom, shown, textFrom } from '../../../util/json-value.ts';
import { invalidRequest } from '../../../canonical/errors.ts';
import { CUSTOM_TOOL_ARGUMENT, type DecodedTools, flatName, str, TOOL_SEARCH } from './decode-tools.ts';

function inputPart(raw: unknown, where: string): ContentPart {
  const part = objectFrom(raw);
  switch (part?.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return { type: 'text', text: str(part.text, `${where}.text`) };
    case 'refusal':
      return { type: 'text', text: str(part.refusal, `${where}.refusal`) };
    case 'input_image': {
      if (typeof part.image_url !== 'string') {
        throw invalidRequest(`Invalid '${where}': only image_url (a URL or a data URL) can be translated; file_id refers to OpenAI's file storage.`, `${where}.image_url`);
      }
      const detail = part.detail;
      return { type: 'image', source: mediaFromUrl(part.image_url), ...(detail === 'low' || detail === 'high' || detail === 'auto' ? { detail } : {}) };
    }
    case 'input_file': {
      const filename = typeof part.filename === 'string' ? part.filename : undefined;
      if (typeof part.file_data === 'string') {
        const data = part.file_data;
        const source = data.startsWith('data:') ? mediaFromUrl(data) : { kind: 'base64' as const, mediaType: mediaTypeOf(filename), data };
        return { type: 'file', source, ...(filename !== undefined ? { filename } : {}) };
      }
      if (typeof part.file_url === 'string') return { type: 'file', source: { kind: 'url', url: part.file_url }, ...(filename !== undefined ? { filename } : {}) };
      throw invalidRequest(`Invalid '${where}': only file_data or file_url can be translated; file_id refers to OpenAI's file storage.`, `${where}.file_id`);
    }
    case 'input_audio': {
      const audio = objectFrom(part.input_audio);
      if (typeof audio?.data !== 'string') throw invalidRequest(`Invalid '${where}.input_audio.data': expected base64 text.`, `${where}.input_audio.data`);
      const format = typeof audio.format === 'string' ? audio.format : 'wav';
      return { type: 'audio', source: { kind: 'base64', mediaType: `audio/${format}`, data: audio.data }, format };
    }
    default:
      throw invalidRequest(`Invalid '${where}.type': '${shown(part?.type)}' is not a content type that can be translated.`, `${where}.type`);
  }
}

function mediaTypeOf(filename: string | undefined): string {
  const extension = filename?.split('.').pop()?.toLowerCase();
  switch (extension) {
    case 'txt': return 'text/plain';
    case 'md': return 'text/markdown';
    case 'csv': return 'text/csv';
    case 'json': return 'application/json';
    case 'png': return 'image/png';
    case 'jpg':
    case 'jpeg': return 'image/jpeg';
    default: return 'application/pdf';
  }
}

function contentParts(content: unknown, where: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalidRequest(`Invalid '${where}': expected a string or an array of content parts.`, where);
  return content.map((part: unknown, i) => inputPart(part, `${where}[${i}]`));
}

function textOnly(content: unknown, where: string): string {
  const parts = contentParts(content, where);
  return parts.map((part, i) => {
    if (part.type !== 'text') throw invalidRequest(`Invalid '${where}[${i}]': only text is allowed in system and developer messages.`, `${where}[${i}]`);
    return part.text;
  }).join('');
}

function partText(part: unknown): string {
  const text = objectFrom(part)?.text;
  return typeof text === 'string' ? text : '';
}

/** `reasoning` items: the summary (or raw reasoning text) plus the opaque encrypted content. */
function reasoningPart(item: JsonObject, where: string): ContentPart | undefined {
  let text = '';
  const content = item.content;
  if (Array.isArray(content) && content.length > 0) {
    text = content.map(partText).join('');
  } else if (Array.isArray(item.summary)) {
    text = item.summary.map(partText).filter((value) => value.length > 0).join('\n\n');
  } else if (item.summary !== undefined) {
    throw invalidRequest(`Invalid '${where}.summary': expected an array.`, `${where}.summary`);
  }
  const encrypted = typeof item.encrypted_content === 'string' && item.encrypted_content.length > 0 ? item.encrypted_content : undefined;
  // an encrypted blob with no readable text is a redacted block; with text, it is the text's signature
  if (encrypted !== undefined && text.length === 0) return { type: 'reasoning', text: '', redactedData: encrypted };
  if (text.length === 0) return undefined;
  return { type: 'reasoning', text, ...(encrypted !== undefined ? { signature: encrypted } : {}) };
}

function toolOutput(output: unknown, where: string): string | ContentPart[] {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return contentParts(output, where);
  throw invalidRequest(`Invalid '${where}': expected a string or an array of content parts.`, where);
}

/** Output items of tools OpenAI runs itself, by kind. */
const HOSTED_CALL_ITEMS: ReadonlyMap<string, HostedToolKind> = new Map<string, HostedToolKind>([
  ['web_search_call', 'web-search'],
  ['code_interpreter_call', 'code-execution'],
  ['file_search_call', 'other'],
  ['image_generation_call', 'other'],
]);

function hostedCall(item: JsonObject, type: string, kind: HostedToolKind): ContentPart {
  const action = objectFrom(item.action);
  const input: JsonObject = {};
  if (typeof action?.query === 'string') input.query = action.query;
  return { type: 'hosted-tool-call', id: typeof item.id === 'string' ? item.id : '', kind, name: type.slice(0, -'_call'.length), input, raw: item, dialect: 'openai-responses' };
}

/** Builds canonical messages, folding consecutive assistant items (reasoning, text, calls) into one turn. */
export class History {
  readonly messages: Message[] = [];

  system(text: string): void {
    this.messages.push({ role: 'system', content: [{ type: 'text', text }] });
  }

  user(content: ContentPart[]): void {
    this.messages.push({ role: 'user', content });
  }

  assistant(part: ContentPart): void {
    const last = this.messages.at(-1);
    if (last?.role === 'assistant') last.content.push(part);
    else this.messages.push({ role: 'assistant', content: [part] });
  }

  toolResult(part: ContentPart): void {
    const last = this.messages.at(-1);
    if (last?.role === 'tool') last.content.push(part);
    else this.messages.push({ role: 'tool', content: [part] });
  }
}

/** The tool list a tool search answered with: the tools join the request's, the model is told which it can call now. */
function toolSearchOutput(item: JsonObject, where: string, tools: DecodedTools): string {
  const found = listFrom(item.tools).flatMap((tool, j) => tools.add(tool, `${where}.tools[${j}]`));
  return found.length === 0 ? 'No tools found.' : `Found ${found.length} tool${found.length === 1 ? '' : 's'}, which can be called now: ${found.join(', ')}.`;
}

export function decodeItem(history: History, raw: unknown, i: number, tools: DecodedTools, items?: ItemStore): void {
  const where = `input[${i}]`;
  if (typeof raw !== 'object' || raw === null) throw invalidRequest(`Invalid '${where}': expected an object.`, where);
  // a list has none of an item's fields: it is refused below for its missing type
  const item = objectFrom(raw) ?? {};
  const type = item.type ?? (item.role !== undefined ? 'message' : undefined);
  switch (type) {
    case 'message': {
      const content = item.content;
      switch (item.role) {
        case 'system':
        case 'developer':
          history.system(textOnly(content, `${where}.content`));
          return;
        case 'user':
          history.user(contentParts(content, `${where}.content`));
          return;
        case 'assistant':
          for (const part of contentParts(content, `${where}.content`)) if (part.type !== 'text' || part.text.length > 0) history.assistant(part);
          return;
        default:
          throw invalidRequest(`Invalid '${where}.role': '${shown(item.role)}'.`, `${where}.role`);
      }
    }
    case 'function_call':
      history.assistant({
        type: 'tool-call',
        id: str(item.call_id, `${where}.call_id`),
        name: flatName(typeof item.namespace === 'string' ? item.namespace : undefined, str(item.name, `${where}.name`)),
        arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}),
      });
      return;
    case 'custom_tool_call':
      history.assistant({
        type: 'tool-call',
        id: str(item.call_id, `${where}.call_id`),
        name: flatName(typeof item.namespace === 'string' ? item.namespace : undefined, str(item.name, `${where}.name`)),
        arguments: JSON.stringify({ [CUSTOM_TOOL_ARGUMENT]: typeof item.input === 'string' ? item.input : '' }),
      });
      return;
    case 'tool_search_call':
      if (item.execution === 'client') {
        history.assistant({ type: 'tool-call', id: str(item.call_id, `${where}.call_id`), name: TOOL_SEARCH, arguments: JSON.stringify(objectFrom(item.arguments) ?? {}) });
      } else {
        // a search OpenAI ran: verbatim for a Responses provider, left out for another
        history.assistant(hostedCall(item, 'tool_search_call', 'tool-search'));
      }
      return;
    case 'tool_search_output': {
      const text = toolSearchOutput(item, where, tools);
      if (item.execution === 'client') history.toolResult({ type: 'tool-result', toolCallId: str(item.call_id, `${where}.call_id`), content: text });
      else history.assistant({ type: 'hosted-tool-result', callId: textFrom(item.call_id), kind: 'tool-search', results: [], raw: item, dialect: 'openai-responses' });
      return;
    }
    case 'additional_tools':
      // tools declared in the input (Codex's responses-lite requests): offered with the request's
      listFrom(item.tools).forEach((tool, j) => tools.add(tool, `${where}.tools[${j}]`));
      return;
    case 'function_call_output':
    case 'custom_tool_call_output':
      history.toolResult({ type: 'tool-result', toolCallId: str(item.call_id, `${where}.call_id`), content: toolOutput(item.output, `${where}.output`) });
      return;
    case 'reasoning': {
      const part = reasoningPart(item, where);
      if (part !== undefined) history.assistant(part);
      return;
    }
    case 'item_reference': {
      // an item this gateway answered with earlier (SDKs that default to store: true send these)
      const stored = typeof item.id === 'string' ? items?.get(item.id) : undefined;
      if (stored !== undefined) {
        decodeItem(history, stored, i, tools);
        return;
      }
      throw invalidRequest(`Invalid '${where}': item '${shown(item.id)}' is not one this gateway answered with recently (items are kept in memory per process), and the provider is not a Responses API that could look it up; send the item itself (e.g. store: false).`, `${where}.id`);
    }
    default: {
      // an earlier call of a tool OpenAI ran (Codex resends its web_search_call items): verbatim for
      // a Responses provider, left out for another (the answer that followed carries what it found)
      const kind = typeof type === 'string' ? HOSTED_CALL_ITEMS.get(type) : undefined;
      if (kind !== undefined) {
        history.assistant(hostedCall(item, type as string, kind));
        return;
      }
      const name = shown(type);
      throw invalidRequest(`Invalid '${where}.type': '${name}' items (OpenAI-hosted tools and server-side state) can only be sent to a Responses API provider; this model is served by a provider of another dialect.`, `${where}.type`);
    }
  }
}

