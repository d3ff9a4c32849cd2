// Anthropic Message JSON → canonical response; the stop-reason and usage conversions the stream
// decoder shares.
import type { CanonicalResponse, FinishReason, ResponsePart } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { countFrom, isObject, objectFrom, textFrom } from '../../util/json-value.ts';
import { isServerToolCall, isServerToolResult, serverToolCall, serverToolResult, webCitations } from '../../util/server-tool-blocks.ts';
import { protocolError } from '../common/protocol-error.ts';

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
export function usageFrom(raw: unknown): Usage | undefined {
  if (!isObject(raw)) return undefined;
  const cacheRead = countFrom(raw.cache_read_input_tokens) ?? 0;
  const cacheWrite = countFrom(raw.cache_creation_input_tokens) ?? 0;
  const usage: Usage = {
    inputTokens: (countFrom(raw.input_tokens) ?? 0) + cacheRead + cacheWrite,
    outputTokens: countFrom(raw.output_tokens) ?? 0,
  };
  if (cacheRead > 0) usage.cachedInputTokens = cacheRead;
  if (cacheWrite > 0) usage.cacheWriteInputTokens = cacheWrite;
  const thinking = countFrom(objectFrom(raw.output_tokens_details)?.thinking_tokens);
  if (thinking !== undefined && thinking > 0) usage.reasoningTokens = thinking;
  return usage;
}

export function decodeMessagesResponse(body: unknown): CanonicalResponse {
  if (!isObject(body) || !Array.isArray(body.content)) throw protocolError('the message has no content list');
  const content: ResponsePart[] = [];
  for (const block of body.content) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string' && block.text.length > 0) {
          const citations = webCitations(block.citations);
          content.push(citations === undefined ? { type: 'text', text: block.text } : { type: 'text', text: block.text, citations });
        }
        break;
      case 'thinking':
        content.push({ type: 'reasoning', text: textFrom(block.thinking), ...(typeof block.signature === 'string' && block.signature.length > 0 ? { signature: block.signature } : {}) });
        break;
      case 'redacted_thinking':
        content.push({ type: 'reasoning', text: '', redactedData: textFrom(block.data) });
        break;
      case 'tool_use':
        content.push({ type: 'tool-call', id: textFrom(block.id, `toolu_${content.length}`), name: textFrom(block.name), arguments: JSON.stringify(block.input ?? {}) });
        break;
      default:
        // server tool blocks (server_tool_use, web_search_tool_result, …) were run by Anthropic: the
        // caller gets them as hosted-tool parts, nothing to call
        if (isServerToolCall(block.type)) content.push(serverToolCall(block, objectFrom(block.input) ?? {}));
        else if (isServerToolResult(block.type)) content.push(serverToolResult(block));
        break;
    }
  }
  const stopReason = body.stop_reason;
  return {
    id: textFrom(body.id, 'msg_switchyard'),
    model: textFrom(body.model),
    created: Math.floor(Date.now() / 1000),
    content,
    finishReason: finishReasonFrom(stopReason),
    ...(typeof stopReason === 'string' ? { rawFinishReason: stopReason } : {}),
    ...(typeof body.stop_sequence === 'string' ? { stopSequence: body.stop_sequence } : {}),
    usage: usageFrom(body.usage) ?? { inputTokens: 0, outputTokens: 0 },
  };
}

export function decodeTokenCount(raw: unknown): number {
  const count = countFrom(objectFrom(raw)?.input_tokens);
  if (count === undefined) throw protocolError('the token count has no input_tokens (a count)');
  return count;
}
