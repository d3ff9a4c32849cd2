// The mock upstream's normal answers, as pure functions of the request: OpenAI's wire format for
// /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/responses, streaming
// and not. No I/O here, so the shapes can be checked (and reused as fixtures) without a socket.

export interface SseFrame {
  event?: string;
  data: string;
}

export type DefaultAnswer =
  | { kind: 'json'; status: number; body: unknown }
  | { kind: 'sse'; frames: SseFrame[] };

export interface DefaultAnswerInput {
  method: string;
  /** Path without the query string. */
  pathname: string;
  body: any;
  /** True when a body was sent but is not JSON. */
  malformedBody: boolean;
  /** Makes ids unique per request and deterministic per run. */
  sequence: number;
  /** Unix seconds. */
  now: number;
  models: readonly string[];
  text: string;
  streamDeltas: readonly string[];
}

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAiError(
  message: string,
  type = 'invalid_request_error',
  param: string | null = null,
  code: string | null = null,
): OpenAiErrorBody {
  return { error: { message, type, param, code } };
}

/** A crude, deterministic token count: one per whitespace-led word. */
export function countTokens(text: string): number {
  return text.match(/\s*\S+/g)?.length ?? 0;
}

/** Splits text the way the mock streams it when no explicit deltas are given. */
export function splitIntoDeltas(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [text];
}

export function defaultAnswer(input: DefaultAnswerInput): DefaultAnswer {
  const { method, pathname } = input;
  if (method === 'GET' && pathname === '/v1/models') return json(200, modelList(input));
  if (method === 'GET' && pathname.startsWith('/v1/models/')) return modelByName(input);
  if (method === 'POST') {
    const handler = postHandlers[pathname];
    if (handler !== undefined) {
      if (input.malformedBody || input.body === null || typeof input.body !== 'object') {
        return json(400, openAiError(
          'We could not parse the JSON body of your request. (HINT: This likely means you aren\'t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
        ));
      }
      if (typeof input.body.model !== 'string' || input.body.model === '') {
        return json(400, openAiError('you must provide a model parameter'));
      }
      return handler(input);
    }
  }
  return json(404, openAiError(`Invalid URL (${method} ${pathname})`));
}

const postHandlers: Record<string, (input: DefaultAnswerInput) => DefaultAnswer> = {
  '/v1/chat/completions': (input) => input.body.stream === true ? chatStream(input) : json(200, chatCompletion(input)),
  '/v1/completions': (input) => input.body.stream === true ? completionStream(input) : json(200, textCompletion(input)),
  '/v1/embeddings': (input) => json(200, embeddingList(input)),
  '/v1/responses': (input) => input.body.stream === true ? responseStream(input) : json(200, responseObject(input, 'completed')),
};

function json(status: number, body: unknown): DefaultAnswer {
  return { kind: 'json', status, body };
}

const modelCreated = 1_700_000_000;

function modelList(input: DefaultAnswerInput): unknown {
  return {
    object: 'list',
    data: input.models.map((id) => ({ id, object: 'model', created: modelCreated, owned_by: 'mock' })),
  };
}

function modelByName(input: DefaultAnswerInput): DefaultAnswer {
  const id = decodeURIComponent(input.pathname.slice('/v1/models/'.length));
  if (input.models.includes(id)) return json(200, { id, object: 'model', created: modelCreated, owned_by: 'mock' });
  return json(404, openAiError(`The model '${id}' does not exist`, 'invalid_request_error', 'model', 'model_not_found'));
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(textOf).join(' ');
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.text === 'string') return record.text;
    if ('content' in record) return textOf(record.content);
  }
  return '';
}

function promptTokens(...parts: unknown[]): number {
  return Math.max(1, countTokens(parts.map(textOf).join(' ')));
}

// --- chat completions -------------------------------------------------------------------------

function chatUsage(input: DefaultAnswerInput, completionText: string): unknown {
  const prompt = promptTokens(input.body.messages);
  const completion = countTokens(completionText);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function chatCompletion(input: DefaultAnswerInput): unknown {
  return {
    id: `chatcmpl-mock${input.sequence}`,
    object: 'chat.completion',
    created: input.now,
    model: input.body.model,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: input.text, refusal: null, annotations: [] },
      logprobs: null,
      finish_reason: 'stop',
    }],
    usage: chatUsage(input, input.text),
    service_tier: 'default',
    system_fingerprint: 'fp_mock',
  };
}

function includeUsage(input: DefaultAnswerInput): boolean {
  return input.body.stream_options?.include_usage === true;
}

function chatStream(input: DefaultAnswerInput): DefaultAnswer {
  const withUsage = includeUsage(input);
  const chunk = (choices: unknown[], usage?: unknown): SseFrame => {
    const body: Record<string, unknown> = {
      id: `chatcmpl-mock${input.sequence}`,
      object: 'chat.completion.chunk',
      created: input.now,
      model: input.body.model,
      service_tier: 'default',
      system_fingerprint: 'fp_mock',
      choices,
    };
    // OpenAI sends "usage": null on every chunk once usage was asked for.
    if (withUsage) body.usage = usage ?? null;
    return { data: JSON.stringify(body) };
  };
  const choice = (delta: unknown, finishReason: string | null) => ({ index: 0, delta, logprobs: null, finish_reason: finishReason });
  const frames = [chunk([choice({ role: 'assistant', content: '' }, null)])];
  for (const delta of input.streamDeltas) frames.push(chunk([choice({ content: delta }, null)]));
  frames.push(chunk([choice({}, 'stop')]));
  if (withUsage) frames.push(chunk([], chatUsage(input, input.streamDeltas.join(''))));
  frames.push({ data: '[DONE]' });
  return { kind: 'sse', frames };
}

// --- legacy completions -----------------------------------------------------------------------

function completionUsage(input: DefaultAnswerInput, completionText: string): unknown {
  const prompt = promptTokens(input.body.prompt);
  const completion = countTokens(completionText);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function completionEnvelope(input: DefaultAnswerInput, choices: unknown[]): Record<string, unknown> {
  return {
    id: `cmpl-mock${input.sequence}`,
    object: 'text_completion',
    created: input.now,
    model: input.body.model,
    system_fingerprint: 'fp_mock',
    choices,
  };
}

function textCompletion(input: DefaultAnswerInput): unknown {
  return {
    ...completionEnvelope(input, [{ text: input.text, index: 0, logprobs: null, finish_reason: 'stop' }]),
    usage: completionUsage(input, input.text),
  };
}

function completionStream(input: DefaultAnswerInput): DefaultAnswer {
  const withUsage = includeUsage(input);
  const chunk = (choices: unknown[], usage?: unknown): SseFrame => {
    const body = completionEnvelope(input, choices);
    if (withUsage) body.usage = usage ?? null;
    return { data: JSON.stringify(body) };
  };
  const frames: SseFrame[] = [];
  for (const delta of input.streamDeltas) {
    frames.push(chunk([{ text: delta, index: 0, logprobs: null, finish_reason: null }]));
  }
  frames.push(chunk([{ text: '', index: 0, logprobs: null, finish_reason: 'stop' }]));
  if (withUsage) frames.push(chunk([], completionUsage(input, input.streamDeltas.join(''))));
  frames.push({ data: '[DONE]' });
  return { kind: 'sse', frames };
}

// --- embeddings -------------------------------------------------------------------------------

function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return [''];
  // number[] is one tokenised input; string[] and number[][] are several.
  if (typeof input[0] === 'number') return [input.join(',')];
  return input.map((item) => (Array.isArray(item) ? item.join(',') : String(item)));
}

/** FNV-1a seeded, then a xorshift walk: the same text always gets the same vector. */
export function mockEmbedding(text: string, dimensions = 8): Float32Array {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const vector = new Float32Array(dimensions);
  let state = hash || 1;
  for (let index = 0; index < dimensions; index++) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    vector[index] = (state / 0xffffffff) * 2 - 1;
  }
  return vector;
}

function embeddingList(input: DefaultAnswerInput): unknown {
  const texts = embeddingInputs(input.body.input);
  const requested = input.body.dimensions;
  const dimensions = Number.isInteger(requested) && requested > 0 ? requested as number : 8;
  const base64 = input.body.encoding_format === 'base64';
  const data = texts.map((text, index) => {
    const vector = mockEmbedding(text, dimensions);
    const embedding = base64
      ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
      : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  const tokens = Math.max(1, countTokens(texts.join(' ')));
  return { object: 'list', data, model: input.body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

// --- responses --------------------------------------------------------------------------------

function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

function messageItem(input: DefaultAnswerInput, status: string, content: unknown[]): Record<string, unknown> {
  return { id: `msg_mock${input.sequence}`, type: 'message', status, content, role: 'assistant' };
}

function responseObject(input: DefaultAnswerInput, status: 'in_progress' | 'completed', text = input.text): Record<string, unknown> {
  const body = input.body;
  const done = status === 'completed';
  const inputTokens = promptTokens(body.instructions, body.input);
  const outputTokens = countTokens(text);
  return {
    id: `resp_mock${input.sequence}`,
    object: 'response',
    created_at: input.now,
    status,
    background: false,
    completed_at: done ? input.now : null,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: null,
    model: body.model,
    output: done ? [messageItem(input, 'completed', [outputText(text)])] : [],
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    service_tier: 'default',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: done
      ? {
          input_tokens: inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: inputTokens + outputTokens,
        }
      : null,
    user: null,
    metadata: body.metadata ?? {},
  };
}

function responseStream(input: DefaultAnswerInput): DefaultAnswer {
  const frames: SseFrame[] = [];
  const emit = (type: string, fields: Record<string, unknown>): void => {
    frames.push({ event: type, data: JSON.stringify({ type, sequence_number: frames.length, ...fields }) });
  };
  const text = input.streamDeltas.join('');
  const itemId = `msg_mock${input.sequence}`;
  const position = { item_id: itemId, output_index: 0, content_index: 0 };
  emit('response.created', { response: responseObject(input, 'in_progress') });
  emit('response.in_progress', { response: responseObject(input, 'in_progress') });
  emit('response.output_item.added', { output_index: 0, item: messageItem(input, 'in_progress', []) });
  emit('response.content_part.added', { ...position, part: outputText('') });
  for (const delta of input.streamDeltas) emit('response.output_text.delta', { ...position, delta, logprobs: [] });
  emit('response.output_text.done', { ...position, text, logprobs: [] });
  emit('response.content_part.done', { ...position, part: outputText(text) });
  emit('response.output_item.done', { output_index: 0, item: messageItem(input, 'completed', [outputText(text)]) });
  emit('response.completed', { response: responseObject(input, 'completed', text) });
  return { kind: 'sse', frames };
}
