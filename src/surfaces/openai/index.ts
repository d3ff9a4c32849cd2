// The OpenAI surfaces: Chat Completions, Completions, Embeddings, Responses (same-dialect pass-through).
import type { SurfaceAdapter } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { Operation } from '../../canonical/request.ts';
import { encodeOpenAIError, encodeOpenAIStreamError, encodeResponsesStreamError } from './errors.ts';
import { inspectOpenAIRequest } from './inspect.ts';

const DONE = [Buffer.from('data: [DONE]'), Buffer.from('data:[DONE]')];
const RESPONSE_TERMINALS = [
  Buffer.from('event: response.completed'),
  Buffer.from('event: response.failed'),
  Buffer.from('event: response.incomplete'),
  Buffer.from('data: {"type":"response.completed"'),
  Buffer.from('data: {"type":"response.failed"'),
  Buffer.from('data: {"type":"response.incomplete"'),
];

/**
 * True when a marker starts a line of the batch. JSON strings cannot hold a raw newline, so text
 * inside a delta that happens to read "data: [DONE]" can never match.
 */
function startsAnyLine(events: Buffer, markers: readonly Buffer[]): boolean {
  for (const marker of markers) {
    for (let at = events.indexOf(marker); at >= 0; at = events.indexOf(marker, at + 1)) {
      if (at === 0 || events[at - 1] === 0x0a) return true;
    }
  }
  return false;
}

class OpenAISurface implements SurfaceAdapter {
  readonly name: string;
  readonly dialect = 'openai';
  readonly operation: Operation;

  constructor(name: string, operation: Operation) {
    this.name = name;
    this.operation = operation;
  }

  inspect(body: unknown) {
    return inspectOpenAIRequest(this.operation, body);
  }

  isStreamTerminal(events: Buffer): boolean {
    return startsAnyLine(events, this.operation === 'responses' ? RESPONSE_TERMINALS : DONE);
  }

  encodeError(error: ErrorInfo) {
    return encodeOpenAIError(error);
  }

  encodeStreamError(error: ErrorInfo): Buffer {
    return this.operation === 'responses' ? encodeResponsesStreamError(error) : encodeOpenAIStreamError(error);
  }
}

export const openaiChat: SurfaceAdapter = new OpenAISurface('openai-chat', 'chat');
export const openaiCompletions: SurfaceAdapter = new OpenAISurface('openai-completions', 'completions');
export const openaiEmbeddings: SurfaceAdapter = new OpenAISurface('openai-embeddings', 'embeddings');
export const openaiResponses: SurfaceAdapter = new OpenAISurface('openai-responses', 'responses');

export { encodeOpenAIError } from './errors.ts';

/** `GET /v1/models` in OpenAI's list shape. */
export function encodeOpenAIModelList(models: readonly { id: string; ownedBy: string }[], created: number): string {
  return JSON.stringify({ object: 'list', data: models.map((model) => ({ id: model.id, object: 'model', created, owned_by: model.ownedBy })) });
}

export function encodeOpenAIModel(model: { id: string; ownedBy: string }, created: number): string {
  return JSON.stringify({ id: model.id, object: 'model', created, owned_by: model.ownedBy });
}
