// Ollama `/api/chat` and `/api/generate` answers (stream: false) → canonical response.
import { randomBytes } from 'node:crypto';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, isObject, type JsonObject, listFrom, objectFrom, textFrom } from '../../util/json-value.ts';
import { protocolError } from '../common/protocol-error.ts';

/** Ollama has no response or tool-call ids; these are made unique so histories stay consistent. */
export function newId(prefix: string): string {
  return `${prefix}${randomBytes(12).toString('base64url')}`;
}

/** `stop` with tool calls is Ollama's way of ending a turn on tool calls. */
export function finishReasonFrom(doneReason: unknown, sawToolCalls: boolean): FinishReason {
  if (doneReason === 'length') return 'length';
  if (sawToolCalls) return 'tool-calls';
  if (doneReason === 'stop' || doneReason === undefined || doneReason === null || doneReason === '') return 'stop';
  return 'other'; // load, unload
}

/** `prompt_eval_count` counts every input token (OpenAI semantics); Ollama reports no cache or reasoning split. */
export function usageFrom(body: JsonObject): Usage {
  return {
    inputTokens: countFrom(body.prompt_eval_count) ?? 0,
    outputTokens: countFrom(body.eval_count) ?? 0,
  };
}

export function createdFrom(body: JsonObject): number {
  const parsed = typeof body.created_at === 'string' ? Date.parse(body.created_at) : Number.NaN;
  return Number.isNaN(parsed) ? Math.floor(Date.now() / 1000) : Math.floor(parsed / 1000);
}

export function toolCallId(call: unknown): string {
  const id = objectFrom(call)?.id;
  return typeof id === 'string' && id.length > 0 ? id : newId('call_');
}

/** A tool call's `function` (`{name, arguments}`), if it has one. */
export function functionOf(call: unknown): JsonObject | undefined {
  return objectFrom(objectFrom(call)?.function);
}

/** Arguments arrive as an object (a string from some servers); canonical arguments are JSON text. */
export function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? {});
}

export function decodeOllamaResponse(body: unknown): CanonicalResponse {
  if (!isObject(body)) throw protocolError('the answer is not a JSON object');
  const message: JsonObject = isObject(body.message) ? body.message : {};
  const content: ResponsePart[] = [];
  // /api/chat puts thinking and text in `message`; /api/generate at the top level
  const thinking = message.thinking ?? body.thinking;
  if (typeof thinking === 'string' && thinking.length > 0) content.push({ type: 'reasoning', text: thinking });
  const text = typeof message.content === 'string' ? message.content : typeof body.response === 'string' ? body.response : '';
  if (text.length > 0) content.push({ type: 'text', text });
  const calls = listFrom(message.tool_calls);
  for (const call of calls) {
    const fn = functionOf(call);
    content.push({ type: 'tool-call', id: toolCallId(call), name: textFrom(fn?.name), arguments: argumentsText(fn?.arguments) });
  }
  return {
    id: newId('ollama-'),
    model: textFrom(body.model),
    created: createdFrom(body),
    content,
    finishReason: finishReasonFrom(body.done_reason, calls.length > 0),
    ...(typeof body.done_reason === 'string' ? { rawFinishReason: body.done_reason } : {}),
    usage: usageFrom(body),
  };
}
