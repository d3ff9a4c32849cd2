// Pre-encoded answers of the benchmark mock, in the OpenAI (Chat Completions) and Anthropic
// (Messages) dialects. Everything is built once per profile so the mock spends its CPU on
// sockets, not on JSON.

const created = 1_700_000_000;
const words = ['The', ' quick', ' brown', ' fox', ' jumps', ' over', ' the', ' lazy', ' dog', '.'];

function word(index: number): string {
  return words[index % words.length]!;
}

/** Grows the assistant text until the whole JSON answer is about `targetBytes` long. */
function sizedAnswer(render: (text: string) => string, targetBytes: number): Buffer {
  let text = '';
  let index = 0;
  while (Buffer.byteLength(render(text + word(index))) <= targetBytes) text += word(index++);
  return Buffer.from(render(text));
}

export const openaiCompletion: Buffer = sizedAnswer((text) => JSON.stringify({
  id: 'chatcmpl-bench0001', object: 'chat.completion', created, model: 'bench-model', system_fingerprint: 'fp_bench',
  choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 42, completion_tokens: 64, total_tokens: 106 },
}), 600);

export const anthropicMessage: Buffer = sizedAnswer((text) => JSON.stringify({
  id: 'msg_bench0001', type: 'message', role: 'assistant', model: 'bench-model',
  content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null,
  usage: { input_tokens: 42, output_tokens: 64 },
}), 600);

/** A stream as the first write (sent after the latency), `deltas - 1` later writes, and a tail. */
export interface StreamScript {
  first: Buffer;
  deltas: Buffer[];
  tail: Buffer;
}

function openaiChunk(delta: Record<string, unknown>, finish: string | null, usage?: Record<string, number>): string {
  const chunk: Record<string, unknown> = {
    id: 'chatcmpl-bench0001', object: 'chat.completion.chunk', created, model: 'bench-model', system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
  if (usage !== undefined) chunk.usage = usage;
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

export function openaiStream(deltas: number): StreamScript {
  const count = Math.max(1, deltas);
  const rest: Buffer[] = [];
  for (let i = 1; i < count; i++) rest.push(Buffer.from(openaiChunk({ content: word(i) }, null)));
  return {
    first: Buffer.from(openaiChunk({ role: 'assistant', content: word(0) }, null)),
    deltas: rest,
    tail: Buffer.from(openaiChunk({}, 'stop', { prompt_tokens: 42, completion_tokens: count, total_tokens: 42 + count }) + 'data: [DONE]\n\n'),
  };
}

function anthropicEvent(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export function anthropicStream(deltas: number): StreamScript {
  const count = Math.max(1, deltas);
  const delta = (i: number) => anthropicEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: word(i) } });
  const rest: Buffer[] = [];
  for (let i = 1; i < count; i++) rest.push(Buffer.from(delta(i)));
  const start = anthropicEvent('message_start', {
    message: {
      id: 'msg_bench0001', type: 'message', role: 'assistant', model: 'bench-model', content: [],
      stop_reason: null, stop_sequence: null, usage: { input_tokens: 42, output_tokens: 1 },
    },
  });
  return {
    first: Buffer.from(start + anthropicEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }) + delta(0)),
    deltas: rest,
    tail: Buffer.from(
      anthropicEvent('content_block_stop', { index: 0 }) +
      anthropicEvent('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: count } }) +
      anthropicEvent('message_stop', {}),
    ),
  };
}

const responseId = 'resp_bench0001';
const responseItemId = 'msg_bench0001';
const responsesUsage = (output: number) => ({
  input_tokens: 42, input_tokens_details: { cached_tokens: 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 42 + output,
});

function responseObject(status: string, output: unknown[], usage: unknown): Record<string, unknown> {
  return {
    id: responseId, object: 'response', created_at: created, status, error: null, incomplete_details: null, instructions: null,
    model: 'bench-model', output, parallel_tool_calls: true, previous_response_id: null, store: false, tool_choice: 'auto', tools: [], usage,
  };
}

export const responsesMessage: Buffer = sizedAnswer((text) => JSON.stringify(responseObject('completed', [
  { id: responseItemId, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], text }] },
], responsesUsage(64))), 600);

function responsesEvent(type: string, sequence: number, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...data })}\n\n`;
}

/** The OpenAI Responses API's stream: created, one message item, text deltas, completed with usage. */
export function responsesStream(deltas: number): StreamScript {
  const count = Math.max(1, deltas);
  const place = { item_id: responseItemId, output_index: 0, content_index: 0 };
  const delta = (i: number) => responsesEvent('response.output_text.delta', 4 + i, { ...place, delta: word(i) });
  const rest: Buffer[] = [];
  for (let i = 1; i < count; i++) rest.push(Buffer.from(delta(i)));
  let text = '';
  for (let i = 0; i < count; i++) text += word(i);
  const item = { id: responseItemId, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], text }] };
  const sequence = 4 + count;
  return {
    first: Buffer.from(
      responsesEvent('response.created', 0, { response: responseObject('in_progress', [], null) }) +
      responsesEvent('response.in_progress', 1, { response: responseObject('in_progress', [], null) }) +
      responsesEvent('response.output_item.added', 2, { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }) +
      responsesEvent('response.content_part.added', 3, { ...place, part: { type: 'output_text', annotations: [], text: '' } }) +
      delta(0),
    ),
    deltas: rest,
    tail: Buffer.from(
      responsesEvent('response.output_text.done', sequence, { ...place, text }) +
      responsesEvent('response.content_part.done', sequence + 1, { ...place, part: item.content[0] }) +
      responsesEvent('response.output_item.done', sequence + 2, { output_index: 0, item }) +
      responsesEvent('response.completed', sequence + 3, { response: responseObject('completed', [item], responsesUsage(count)) }),
    ),
  };
}
