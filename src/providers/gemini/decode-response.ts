// Gemini GenerateContentResponse → canonical response. Gemini gives function calls no ids (or
// only sometimes): the gateway makes stable ones from the response id. A thoughtSignature on a
// function call travels in an empty reasoning part just before the call; on a text part, in one
// just after the text; on thought parts, with the thinking text.
import { randomBytes } from 'node:crypto';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, firstOf, isObject, type JsonObject, listFrom, objectFrom, stringFrom, textFrom } from '../../util/json-value.ts';
import { protocolError } from '../common/protocol-error.ts';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);
const FAILED = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS', 'MISSING_THOUGHT_SIGNATURE']);

/** Gemini says STOP after function calls too: the calls decide. */
export function finishReasonFrom(raw: string | undefined, hasCalls: boolean): FinishReason {
  if (raw === undefined || raw === 'STOP' || raw === 'FINISH_REASON_UNSPECIFIED') return hasCalls ? 'tool-calls' : 'stop';
  if (raw === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(raw)) return 'content-filter';
  if (FAILED.has(raw)) return 'error';
  return 'other';
}

/** promptTokenCount includes cached tokens (OpenAI's semantics already); thoughts are output. */
export function usageFrom(value: unknown): Usage | undefined {
  if (!isObject(value)) return undefined;
  const thoughts = countFrom(value.thoughtsTokenCount) ?? 0;
  const usage: Usage = {
    inputTokens: (countFrom(value.promptTokenCount) ?? 0) + (countFrom(value.toolUsePromptTokenCount) ?? 0),
    outputTokens: (countFrom(value.candidatesTokenCount) ?? 0) + thoughts,
  };
  const cached = countFrom(value.cachedContentTokenCount);
  if (cached !== undefined && cached > 0) usage.cachedInputTokens = cached;
  if (thoughts > 0) usage.reasoningTokens = thoughts;
  return usage;
}

/** Ids for Gemini's id-less function calls: unique per response, the same in both answer forms. */
export class CallIds {
  private readonly base: string;
  private count = 0;

  constructor(responseId: unknown) {
    const clean = typeof responseId === 'string' ? responseId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) : '';
    this.base = clean.length > 0 ? clean : randomBytes(9).toString('base64url');
  }

  next(given: unknown): string {
    const n = this.count++;
    return typeof given === 'string' && given.length > 0 ? given : `call_${this.base}_${n}`;
  }
}

/** Parts the canonical response has no kind for, shown as the text a reader would see. */
export function textOfOtherPart(part: JsonObject): string | undefined {
  const { inlineData, fileData, executableCode, codeExecutionResult } = part;
  if (isObject(inlineData)) return `![image](data:${textFrom(inlineData.mimeType)};base64,${textFrom(inlineData.data)})`;
  if (isObject(fileData)) return `![file](${textFrom(fileData.fileUri)})`;
  if (isObject(executableCode)) return `\`\`\`${textFrom(executableCode.language).toLowerCase().replace('language_unspecified', '')}\n${textFrom(executableCode.code)}\n\`\`\``;
  if (isObject(codeExecutionResult)) return `\`\`\`output\n${textFrom(codeExecutionResult.output)}\n\`\`\``;
  return undefined;
}

export function decodeGenerateResponse(raw: unknown): CanonicalResponse {
  const body = objectFrom(Array.isArray(raw) ? raw.at(-1) : raw);
  if (body === undefined) throw protocolError('the response is not an object');
  const candidate = objectFrom(firstOf(body.candidates));
  const blocked = stringFrom(objectFrom(body.promptFeedback)?.blockReason);
  if (candidate === undefined && blocked === undefined) throw protocolError('the response has no candidates');
  const content: ResponsePart[] = [];
  const ids = new CallIds(body.responseId);
  let hasCalls = false;
  let run: Extract<ResponsePart, { type: 'reasoning' }> | undefined;
  for (const part of listFrom(objectFrom(candidate?.content)?.parts)) {
    if (!isObject(part)) continue;
    const signature = typeof part.thoughtSignature === 'string' && part.thoughtSignature.length > 0 ? part.thoughtSignature : undefined;
    if (part.thought === true) {
      const text = typeof part.text === 'string' ? part.text : '';
      if (run !== undefined && run.signature === undefined) {
        run.text += text;
        if (signature !== undefined) run.signature = signature;
      } else {
        run = { type: 'reasoning', text, ...(signature !== undefined ? { signature } : {}), provider: 'gemini' };
        content.push(run);
      }
      continue;
    }
    run = undefined;
    const call = part.functionCall;
    if (isObject(call)) {
      if (signature !== undefined) content.push({ type: 'reasoning', text: '', signature, provider: 'gemini' });
      content.push({ type: 'tool-call', id: ids.next(call.id), name: textFrom(call.name), arguments: JSON.stringify(call.args ?? {}) });
      hasCalls = true;
      continue;
    }
    const text = typeof part.text === 'string' ? part.text : textOfOtherPart(part);
    if (text !== undefined && text.length > 0) content.push({ type: 'text', text });
    if (signature !== undefined) content.push({ type: 'reasoning', text: '', signature, provider: 'gemini' });
  }
  const rawFinish: string | undefined = typeof candidate?.finishReason === 'string' ? candidate.finishReason : blocked;
  return {
    id: typeof body.responseId === 'string' ? body.responseId : `gemini-${randomBytes(9).toString('base64url')}`,
    model: typeof body.modelVersion === 'string' ? body.modelVersion : '',
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason: candidate === undefined ? 'content-filter' : finishReasonFrom(rawFinish, hasCalls),
    ...(rawFinish !== undefined ? { rawFinishReason: rawFinish } : {}),
    usage: usageFrom(body.usageMetadata) ?? { inputTokens: 0, outputTokens: 0 },
  };
}
