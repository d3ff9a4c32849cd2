// Canonical response → Gemini GenerateContentResponse.
import type { CanonicalRequest, Citation, HostedToolCallPart, HostedToolResultPart } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { redactedSignature } from './fields.ts';
import type { JsonObject } from '../../util/json-value.ts';
import { utf8OffsetOf } from '../../util/utf8-offsets.ts';

/** Gemini's finish reasons, passed on verbatim when the upstream spoke Gemini too. */
const GEMINI_FINISH = new Set([
  'STOP', 'MAX_TOKENS', 'SAFETY', 'RECITATION', 'LANGUAGE', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII',
  'MALFORMED_FUNCTION_CALL', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_OTHER', 'NO_IMAGE', 'IMAGE_RECITATION',
  'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS', 'MISSING_THOUGHT_SIGNATURE',
]);

/** Gemini reports STOP after function calls too: the calls in the content say why it stopped. */
export function geminiFinishReason(reason: FinishReason, raw: string | undefined): string {
  if (raw !== undefined && GEMINI_FINISH.has(raw)) return raw;
  switch (reason) {
    case 'stop':
    case 'tool-calls': return 'STOP';
    case 'length': return 'MAX_TOKENS';
    case 'content-filter': return 'SAFETY';
    case 'error':
    case 'other': return 'OTHER';
  }
}

/** Gemini counts thoughts apart from candidates; both are output tokens. */
export function geminiUsage(usage: Usage): JsonObject {
  const reasoning = usage.reasoningTokens ?? 0;
  const out: JsonObject = {
    promptTokenCount: usage.inputTokens,
    candidatesTokenCount: Math.max(0, usage.outputTokens - reasoning),
    totalTokenCount: usage.inputTokens + usage.outputTokens,
  };
  if (usage.cachedInputTokens !== undefined && usage.cachedInputTokens > 0) out.cachedContentTokenCount = usage.cachedInputTokens;
  if (reasoning > 0) out.thoughtsTokenCount = reasoning;
  return out;
}

export function functionCallPart(id: string, name: string, args: unknown, signature: string | undefined): JsonObject {
  const part: JsonObject = { functionCall: { id, name, args } };
  if (signature !== undefined) part.thoughtSignature = signature;
  return part;
}

function parseArguments(text: string): unknown {
  if (text.trim().length === 0) return {};
  return JSON.parse(text) as unknown;
}

/**
 * Canonical parts → Gemini parts. A signature on an empty reasoning part belongs to the part it
 * was carried with: the function call right after it, else the text right before it, else it
 * stands alone as Gemini's own signature-only part.
 */
export function geminiParts(content: readonly ResponsePart[]): { parts: JsonObject[]; malformed: boolean } {
  const parts: JsonObject[] = [];
  let malformed = false;
  for (let i = 0; i < content.length; i++) {
    const part = content[i]!;
    switch (part.type) {
      case 'text':
        if (part.text.length > 0) parts.push({ text: part.text });
        break;
      case 'reasoning': {
        if (part.redactedData !== undefined) {
          parts.push({ text: '', thought: true, thoughtSignature: redactedSignature(part.redactedData) });
          break;
        }
        if (part.text.length > 0) {
          parts.push({ text: part.text, thought: true, ...(part.signature !== undefined ? { thoughtSignature: part.signature } : {}) });
          break;
        }
        if (part.signature === undefined) break;
        const next = content[i + 1];
        const previous = parts.at(-1);
        if (next?.type === 'tool-call') break; // attached below
        if (previous !== undefined && typeof previous.text === 'string' && previous.thought !== true && previous.thoughtSignature === undefined) previous.thoughtSignature = part.signature;
        else parts.push({ text: '', thoughtSignature: part.signature });
        break;
      }
      case 'tool-call': {
        const before = content[i - 1];
        const signature = before?.type === 'reasoning' && before.text.length === 0 && before.redactedData === undefined ? before.signature : undefined;
        let args: unknown;
        try {
          args = parseArguments(part.arguments);
        } catch {
          malformed = true; // Gemini's own word for arguments that are not JSON
          break;
        }
        parts.push(functionCallPart(part.id, part.name, args, signature));
        break;
      }
    }
  }
  return { parts, malformed };
}

/**
 * What a web search found, as Gemini's grounding metadata: the queries, the sources
 * (`groundingChunks`) and which spans of the answer they support (`groundingSupports`, in UTF-8
 * bytes over the answer's text). Built up part by part, by both answer forms.
 */
export class GroundingBuilder {
  private readonly queries: string[] = [];
  private readonly chunks: JsonObject[] = [];
  private readonly chunkIndex = new Map<string, number>();
  private readonly supports: JsonObject[] = [];

  call(call: HostedToolCallPart): void {
    if (call.kind !== 'web-search') return;
    const queries = Array.isArray(call.input.queries) ? call.input.queries : [call.input.query];
    for (const query of queries) if (typeof query === 'string' && query.length > 0) this.queries.push(query);
  }

  result(result: HostedToolResultPart): void {
    if (result.kind !== 'web-search') return;
    for (const item of result.results) this.chunkOf(item.url, item.title);
  }

  /** A citation of `text` (a text part that starts `base` bytes into the answer's text). */
  citation(citation: Citation, text: string, base: number): void {
    const start = base + utf8OffsetOf(text, citation.start ?? 0);
    const end = base + (citation.end === undefined ? Buffer.byteLength(text, 'utf8') : utf8OffsetOf(text, citation.end));
    if (end <= start) return;
    const segment: JsonObject = { startIndex: start, endIndex: end, text: Buffer.from(text, 'utf8').subarray(start - base, end - base).toString('utf8') };
    this.supports.push({ segment, groundingChunkIndices: [this.chunkOf(citation.url, citation.title)] });
  }

  private chunkOf(url: string, title: string | undefined): number {
    let index = this.chunkIndex.get(url);
    if (index === undefined) {
      index = this.chunks.length;
      this.chunkIndex.set(url, index);
      this.chunks.push({ web: { uri: url, title: title ?? url } });
    }
    return index;
  }

  /** The metadata, or undefined when no search was reported. */
  metadata(): JsonObject | undefined {
    if (this.queries.length === 0 && this.chunks.length === 0) return undefined;
    const metadata: JsonObject = { webSearchQueries: this.queries, groundingChunks: this.chunks };
    if (this.supports.length > 0) metadata.groundingSupports = this.supports;
    return metadata;
  }
}

function groundingOf(content: readonly ResponsePart[]): JsonObject | undefined {
  let builder: GroundingBuilder | undefined;
  let base = 0;
  for (const part of content) {
    if (part.type === 'hosted-tool-call') (builder ??= new GroundingBuilder()).call(part);
    else if (part.type === 'hosted-tool-result') (builder ??= new GroundingBuilder()).result(part);
    else if (part.type === 'text') {
      if (part.citations !== undefined) for (const citation of part.citations) (builder ??= new GroundingBuilder()).citation(citation, part.text, base);
      base += Buffer.byteLength(part.text, 'utf8');
    }
  }
  return builder?.metadata();
}

export function encodeGenerateResponse(response: CanonicalResponse, _request: CanonicalRequest): string {
  const { parts, malformed } = geminiParts(response.content);
  const finishReason = malformed && response.finishReason !== 'length' ? 'MALFORMED_FUNCTION_CALL' : geminiFinishReason(response.finishReason, response.rawFinishReason);
  const candidate: JsonObject = { content: { parts, role: 'model' }, finishReason, index: 0 };
  const grounding = groundingOf(response.content);
  if (grounding !== undefined) candidate.groundingMetadata = grounding;
  return JSON.stringify({
    candidates: [candidate],
    usageMetadata: geminiUsage(response.usage),
    modelVersion: response.model,
    responseId: response.id,
  });
}
