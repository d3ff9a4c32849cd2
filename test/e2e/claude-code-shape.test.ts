// Claude Code pointed at the gateway by ANTHROPIC_BASE_URL: `/v1/messages?beta=true`, always
// streaming, a large tool-heavy body with cache_control, metadata.user_id and thinking, beta flags
// in headers. Checked three ways: passed through to an Anthropic upstream byte for byte, translated
// to an OpenAI upstream, and translated Anthropic → Anthropic when a thinking suffix is used.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const CLIENT_KEY = 'sk-ant-client-e2e';
const UPSTREAM_KEY = 'sk-ant-api03-upstream';
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/anthropic/${name}`, import.meta.url), 'utf8');
const requestBody = fixture('request-claude-code.json');
const answerStream = fixture('stream-thinking-tool.sse');

/** The SSE fixture as the mock's verbatim event entries. */
const answerEvents = answerStream.trim().split('\n\n');

const claudeCodeHeaders = {
  'content-type': 'application/json',
  authorization: `Bearer ${CLIENT_KEY}`,
  'anthropic-version': '2023-06-01',
  'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14',
  'anthropic-dangerous-direct-browser-access': 'true',
  'x-app': 'cli',
  'user-agent': 'claude-cli/2.0.14 (external, cli)',
};

let anthropicMock: MockUpstream;
let openaiMock: MockUpstream;
let gateway: TestGateway;

before(async () => {
  anthropicMock = await startMockUpstream({ script: () => ({ kind: 'stream', events: answerEvents, headers: { 'request-id': 'req_011CSHq' } }) });
  openaiMock = await startMockUpstream({ streamDeltas: ['All', ' tests', ' pass.'] });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [
      {
        name: 'claude', dialect: 'anthropic', baseUrl: `${anthropicMock.url}/v1`, apiKeys: [UPSTREAM_KEY],
        auth: { header: 'x-api-key', prefix: '' }, headers: { 'anthropic-version': '2023-06-01' },
        // exact names: a glob such as claude-* would also match `model(high)` and swallow the suffix
        models: ['claude-sonnet-4-5-20250929'],
        capabilities: { chat: true, completions: false, embeddings: false, responses: false },
      },
      { name: 'gpt', baseUrl: `${openaiMock.url}/v1`, models: ['mock-gpt'] },
    ],
    models: [{ name: 'gpt-backed-sonnet', targets: [{ provider: 'gpt', model: 'mock-gpt' }] }],
  });
});

after(async () => {
  await gateway?.close();
  await anthropicMock?.close();
  await openaiMock?.close();
});

test('pass-through to Anthropic: same bytes up (query kept, beta and version forwarded, upstream key), same bytes down', async () => {
  const before = anthropicMock.requests.length;
  const response = await fetch(`${gateway.url}/v1/messages?beta=true`, { method: 'POST', headers: claudeCodeHeaders, body: requestBody });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(await response.text(), answerStream, 'the event stream is passed on untouched');
  const sent = anthropicMock.requests[before]!;
  assert.equal(sent.path, '/v1/messages?beta=true');
  assert.equal(sent.rawBody.toString('utf8'), requestBody, 'the body is passed on untouched');
  assert.equal(sent.headers['anthropic-beta'], claudeCodeHeaders['anthropic-beta']);
  assert.equal(sent.headers['anthropic-version'], '2023-06-01');
  assert.equal(sent.headers['x-api-key'], UPSTREAM_KEY);
  assert.equal(sent.headers.authorization, undefined, "the client's key never reaches the provider");
  assert.equal(sent.headers.accept, 'text/event-stream');
});

test('pass-through count_tokens keeps its path and query', async () => {
  anthropicMock.setScript(() => ({ kind: 'json', status: 200, body: { input_tokens: 21450 } }));
  try {
    const body = JSON.parse(requestBody);
    for (const key of ['max_tokens', 'stream', 'metadata', 'temperature', 'context_management']) delete body[key];
    const response = await fetch(`${gateway.url}/v1/messages/count_tokens?beta=true`, { method: 'POST', headers: claudeCodeHeaders, body: JSON.stringify(body) });
    assert.deepEqual(await response.json(), { input_tokens: 21450 });
    assert.equal(anthropicMock.requests.at(-1)!.path, '/v1/messages/count_tokens?beta=true');
  } finally {
    anthropicMock.setScript(() => ({ kind: 'stream', events: answerEvents }));
  }
});

test('translated to an OpenAI upstream: the whole conversation arrives, and the answer streams back in Anthropic events', async () => {
  const body = JSON.parse(requestBody);
  body.model = 'gpt-backed-sonnet';
  const before = openaiMock.requests.length;
  const response = await fetch(`${gateway.url}/v1/messages?beta=true`, { method: 'POST', headers: claudeCodeHeaders, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
  const events = parseSse(await response.text());
  const types = events.map((event) => event.event);
  assert.deepEqual(types, ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
  const delta = JSON.parse(events.at(-2)!.data);
  assert.equal(delta.delta.stop_reason, 'end_turn');
  assert.ok(delta.usage.input_tokens > 0, 'input tokens are reported, not 0');
  assert.equal(delta.usage.output_tokens, 3);

  assert.equal(response.headers.get('x-switchyard-dropped'), 'context_management', 'server-side context editing has no equivalent: dropped, and said so');
  assert.equal(openaiMock.requests[before]!.headers['anthropic-beta'], undefined, 'beta flags are not forwarded to another dialect');
  const sent = openaiMock.requests[before]!.body;
  assert.equal(sent.context_management, undefined);
  assert.equal(sent.model, 'mock-gpt');
  assert.equal(sent.stream, true);
  assert.deepEqual(sent.stream_options, { include_usage: true });
  assert.equal(sent.reasoning_effort, 'high', 'a 31999-token thinking budget maps to high effort');
  assert.deepEqual([sent.max_tokens, sent.temperature], [32000, 1]);
  assert.match(sent.user, /^user_2f4d8a6c/, 'metadata.user_id');
  assert.equal(sent.messages[0].role, 'system');
  assert.match(JSON.stringify(sent.messages[0].content), /You are Claude Code/);
  assert.deepEqual(sent.tools.map((tool: { function: { name: string } }) => tool.function.name), ['Bash', 'Read', 'Edit']);
  assert.equal(sent.tools[0].function.parameters.additionalProperties, false);
  const assistant = sent.messages.find((message: { role: string }) => message.role === 'assistant');
  assert.deepEqual(assistant.tool_calls, [{ id: 'toolu_01A9sQnVb7Kc3mJxT2yRdE4F', type: 'function', function: { name: 'Bash', arguments: '{"command":"npm test","description":"Run the test suite"}' } }]);
  const tool = sent.messages.find((message: { role: string }) => message.role === 'tool');
  assert.equal(tool.tool_call_id, 'toolu_01A9sQnVb7Kc3mJxT2yRdE4F');
  assert.match(tool.content, /^Error: FAIL test\/math\.test\.ts/, 'the error flag survives as text');
});

test('thinking suffix on an Anthropic model: translated Anthropic → Anthropic with caching, signatures and tools intact', async () => {
  const body = JSON.parse(requestBody);
  body.model = 'claude-sonnet-4-5-20250929(high)';
  delete body.thinking;
  const before = anthropicMock.requests.length;
  const response = await fetch(`${gateway.url}/v1/messages?beta=true`, { method: 'POST', headers: claudeCodeHeaders, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
  const events = parseSse(await response.text());
  assert.deepEqual(events.map((event) => event.event).filter((name) => name !== 'content_block_delta'), [
    'message_start', 'content_block_start', 'content_block_stop', 'content_block_start', 'content_block_stop', 'content_block_start', 'content_block_stop', 'message_delta', 'message_stop',
  ]);
  const signature = events.map((event) => JSON.parse(event.data)).find((event) => event.delta?.type === 'signature_delta');
  assert.match(signature.delta.signature, /^ErUBCkYIBhgCIkB3yQmW/, 'the signature comes back verbatim');
  const delta = JSON.parse(events.at(-2)!.data);
  assert.deepEqual(delta.usage, { input_tokens: 312, cache_creation_input_tokens: 1404, cache_read_input_tokens: 18220, output_tokens: 187, output_tokens_details: { thinking_tokens: 61 } });

  const sent = anthropicMock.requests[before]!;
  assert.equal(sent.path, '/v1/messages');
  assert.equal(sent.headers['x-api-key'], UPSTREAM_KEY);
  assert.equal(sent.body.model, 'claude-sonnet-4-5-20250929');
  assert.deepEqual(sent.body.thinking, { type: 'enabled', budget_tokens: 16384 }, 'high effort → a 16384-token budget');
  const original = JSON.parse(requestBody);
  assert.deepEqual(sent.body.system, original.system);
  assert.deepEqual(sent.body.tools, original.tools);
  assert.deepEqual(sent.body.messages, original.messages, 'cache_control, signed thinking and tool results round-trip');
  assert.deepEqual(sent.body.metadata, original.metadata);
  assert.deepEqual(sent.body.context_management, original.context_management, 'an Anthropic provider gets it');
  assert.equal(response.headers.get('x-switchyard-dropped'), null);
});
