// Codex's traffic, as its Responses client sends it (large instructions, developer and user
// items, reasoning and tool history with encrypted content, function and custom tools, store:
// false, stream: true, include, prompt_cache_key, text.verbosity), checked against upstreams of
// other dialects and against a Responses upstream reached through a thinking suffix.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { responsesClient } from '../conformance/dialects/openai-responses.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;
const codexBody = JSON.parse(readFileSync(new URL('../fixtures/responses/codex-request.json', import.meta.url), 'utf8')) as Json;

const chunk = (delta: Json, finish: string | null = null) => JSON.stringify({ id: 'chatcmpl-codex', object: 'chat.completion.chunk', created: 1, model: 'gpt-5-codex', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });

/** The chat upstream answers with a shell call, arguments in pieces, and usage. */
function chatAnswer(): Behavior {
  return {
    kind: 'stream',
    events: [
      chunk({ role: 'assistant', content: '' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_test_1', type: 'function', function: { name: 'shell', arguments: '{"command":["npm",' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"test"]}' } }] }),
      chunk({}, 'tool_calls'),
      JSON.stringify({ id: 'chatcmpl-codex', object: 'chat.completion.chunk', created: 1, model: 'gpt-5-codex', choices: [], usage: { prompt_tokens: 900, completion_tokens: 30, total_tokens: 930, prompt_tokens_details: { cached_tokens: 800 } } }),
      '[DONE]',
    ],
  };
}

let chatMock: MockUpstream;
let responsesMock: MockUpstream;
let gateway: TestGateway;

before(async () => {
  chatMock = await startMockUpstream({ script: (): Behavior => chatAnswer() });
  responsesMock = await startMockUpstream();
  gateway = await startTestGateway({
    providers: [
      { name: 'chat', baseUrl: `${chatMock.url}/v1`, models: ['gpt-5-codex'], capabilities: { chat: true, completions: false, embeddings: false, responses: false } },
      { name: 'oai', dialect: 'openai-responses', baseUrl: `${responsesMock.url}/v1`, models: ['codex-mini'], capabilities: { chat: false, completions: false, embeddings: false, responses: true } },
    ],
  });
});

after(async () => {
  await gateway?.close();
  await chatMock?.close();
  await responsesMock?.close();
});

async function post(body: Json): Promise<{ status: number; text: string }> {
  const response = await fetch(`${gateway.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer codex', 'openai-beta': 'responses=experimental', session_id: '0199d0c1' },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

test('Codex → an OpenAI chat upstream: history, custom tools and settings translated; response.completed ends the stream', async () => {
  const { status, text } = await post(codexBody);
  assert.equal(status, 200, text);
  const outcome = responsesClient.parse(status, new Headers(), text, true);
  assert.deepEqual(outcome.toolCalls, [{ id: 'call_test_1', name: 'shell', args: { command: ['npm', 'test'] } }]);
  assert.deepEqual(outcome.usage, { input: 900, output: 30, cached: 800 });
  const upstream = chatMock.requests.at(-1)!.body as Json;
  assert.deepEqual(upstream.messages.map((message: Json) => message.role), ['system', 'system', 'user', 'user', 'assistant', 'tool', 'assistant', 'tool', 'assistant', 'user']);
  assert.deepEqual(upstream.messages[4].tool_calls[0].function.name, 'shell');
  assert.deepEqual(JSON.parse(upstream.messages[6].tool_calls[0].function.arguments), { input: '*** Begin Patch\n*** Update File: README.md\n-teh\n+the\n*** End Patch' });
  assert.deepEqual(upstream.tools.map((tool: Json) => tool.function.name), ['shell', 'apply_patch']);
  assert.deepEqual(upstream.tools[1].function.parameters.required, ['input']);
  assert.equal(upstream.reasoning_effort, 'medium');
  assert.equal(upstream.parallel_tool_calls, false);
  assert.equal(upstream.stream, true);
  for (const field of ['store', 'include', 'prompt_cache_key', 'text', 'instructions', 'input']) assert.equal(upstream[field], undefined, `${field} is not sent to a chat upstream`);
});

test('a custom tool call answered by a chat upstream comes back as custom_tool_call with its raw input', async () => {
  chatMock.setScript(() => ({
    kind: 'stream',
    events: [
      chunk({ role: 'assistant', content: '' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_patch_9', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '*** End Patch"}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ],
  }));
  const { status, text } = await post(codexBody);
  chatMock.setScript(() => chatAnswer());
  assert.equal(status, 200, text);
  const events = parseSse(text).map((event) => JSON.parse(event.data) as Json);
  const done = events.find((event) => event.type === 'response.output_item.done')!;
  assert.deepEqual([done.item.type, done.item.call_id, done.item.name, done.item.input], ['custom_tool_call', 'call_patch_9', 'apply_patch', '*** Begin Patch\n*** End Patch']);
  assert.equal(events.at(-1)!.type, 'response.completed');
});

test('Codex → a Responses upstream through a thinking suffix: translated both ways, own fields kept', async () => {
  const { status, text } = await post({ ...codexBody, model: 'codex-mini(high)' });
  assert.equal(status, 200, text);
  const events = parseSse(text).map((event) => JSON.parse(event.data) as Json);
  assert.equal(events.at(-1)!.type, 'response.completed');
  assert.equal(events.filter((event) => event.type === 'response.output_text.delta').map((event) => event.delta).join(''), 'Hello from the mock.');
  const request: RecordedRequest = responsesMock.requests.at(-1)!;
  assert.equal(request.path, '/v1/responses');
  const upstream = request.body as Json;
  assert.equal(upstream.model, 'codex-mini');
  assert.deepEqual(upstream.reasoning, { effort: 'high', summary: 'auto' });
  assert.equal(upstream.store, false);
  assert.deepEqual(upstream.include, ['reasoning.encrypted_content']);
  assert.equal(upstream.prompt_cache_key, codexBody.prompt_cache_key);
  assert.deepEqual(upstream.text, { verbosity: 'low' });
  assert.equal(upstream.instructions, codexBody.instructions);
  const reasoning = (upstream.input as Json[]).find((item) => item.type === 'reasoning');
  assert.equal(reasoning?.encrypted_content, 'gAAAAABo1-encrypted-reasoning-blob==', 'encrypted reasoning sent back verbatim');
});
