// Canonical response → Anthropic Message JSON; the stop-reason and usage vocabularies the stream
// encoder shares.
import type { CanonicalRequest, Citation, HostedToolCallPart, HostedToolResultPart } from '../../canonical/request.ts';
import type { CanonicalResponse, FinishReason } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';

const NATIVE_STOP_REASONS = new Set(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']);

/** A provider's own word wins when it is already Anthropic's (pause_turn, …); else the canonical reason maps. */
export function anthropicStopReason(reason: FinishReason, raw: string | undefined, stopSequence: string | undefined, sawToolCall: boolean): string {
  if (raw !== undefined && NATIVE_STOP_REASONS.has(raw)) return raw;
  switch (reason) {
    case 'length': return 'max_tokens';
    case 'tool-calls': return 'tool_use';
    case 'content-filter': return 'refusal';
    case 'stop':
    case 'error':
    case 'other':
      if (stopSequence !== undefined) return 'stop_sequence';
      // some OpenAI-compatible servers say "stop" after tool calls; Anthropic clients look for tool_use
      return sawToolCall ? 'tool_use' : 'end_turn';
  }
}

export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
  output_tokens_details?: { thinking_tokens: number };
}

/** Canonical usage counts cache reads and writes inside inputTokens; Anthropic's input_tokens excludes both. */
export function anthropicUsage(usage: Usage | undefined): AnthropicUsage {
  if (usage === undefined) return { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 };
  const cacheRead = usage.cachedInputTokens ?? 0;
  const cacheWrite = usage.cacheWriteInputTokens ?? 0;
  const out: AnthropicUsage = {
    input_tokens: Math.max(0, usage.inputTokens - cacheRead - cacheWrite),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    output_tokens: usage.outputTokens,
  };
  if (usage.reasoningTokens !== undefined) out.output_tokens_details = { thinking_tokens: usage.reasoningTokens };
  return out;
}

/** Tool input must be an object in Anthropic's shape; arguments that are not one become `{}`. */
export function toolInput(args: string): unknown {
  if (args.length === 0) return {};
  try {
    const parsed = JSON.parse(args) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * A hosted call as Anthropic's `server_tool_use`: Anthropic's own block verbatim; another provider's
 * web search rendered as one (Claude Code shows its query); other kinds have no Anthropic form.
 */
export function serverToolUseBlock(call: HostedToolCallPart): Record<string, unknown> | undefined {
  if (call.dialect === 'anthropic' && call.raw !== undefined) return call.raw;
  if (call.kind !== 'web-search') return undefined;
  return { type: 'server_tool_use', id: call.id, name: 'web_search', input: call.input };
}

/** A hosted web search's results as `web_search_tool_result` (no encrypted content: they came from another provider). */
export function serverToolResultBlock(result: HostedToolResultPart): Record<string, unknown> | undefined {
  if (result.dialect === 'anthropic' && result.raw !== undefined) return result.raw;
  if (result.kind !== 'web-search') return undefined;
  const content = result.errorCode !== undefined
    ? { type: 'web_search_tool_result_error', error_code: result.errorCode }
    : result.results.map((item) => ({ type: 'web_search_result', url: item.url, title: item.title ?? item.url, encrypted_content: '', page_age: item.pageAge ?? null }));
  return { type: 'web_search_tool_result', tool_use_id: result.callId, content };
}

/** A citation as Anthropic's `web_search_result_location` (its own verbatim). */
export function citationBlock(citation: Citation): Record<string, unknown> {
  if (citation.dialect === 'anthropic' && citation.raw !== undefined) return citation.raw;
  return { type: 'web_search_result_location', url: citation.url, title: citation.title ?? citation.url, cited_text: citation.citedText ?? '', encrypted_index: '' };
}

export function encodeMessagesResponse(response: CanonicalResponse, _request: CanonicalRequest): string {
  const content: Record<string, unknown>[] = [];
  let sawToolCall = false;
  for (const part of response.content) {
    switch (part.type) {
      case 'text':
        if (part.text.length > 0) content.push(part.citations === undefined ? { type: 'text', text: part.text } : { type: 'text', text: part.text, citations: part.citations.map(citationBlock) });
        break;
      case 'hosted-tool-call': {
        const block = serverToolUseBlock(part);
        if (block !== undefined) content.push(block);
        break;
      }
      case 'hosted-tool-result': {
        const block = serverToolResultBlock(part);
        if (block !== undefined) content.push(block);
        break;
      }
      case 'reasoning':
        if (part.redactedData !== undefined) content.push({ type: 'redacted_thinking', data: part.redactedData });
        else content.push({ type: 'thinking', thinking: part.text, signature: part.signature ?? '' });
        break;
      case 'tool-call':
        sawToolCall = true;
        content.push({ type: 'tool_use', id: part.id, name: part.name, input: toolInput(part.arguments) });
        break;
    }
  }
  return JSON.stringify({
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: anthropicStopReason(response.finishReason, response.rawFinishReason, response.stopSequence, sawToolCall),
    stop_sequence: response.stopSequence ?? null,
    usage: anthropicUsage(response.usage),
  });
}
