// Anthropic Message JSON → canonical response; the stop-reason and usage conversions the stream
// decoder shares.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';

type Json = Record<string, any>;

export function finishReasonFrom(raw: unknown): FinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence': return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded': return 'length';
    case 'tool_use': return 'tool-calls';
    case 'refusal': return 'content-filter';
    default: return 'other'; // pause_turn (a server tool paused the turn) and anything newer
  }
}

/**
 * Anthropic's usage → canonical. Anthropic's input_tokens excludes cache reads and writes; the
 * canonical inputTokens counts every input token, so both are added back.
 */
export function usageFrom(raw: Json | null | undefined): Usage | undefined {
  if (raw === null || raw === undefined || typeof raw !== 'object') return undefined;
  const cacheRead = typeof raw.cache_read_input_tokens === 'number' ? raw.cache_read_input_tokens : 0;
  const cacheWrite = typeof raw.cache_creation_input_tokens === 'number' ? raw.cache_creation_input_tokens : 0;
  const usage: Usage = {
    inputTokens: (typeof raw.input_tokens === 'number' ? raw.input_tokens : 0) + cacheRead + cacheWrite,
    outputTokens: typeof raw.output_tokens === 'number' ? raw.output_tokens : 0,
  };
  if (cacheRead > 0) usage.cachedInputTokens = cacheRead;
  if (cacheWrite > 0) usage.cacheWriteInputTokens = cacheWrite;
  const thinking = raw.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number' && thinking > 0) usage.reasoningTokens = thinking;
  return usage;
}

export function protocolError(what: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `The provider sent a malformed answer: ${what}.`, { status: 502, origin: 'upstream', errorClass: 'gateway-error' });
}

export function decodeMessagesResponse(raw: unknown): CanonicalResponse {
  const body = raw as Json;
  if (body === null || typeof body !== 'object' || !Array.isArray(body.content)) throw protocolError('the message has no content list');
  const content: ResponsePart[] = [];
  for (const block of body.content as Json[]) {
    switch (block?.type) {
      case 'text':
        if (typeof block.text === 'string' && block.text.length > 0) content.push({ type: 'text', text: block.text });
        break;
      case 'thinking':
        content.push({ type: 'reasoning', text: String(block.thinking ?? ''), ...(typeof block.signature === 'string' && block.signature.length > 0 ? { signature: block.signature } : {}) });
        break;
      case 'redacted_thinking':
        content.push({ type: 'reasoning', text: '', redactedData: String(block.data ?? '') });
        break;
      case 'tool_use':
        content.push({ type: 'tool-call', id: String(block.id), name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) });
        break;
      default:
        // server tool blocks (server_tool_use, web_search_tool_result, …) were run by Anthropic; nothing to call
        break;
    }
  }
  const stopReason = body.stop_reason;
  return {
    id: String(body.id ?? 'msg_switchyard'),
    model: String(body.model ?? ''),
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason: finishReasonFrom(stopReason),
    ...(typeof stopReason === 'string' ? { rawFinishReason: stopReason } : {}),
    ...(typeof body.stop_sequence === 'string' ? { stopSequence: body.stop_sequence } : {}),
    usage: usageFrom(body.usage) ?? { inputTokens: 0, outputTokens: 0 },
  };
}

export function decodeTokenCount(raw: unknown): number {
  const count = (raw as Json | null)?.input_tokens;
  if (typeof count !== 'number') throw protocolError('the token count has no input_tokens');
  return count;
}
