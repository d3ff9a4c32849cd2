// The Anthropic surfaces: Messages (`POST /v1/messages`) and token counting
// (`POST /v1/messages/count_tokens`).
import type {
  CanonicalOperation, ChatSurfaceCodec, CountTokensSurfaceCodec, FinalEventWatch, RequestSummary, SurfaceAdapter, SurfaceRequest, WireResponse, Wire,
} from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import { decodeMessagesRequest } from './decode-request.ts';
import { encodeAnthropicError, encodeAnthropicStreamError } from './encode-error.ts';
import { encodeMessagesResponse } from './encode-response.ts';
import { MessagesStreamEncoder } from './encode-stream.ts';
import { inspectMessages, inspectMessagesRequest, MESSAGES_TOP_LEVEL } from './inspect.ts';
import { lastMemberIsString, LineMarkers, lineStartsWithName } from '../../streaming/frame-scan.ts';

const ERROR_EVENTS = new LineMarkers(['event: error', 'event:error']);
/**
 * A stream is complete with message_stop; an error event also ends it (Anthropic sends nothing after).
 * Two names, each rare in a stream: a native search for each beats one pass over every line start
 * (bench/micro/stream-markers.ts), most of all on the batch that holds the end.
 */
const MESSAGE_STOP = Buffer.from('message_stop');
const ERROR = Buffer.from('error');
/** How a line leads to an event's type: its event field, or (servers that send data lines only) the data's type. */
const EVENT_TYPE_LINES = [Buffer.from('event: '), Buffer.from('event:'), Buffer.from('data: {"type":"'), Buffer.from('data: {"type": "')];

/**
 * The final event is message_delta with the stop_reason (message_start carries `"stop_reason":null`);
 * only message_stop follows it, so the last stop_reason of a batch tells. Stateless: one watch
 * serves every stream.
 */
class StopReasonWatch implements FinalEventWatch {
  readonly terminator = Buffer.from('event: message_stop\ndata: {"type":"message_stop"}\n\n');
  private readonly key = Buffer.from('"stop_reason":');

  sees(events: Buffer): boolean {
    return lastMemberIsString(events, this.key);
  }
}

const STOP_REASON_WATCH = new StopReasonWatch();

const messagesCodec: ChatSurfaceCodec = {
  decodeRequest: decodeMessagesRequest,
  encodeResponse: encodeMessagesResponse,
  createStreamEncoder: () => new MessagesStreamEncoder(),
};

const countTokensCodec: CountTokensSurfaceCodec = {
  decodeRequest: decodeMessagesRequest,
  encodeResponse: (inputTokens) => `{"input_tokens":${inputTokens}}`,
};

class AnthropicSurface implements SurfaceAdapter {
  readonly name: string;
  readonly dialect = 'anthropic';
  readonly wire: Wire;
  readonly operation: CanonicalOperation;
  readonly streamFraming = 'sse' as const;
  readonly chat: ChatSurfaceCodec | undefined;
  readonly countTokens: CountTokensSurfaceCodec | undefined;
  readonly topLevel = MESSAGES_TOP_LEVEL;

  constructor(name: string, wire: Wire, operation: CanonicalOperation) {
    this.name = name;
    this.wire = wire;
    this.operation = operation;
    this.chat = operation === 'chat' ? messagesCodec : undefined;
    this.countTokens = operation === 'count-tokens' ? countTokensCodec : undefined;
  }

  inspect(body: unknown, _request: SurfaceRequest): RequestSummary {
    return inspectMessagesRequest(body, this.operation === 'count-tokens');
  }

  inspectWhole(body: unknown): void {
    inspectMessages(body);
  }

  isStreamTerminal(events: Buffer): boolean {
    return lineStartsWithName(events, MESSAGE_STOP, EVENT_TYPE_LINES) || lineStartsWithName(events, ERROR, EVENT_TYPE_LINES);
  }

  finalEventWatch(_summary: RequestSummary): FinalEventWatch {
    return STOP_REASON_WATCH;
  }

  isStreamError(events: Buffer): boolean {
    return ERROR_EVENTS.startAnyLine(events);
  }

  encodeError(error: ErrorInfo): WireResponse {
    return encodeAnthropicError(error);
  }

  encodeStreamError(error: ErrorInfo): Buffer {
    return Buffer.from(encodeAnthropicStreamError(error));
  }
}

export const anthropicMessages: SurfaceAdapter = new AnthropicSurface('anthropic-messages', 'anthropic-messages', 'chat');
export const anthropicCountTokens: SurfaceAdapter = new AnthropicSurface('anthropic-count-tokens', 'anthropic-count-tokens', 'count-tokens');
