// Gemini GenerateContentResponse → canonical response. Gemini gives function calls no ids (or
// only sometimes): the gateway makes stable ones from the response id. A thoughtSignature on a
// function call travels in an empty reasoning part just before the call; on a text part, in one
// just after the text; on thought parts, with the thinking text.
import { randomBytes } from 'node:crypto';
import type { Citation, HostedToolCallPart, HostedToolResultPart, TextPart, WebResult } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, firstOf, isObject, type JsonObject, listFrom, objectFrom, stringFrom, textFrom } from '../../util/json-value.ts';
import { protocolError } from '../common/protocol-error.ts';
import { utf16OffsetOf } from '../../util/utf8-offsets.ts';

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

/** One grounding support: a span of the answer (UTF-8 bytes, over the candidate's text) and the sources behind it. */
export interface GroundingSupport { start: number; end: number; sources: WebResult[] }

/** Grounding with Google Search, read from a candidate: the search as a hosted call, its sources as the result, and the supports. */
export interface Grounding {
  call: HostedToolCallPart;
  result: HostedToolResultPart;
  supports: GroundingSupport[];
}

/** A candidate's `groundingMetadata` → the search and what it found; undefined when it holds neither queries nor sources. */
export function groundingOf(raw: unknown, id: string): Grounding | undefined {
  const metadata = objectFrom(raw);
  if (metadata === undefined) return undefined;
  const queries = listFrom(metadata.webSearchQueries).filter((query): query is string => typeof query === 'string');
  const sources: WebResult[] = [];
  for (const entry of listFrom(metadata.groundingChunks)) {
    const web = objectFrom(objectFrom(entry)?.web);
    // kept in place (even empty) so the supports' chunk indices still point at the right one
    sources.push({ url: textFrom(web?.uri), ...(typeof web?.title === 'string' ? { title: web.title } : {}) });
  }
  if (queries.length === 0 && sources.length === 0) return undefined;
  const input: Record<string, unknown> = queries.length > 0 ? { query: queries[0] } : {};
  if (queries.length > 1) input.queries = queries;
  const supports: GroundingSupport[] = [];
  for (const entry of listFrom(metadata.groundingSupports)) {
    const support = objectFrom(entry);
    const segment = objectFrom(support?.segment);
    const end = countFrom(segment?.endIndex);
    if (end === undefined) continue;
    const start = countFrom(segment?.startIndex) ?? 0; // proto3 JSON leaves a 0 out
    const cited: WebResult[] = [];
    for (const index of listFrom(support?.groundingChunkIndices)) {
      const source = typeof index === 'number' ? sources[index] : undefined;
      if (source !== undefined && source.url.length > 0) cited.push(source);
    }
    if (cited.length > 0 && end > start) supports.push({ start, end, sources: cited });
  }
  return {
    call: { type: 'hosted-tool-call', id, kind: 'web-search', name: 'web_search', input },
    result: { type: 'hosted-tool-result', callId: id, kind: 'web-search', results: sources.filter((source) => source.url.length > 0) },
    supports,
  };
}

/**
 * The citations of one text that starts `base` bytes into the candidate's text: each support that
 * falls inside it, its offsets turned into the text's own UTF-16 offsets.
 */
export function citationsIn(text: string, base: number, supports: readonly GroundingSupport[]): Citation[] | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  let out: Citation[] | undefined;
  for (const support of supports) {
    if (support.start < base || support.end > base + bytes) continue;
    const start = utf16OffsetOf(text, support.start - base);
    const end = utf16OffsetOf(text, support.end - base);
    for (const source of support.sources) (out ??= []).push({ url: source.url, ...(source.title !== undefined ? { title: source.title } : {}), start, end });
  }
  return out;
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
  const id = typeof body.responseId === 'string' ? body.responseId : `gemini-${randomBytes(9).toString('base64url')}`;
  const grounding = groundingOf(candidate?.groundingMetadata, `ws_${id.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40)}`);
  if (grounding !== undefined) {
    let base = 0;
    for (const part of content) {
      if (part.type !== 'text') continue;
      const citations = citationsIn(part.text, base, grounding.supports);
      if (citations !== undefined) (part as TextPart).citations = citations;
      base += Buffer.byteLength(part.text, 'utf8');
    }
    // the search came before the answer it grounds
    content.unshift(grounding.call, grounding.result);
  }
  return {
    id,
    model: typeof body.modelVersion === 'string' ? body.modelVersion : '',
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason: candidate === undefined ? 'content-filter' : finishReasonFrom(rawFinish, hasCalls),
    ...(rawFinish !== undefined ? { rawFinishReason: rawFinish } : {}),
    usage: usageFrom(body.usageMetadata) ?? { inputTokens: 0, outputTokens: 0 },
  };
}
