// Canonical response → Ollama `/api/chat` and `/api/generate` answers (stream: false).
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { isObject } from '../../util/json-value.ts';

/** Ollama stops with `stop` or `length`; a turn that ends in tool calls is a `stop`. */
export function ollamaDoneReason(reason: FinishReason): string {
  return reason === 'length' ? 'length' : 'stop';
}

/** Ollama's arguments are a JSON object; text that is not one is passed on as it came. */
export function toolArguments(text: string): unknown {
  if (text.length === 0) return {};
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : text;
  } catch {
    return text;
  }
}

export function isoTime(unixSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();
}

/** The counts of Ollama's final object; durations are omitted when unknown, as Ollama omits zeros. */
export function usageFields(usage: Usage | undefined): string {
  return `"prompt_eval_count":${usage?.inputTokens ?? 0},"eval_count":${usage?.outputTokens ?? 0}`;
}

function modelName(response: CanonicalResponse, request: CanonicalRequest): string {
  return response.model.length > 0 ? response.model : request.model;
}

export function encodeChatResponse(response: CanonicalResponse, request: CanonicalRequest): string {
  let content = '';
  let thinking = '';
  const calls: unknown[] = [];
  for (const part of response.content) {
    if (part.type === 'text') content += part.text;
    else if (part.type === 'reasoning') thinking += part.text;
    else if (part.type === 'tool-call') calls.push({ function: { name: part.name, arguments: toolArguments(part.arguments) } });
    // hosted calls (another provider's web search) have no Ollama form: the text carries what they found
  }
  const message: Record<string, unknown> = { role: 'assistant', content };
  if (thinking.length > 0) message.thinking = thinking;
  if (calls.length > 0) message.tool_calls = calls;
  return `{"model":${JSON.stringify(modelName(response, request))},"created_at":"${isoTime(response.created)}","message":${JSON.stringify(message)},`
    + `"done_reason":"${ollamaDoneReason(response.finishReason)}","done":true,${usageFields(response.usage)}}`;
}

/** /api/generate has no tool calls (it takes no tools); thinking is a top-level field. */
export function encodeGenerateResponse(response: CanonicalResponse, request: CanonicalRequest): string {
  let text = '';
  let thinking = '';
  for (const part of response.content) {
    if (part.type === 'text') text += part.text;
    else if (part.type === 'reasoning') thinking += part.text;
  }
  return `{"model":${JSON.stringify(modelName(response, request))},"created_at":"${isoTime(response.created)}","response":${JSON.stringify(text)},`
    + `${thinking.length > 0 ? `"thinking":${JSON.stringify(thinking)},` : ''}"done":true,"done_reason":"${ollamaDoneReason(response.finishReason)}",${usageFields(response.usage)}}`;
}
