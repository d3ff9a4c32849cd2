// Hosted tools through the real gateway: each caller dialect's web search (Responses `web_search`,
// Anthropic's `web_search_20250305`, Gemini's `googleSearch`, Chat Completions'
// `web_search_options`) sent to providers of every other dialect, whose mock upstreams answer
// with their recorded web-search shapes — the search mapped upstream, its results and citations
// back in the caller's dialect, streamed and not. Then the `unsupported_tools` policy: dropped
// (the answer and the access log say so) or refused, per provider and per alias; Claude Code's
// server tools, context_management and beta headers, and earlier hosted calls in a history.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;
const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const events = (text: string): string[] => text.trim().split(/\r?\n\r?\n/);

// --- upstreams: each answers every request with its dialect's recorded web search -------------

type Upstream = 'anthropic' | 'responses' | 'gemini' | 'chat';

const answers: Record<Upstream, (request: RecordedRequest) => Behavior> = {
  anthropic: (request) => request.body?.stream === true
    ? { kind: 'stream', events: events(fixture('anthropic/stream-web-search.sse')) }
    : { kind: 'json', status: 200, body: { ...JSON.parse(fixture('anthropic/message-web-search.json')), stop_reason: 'end_turn' } },
  responses: (request) => request.body?.stream === true
    ? { kind: 'stream', events: events(fixture('responses/stream-web-search.sse')) }
    : { kind: 'json', status: 200, body: JSON.parse(fixture('responses/response-web-search.json')) },
  gemini: (request) => request.path.includes(':streamGenerateContent')
    ? { kind: 'stream', events: events(fixture('gemini/stream-grounding.sse')) }
    : { kind: 'json', status: 200, body: JSON.parse(fixture('gemini/generate-response-grounding.json')) },
  chat: (request) => request.body?.model === 'broken-model'
    ? { kind: 'raw', status: 200, body: 'not json', headers: { 'content-type': 'application/json' } }
    : request.body?.model !== 'gpt-4o-search-preview'
    ? { kind: 'default' }
    : request.body?.stream === true
      ? { kind: 'stream', events: events(fixture('openai/chat-stream-search.sse')) }
      : { kind: 'json', status: 200, body: JSON.parse(fixture('openai/chat-response-search.json')) },
};

/** The model each upstream is asked for: the chat one is a search model, the only kind with a web search. */
const models: Record<Upstream, string> = { anthropic: 'claude-sonnet-4-5', responses: 'gpt-5', gemini: 'gemini-2.5-flash', chat: 'gpt-4o-search-preview' };

const mocks = new Map<Upstream, MockUpstream>();
let gateway: TestGateway;

before(async () => {
  for (const name of Object.keys(answers) as Upstream[]) mocks.set(name, await startMockUpstream({ script: answers[name] }));
  const url = (name: Upstream): string => mocks.get(name)!.url;
  gateway = await startTestGateway({
    providers: [
      { name: 'anthropic', dialect: 'anthropic', baseUrl: `${url('anthropic')}/v1`, auth: { header: 'x-api-key', prefix: '' }, headers: { 'anthropic-version': '2023-06-01' }, models: ['claude-*'], capabilities: { chat: true, completions: false, embeddings: false, responses: false } },
      { name: 'responses', dialect: 'openai-responses', baseUrl: `${url('responses')}/v1`, models: ['gpt-5'], capabilities: { chat: false, completions: false, embeddings: false, responses: true } },
      { name: 'gemini', dialect: 'gemini', baseUrl: `${url('gemini')}/v1beta`, auth: { header: 'x-goog-api-key', prefix: '' }, models: ['gemini-*'], capabilities: { chat: true, completions: false, embeddings: false, responses: false } },
      { name: 'chat', baseUrl: `${url('chat')}/v1`, models: ['gpt-4o-search-preview', 'plain-model', 'broken-model'], capabilities: { chat: true, completions: false, embeddings: false, responses: false } },
      { name: 'strict', baseUrl: `${url('chat')}/v1`, models: ['strict-model'], unsupportedTools: 'reject', capabilities: { chat: true, completions: false, embeddings: false, responses: false } },
    ],
    models: [
      { name: 'lenient', targets: [{ provider: 'strict', model: 'strict-model' }], unsupportedTools: 'drop' },
      { name: 'rigid', targets: [{ provider: 'chat', model: 'plain-model' }], unsupportedTools: 'reject' },
      { name: 'strict-then-plain', strategy: 'fill-first', targets: [{ provider: 'strict', model: 'strict-model' }, { provider: 'chat', model: 'plain-model' }] },
    ],
  });
});

after(async () => {
  await gateway?.close();
  for (const mock of mocks.values()) await mock.close();
});

// --- callers: each asks for a web search in its own dialect, and reads the answer back ---------

type Caller = 'responses' | 'anthropic' | 'gemini' | 'chat';

interface Call { path: string; headers: Record<string, string>; body: Json }

function callOf(caller: Caller, model: string, stream: boolean): Call {
  const question = 'When was Node.js 24 released?';
  switch (caller) {
    case 'responses':
      return { path: '/v1/responses', headers: {}, body: { model, input: question, tools: [{ type: 'web_search' }], stream } };
    case 'anthropic':
      return {
        path: '/v1/messages', headers: { 'anthropic-version': '2023-06-01' },
        body: { model, max_tokens: 1024, messages: [{ role: 'user', content: question }], tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 8 }], stream },
      };
    case 'gemini':
      return {
        path: `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`, headers: {},
        body: { contents: [{ role: 'user', parts: [{ text: question }] }], tools: [{ googleSearch: {} }] },
      };
    case 'chat':
      return { path: '/v1/chat/completions', headers: {}, body: { model, messages: [{ role: 'user', content: question }], web_search_options: {}, stream } };
  }
}

interface Reply { status: number; headers: Headers; text: string; id: string }

async function send(call: Call): Promise<Reply> {
  const response = await fetch(gateway.url + call.path, { method: 'POST', headers: { 'content-type': 'application/json', ...call.headers }, body: JSON.stringify(call.body) });
  return { status: response.status, headers: response.headers, text: await response.text(), id: response.headers.get('x-request-id') ?? '' };
}

/** What a caller sees of the search: whether the call is shown, its queries, the cited URLs, the text. */
interface Seen { searched: boolean; queries: string[]; sources: string[]; cited: string[]; text: string }

const json = (text: string): Json[] => parseSse(text).filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data) as Json);

function seenByResponses(reply: Reply, stream: boolean): Seen {
  const response = stream ? json(reply.text).find((event) => event.type === 'response.completed')!.response : JSON.parse(reply.text);
  const calls = response.output.filter((item: Json) => item.type === 'web_search_call');
  const texts = response.output.filter((item: Json) => item.type === 'message').flatMap((item: Json) => item.content);
  if (stream) {
    const added = json(reply.text).filter((event) => event.type === 'response.output_text.annotation.added').map((event) => event.annotation.url);
    assert.deepEqual(added, texts.flatMap((part: Json) => part.annotations.map((annotation: Json) => annotation.url)), 'each annotation streamed as it was added');
  }
  return {
    searched: calls.length > 0, queries: calls.map((item: Json) => item.action.query), sources: [],
    cited: texts.flatMap((part: Json) => part.annotations.map((annotation: Json) => annotation.url)), text: texts.map((part: Json) => part.text).join(''),
  };
}

function seenByAnthropic(reply: Reply, stream: boolean): Seen {
  let content: Json[];
  if (!stream) content = JSON.parse(reply.text).content;
  else {
    content = [];
    const inputs: string[] = [];
    for (const event of json(reply.text)) {
      if (event.type === 'content_block_start') {
        content[event.index] = structuredClone(event.content_block);
        inputs[event.index] = '';
      } else if (event.type === 'content_block_delta') {
        const block = content[event.index]!;
        if (event.delta.type === 'text_delta') block.text += event.delta.text;
        if (event.delta.type === 'input_json_delta') inputs[event.index] += event.delta.partial_json;
        if (event.delta.type === 'citations_delta') (block.citations ??= []).push(event.delta.citation);
      } else if (event.type === 'content_block_stop' && inputs[event.index]!.length > 0) content[event.index]!.input = JSON.parse(inputs[event.index]!);
    }
  }
  const calls = content.filter((block) => block.type === 'server_tool_use');
  for (const call of calls) assert.ok(content.some((block) => block.type === 'web_search_tool_result' && block.tool_use_id === call.id), 'each call has its result');
  const texts = content.filter((block) => block.type === 'text');
  return {
    searched: calls.length > 0, queries: calls.map((block) => block.input.query),
    sources: content.filter((block) => block.type === 'web_search_tool_result').flatMap((block) => block.content.map((result: Json) => result.url)),
    cited: texts.flatMap((block) => (block.citations ?? []).map((citation: Json) => citation.url)), text: texts.map((block) => block.text).join(''),
  };
}

function seenByGemini(reply: Reply, stream: boolean): Seen {
  const chunks = stream ? json(reply.text) : [JSON.parse(reply.text)];
  const text = chunks.flatMap((chunk) => chunk.candidates[0].content?.parts ?? []).map((part: Json) => part.text ?? '').join('');
  const metadata = chunks.at(-1)!.candidates[0].groundingMetadata;
  if (metadata === undefined) return { searched: false, queries: [], sources: [], cited: [], text };
  for (const support of metadata.groundingSupports ?? []) {
    assert.equal(Buffer.from(text).subarray(support.segment.startIndex ?? 0, support.segment.endIndex).toString(), support.segment.text, 'segments in UTF-8 bytes over the answer');
  }
  return {
    searched: metadata.webSearchQueries.length > 0, queries: metadata.webSearchQueries, sources: metadata.groundingChunks.map((chunk: Json) => chunk.web.uri),
    cited: [...new Set<string>((metadata.groundingSupports ?? []).flatMap((support: Json) => support.groundingChunkIndices.map((index: number) => metadata.groundingChunks[index].web.uri)))], text,
  };
}

function seenByChat(reply: Reply, stream: boolean): Seen {
  let text: string;
  let annotations: Json[];
  if (stream) {
    const chunks = json(reply.text).filter((chunk) => chunk.choices?.length > 0);
    text = chunks.map((chunk) => chunk.choices[0].delta.content ?? '').join('');
    annotations = chunks.flatMap((chunk) => chunk.choices[0].delta.annotations ?? []);
  } else {
    const message = JSON.parse(reply.text).choices[0].message;
    text = message.content;
    annotations = message.annotations ?? [];
  }
  for (const annotation of annotations) assert.ok(annotation.url_citation.end_index <= text.length, 'offsets within the content');
  return { searched: false, queries: [], sources: [], cited: annotations.map((annotation) => annotation.url_citation.url), text };
}

const readers: Record<Caller, (reply: Reply, stream: boolean) => Seen> = { responses: seenByResponses, anthropic: seenByAnthropic, gemini: seenByGemini, chat: seenByChat };

/** What each upstream's recorded answer searched for and cites. */
const expected: Record<Upstream, { query: string; cited: string; text: RegExp }> = {
  anthropic: { query: 'node.js 24 release date', cited: 'https://nodejs.org/en/blog/release/v24.0.0', text: /Node\.js 24 was released on May 6, 2025|Claude Shannon/ },
  responses: { query: 'node.js 24 release date', cited: 'https://nodejs.org/en/blog/release/v24.0.0?utm_source=openai', text: /^Node\.js 24 was released on May 6, 2025/ },
  gemini: { query: 'UEFA Euro 2024 winner', cited: 'https://vertexaisearch.cloud.google.com/grounding-api-redirect/AUZIYQGx1', text: /^Spain won Euro 2024/ },
  chat: { query: '', cited: 'https://nodejs.org/en/blog/release/v24.0.0?utm_source=openai', text: /^Node\.js 24 was released on May 6, 2025/ },
};

/** What each upstream got for the caller's web search. */
function assertMapped(upstream: Upstream, received: RecordedRequest): void {
  const body = received.body;
  switch (upstream) {
    case 'anthropic': assert.ok(body.tools.some((tool: Json) => tool.type === 'web_search_20250305'), JSON.stringify(body.tools)); break;
    case 'responses': assert.ok(body.tools.some((tool: Json) => tool.type === 'web_search'), JSON.stringify(body.tools)); break;
    case 'gemini': assert.deepEqual(body.tools, [{ googleSearch: {} }]); break;
    case 'chat': assert.ok(body.web_search_options !== undefined, 'web_search_options on the search model'); break;
  }
}

const anthropicQuery = 'claude shannon birth date';

describe('a web search from every caller dialect to every provider dialect', () => {
  for (const caller of ['responses', 'anthropic', 'gemini', 'chat'] as Caller[]) {
    for (const upstream of ['anthropic', 'responses', 'gemini', 'chat'] as Upstream[]) {
      for (const stream of [true, false]) {
        test(`${caller} caller → ${upstream} provider, ${stream ? 'streamed' : 'not streamed'}: the search mapped upstream, what it found back in the caller's dialect`, async () => {
          const mock = mocks.get(upstream)!;
          const before = mock.requests.length;
          const reply = await send(callOf(caller, `${upstream}:${models[upstream]}`, stream));
          assert.equal(reply.status, 200, reply.text.slice(0, 500));
          assert.equal(reply.headers.get('x-switchyard-dropped'), null, 'nothing dropped');
          assertMapped(upstream, mock.requests[before]!);
          const seen = readers[caller](reply, stream);
          const want = expected[upstream];
          assert.match(seen.text, want.text);
          assert.ok(seen.cited.includes(want.cited) || (upstream === 'anthropic' && !stream && seen.cited.includes('https://en.wikipedia.org/wiki/Claude_Shannon')), `cites the source: ${JSON.stringify(seen.cited)}`);
          // Chat Completions has no place for the search itself; the other callers see it when the upstream reported it
          if (caller !== 'chat' && upstream !== 'chat') {
            assert.ok(seen.searched, 'the search is shown');
            assert.ok(seen.queries.includes(upstream === 'anthropic' && !stream ? anthropicQuery : want.query), JSON.stringify(seen.queries));
          }
        });
      }
    }
  }
});

// --- the unsupported_tools policy ----------------------------------------------------------------

const accessLine = (id: string): Json | undefined => gateway.logs.find((line) => line.msg === 'request' && line.id === id);

describe('unsupported_tools', () => {
  test('drop (the default): a chat model without search gets the request without the tool; the header and the access log name it; function tools stay', async () => {
    const mock = mocks.get('chat')!;
    const before = mock.requests.length;
    for (const stream of [false, true]) {
      const reply = await send({
        path: '/v1/responses', headers: {},
        body: { model: 'chat:plain-model', input: 'Hi', stream, tools: [{ type: 'web_search' }, { type: 'code_interpreter', container: { type: 'auto' } }, { type: 'function', name: 'read_file', parameters: { type: 'object', properties: {} } }] },
      });
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.web_search,tools.code_interpreter');
      assert.equal(accessLine(reply.id)?.dropped, 'tools.web_search,tools.code_interpreter');
    }
    const sent = mock.requests[before]!.body;
    assert.deepEqual(sent.tools.map((tool: Json) => tool.function.name), ['read_file'], "the caller's own function tool is never dropped");
    assert.equal(sent.web_search_options, undefined);
  });

  test('reject on the provider: 400 in the caller\'s dialect naming the tool and the policy; nothing reaches the upstream', async () => {
    const mock = mocks.get('chat')!;
    const before = mock.requests.length;
    const reply = await send(callOf('anthropic', 'strict:strict-model', false));
    assert.equal(reply.status, 400);
    const body = JSON.parse(reply.text);
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /'tools\.web_search' cannot be expressed for provider 'strict'.*unsupported_tools/);
    assert.equal(mock.requests.length, before);
    assert.equal(accessLine(reply.id)?.dropped, undefined);
  });

  test('an alias\'s unsupported_tools wins over its providers\': drop over a rejecting provider, reject over a dropping one', async () => {
    const lenient = await send(callOf('gemini', 'lenient', false));
    assert.equal(lenient.status, 200, lenient.text);
    assert.equal(lenient.headers.get('x-switchyard-dropped'), 'tools.googleSearch', "the caller's own field name");
    const rigid = await send(callOf('anthropic', 'rigid', true));
    assert.equal(rigid.status, 400);
    assert.match(JSON.parse(rigid.text).error.message, /'tools\.web_search'.*unsupported_tools policy is reject/);
  });

  test('a target that refuses the tool is skipped for the next, which drops it: the header reports the attempt that answered', async () => {
    const reply = await send(callOf('responses', 'strict-then-plain', false));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('x-switchyard-provider'), 'chat');
    assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.web_search');
  });

  test('an error answer after a drop says what was dropped too, as the access log does', async () => {
    const reply = await send({ path: '/v1/responses', headers: {}, body: { model: 'chat:broken-model', input: 'Hi', tools: [{ type: 'web_search' }] } });
    assert.equal(reply.status, 502, reply.text);
    assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.web_search');
    assert.equal(accessLine(reply.id)?.dropped, 'tools.web_search');
  });

  test('a built-in tool the client runs (local_shell) is not a hosted tool: refused whatever the policy', async () => {
    const reply = await send({ path: '/v1/responses', headers: {}, body: { model: 'chat:plain-model', input: 'Hi', tools: [{ type: 'local_shell' }] } });
    assert.equal(reply.status, 400);
    assert.match(JSON.parse(reply.text).error.message, /tools\.local_shell/);
  });

  test('a pass-through request (the provider speaks the caller\'s dialect) drops nothing and keeps its tools verbatim', async () => {
    const mock = mocks.get('anthropic')!;
    const before = mock.requests.length;
    const call = callOf('anthropic', 'claude-sonnet-4-5', false);
    call.body.tools.push({ type: 'web_fetch_20250910', name: 'web_fetch' }, { type: 'code_execution_20250825', name: 'code_execution' });
    const reply = await send(call);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('x-switchyard-dropped'), null);
    assert.deepEqual(mock.requests[before]!.body.tools, call.body.tools);
  });
});

// --- Claude Code and Codex toward other dialects -----------------------------------------------

describe('Claude Code\'s server tools and beta features, Codex\'s hosted-call history', () => {
  const claudeCode = {
    'anthropic-version': '2023-06-01',
    'anthropic-beta': 'claude-code-20250219,context-management-2025-06-27,web-fetch-2025-09-10,code-execution-2025-08-25',
  };

  test('web fetch and code execution have no equivalent: dropped with context_management, all named; anthropic-beta is not forwarded', async () => {
    const mock = mocks.get('gemini')!;
    const before = mock.requests.length;
    const reply = await send({
      path: '/v1/messages?beta=true', headers: claudeCode,
      body: {
        model: 'gemini:gemini-2.5-flash', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'Read https://nodejs.org and run the numbers.' }],
        tools: [{ type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 5 }, { type: 'code_execution_20250825', name: 'code_execution' }],
        context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
      },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.web_fetch,tools.code_execution,context_management');
    const sent = mock.requests[before]!;
    assert.equal(sent.body.tools, undefined);
    assert.equal(sent.body.context_management, undefined);
    assert.equal(sent.headers['anthropic-beta'], undefined, 'beta flags are for Anthropic only');
  });

  test('the MCP connector (mcp_servers, an mcp_toolset tool) runs on Anthropic\'s servers: dropped and named for another provider, verbatim for Anthropic', async () => {
    const body = {
      max_tokens: 1024, messages: [{ role: 'user', content: 'What is in my tracker?' }],
      mcp_servers: [{ type: 'url', url: 'https://mcp.example.com/sse', name: 'tracker' }],
      tools: [{ type: 'mcp_toolset', mcp_server_name: 'tracker' }, { name: 'read_file', input_schema: { type: 'object', properties: {} } }],
    };
    const chat = mocks.get('chat')!;
    const before = chat.requests.length;
    const reply = await send({ path: '/v1/messages', headers: { 'anthropic-version': '2023-06-01', 'anthropic-beta': 'mcp-client-2025-11-20' }, body: { ...body, model: 'chat:plain-model' } });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.mcp_toolset,mcp_servers');
    const sent = chat.requests[before]!.body;
    assert.deepEqual(sent.tools.map((tool: Json) => tool.function.name), ['read_file']);
    assert.equal(sent.mcp_servers, undefined);
    const anthropic = mocks.get('anthropic')!;
    const first = anthropic.requests.length;
    const own = await send({ path: '/v1/messages', headers: { 'anthropic-version': '2023-06-01' }, body: { ...body, model: 'claude-sonnet-4-5' } });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(anthropic.requests[first]!.body.mcp_servers, body.mcp_servers);
    const rigid = await send({ path: '/v1/messages', headers: { 'anthropic-version': '2023-06-01' }, body: { ...body, model: 'rigid' } });
    assert.equal(rigid.status, 400);
    assert.match(JSON.parse(rigid.text).error.message, /'tools\.mcp_toolset', 'mcp_servers'.*unsupported_tools policy is reject/);
  });

  test('a second turn with the earlier server_tool_use / web_search_tool_result (encrypted content) goes to a chat provider without a 400; only the text remains', async () => {
    const mock = mocks.get('chat')!;
    const before = mock.requests.length;
    const earlier = JSON.parse(fixture('anthropic/message-web-search.json')).content;
    const reply = await send({
      path: '/v1/messages?beta=true', headers: claudeCode,
      body: {
        model: 'chat:plain-model', max_tokens: 1024, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 8 }],
        messages: [{ role: 'user', content: 'When was Claude Shannon born?' }, { role: 'assistant', content: earlier }, { role: 'user', content: 'Where?' }],
      },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.web_search');
    assert.deepEqual(mock.requests[before]!.body.messages[1], { role: 'assistant', content: 'Claude Shannon was born on April 30, 1916.' });
  });

  test('a Codex turn that resends its web_search_call item goes to an Anthropic provider without a 400; the item stays with OpenAI', async () => {
    const mock = mocks.get('anthropic')!;
    const before = mock.requests.length;
    const reply = await send({
      path: '/v1/responses', headers: {},
      body: {
        model: 'anthropic:claude-sonnet-4-5', stream: true, tools: [{ type: 'web_search', external_web_access: false }],
        input: [
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Latest Node.js?' }] },
          { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'node.js latest' } },
          { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Node 24.', annotations: [] }] },
          { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Since when?' }] },
        ],
      },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers.get('x-switchyard-dropped'), 'tools.web_search', 'a cached-only search maps nowhere');
    const sent = mock.requests[before]!.body;
    assert.deepEqual(sent.messages[1], { role: 'assistant', content: [{ type: 'text', text: 'Node 24.' }] });
    assert.equal(sent.tools, undefined);
  });
});
