// Hosted (server-side) tools in the providers: recorded-shape answers with web searches and
// citations (Anthropic, Responses, Gemini grounding, OpenAI search models) decoded into canonical
// hosted-tool parts and citations, streamed and not; and each encoder sending a hosted tool
// verbatim to its own dialect, mapped where it has an equivalent, else reported as unsupported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PartSink, StreamDecoder, UpstreamRequest } from '../../src/canonical/adapters.ts';
import type { CanonicalRequest, HostedTool, Message } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { decodeMessagesResponse } from '../../src/providers/anthropic/decode-response.ts';
import { MessagesStreamDecoder } from '../../src/providers/anthropic/decode-stream.ts';
import { encodeCountTokensRequest, encodeMessagesRequest } from '../../src/providers/anthropic/encode-request.ts';
import { decodeGenerateResponse } from '../../src/providers/gemini/decode-response.ts';
import { GeminiStreamDecoder } from '../../src/providers/gemini/decode-stream.ts';
import { encodeGenerateRequest } from '../../src/providers/gemini/encode-request.ts';
import { geminiCountTokensCodec } from '../../src/providers/gemini/count-tokens.ts';
import { encodeOllamaRequest } from '../../src/providers/ollama/encode-request.ts';
import { ChatStreamDecoder, decodeChatResponse } from '../../src/providers/openai/chat-decode.ts';
import { encodeChatRequest } from '../../src/providers/openai/chat-encode.ts';
import { decodeResponsesResponse } from '../../src/providers/openai-responses/decode-response.ts';
import { ResponsesStreamDecoder } from '../../src/providers/openai-responses/decode-stream.ts';
import { encodeResponsesRequest } from '../../src/providers/openai-responses/encode-request.ts';
import { checkResponse, checkStream } from '../fuzz/canonical-checks.ts';

type Json = Record<string, any>;
const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const provider = (name: string) => ({ name, preset: undefined });

class Collector implements PartSink {
  parts: StreamPart[] = [];
  onPart(part: StreamPart): void {
    this.parts.push(part);
  }
}

function decodeStream(decoder: () => StreamDecoder, text: string, chunkSize: number): StreamPart[] {
  const instance = decoder();
  const sink = new Collector();
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += chunkSize) instance.push(bytes.subarray(i, i + chunkSize), sink);
  instance.end(sink);
  checkStream(sink.parts);
  return sink.parts;
}

/** The text of each text block, and the citations carried with it. */
function textBlocks(parts: readonly StreamPart[]): { text: string; citations: Json[] }[] {
  const blocks = new Map<number, { text: string; citations: Json[] }>();
  for (const part of parts) {
    if (part.type === 'text-start') blocks.set(part.index, { text: '', citations: [] });
    if (part.type === 'text-delta') blocks.get(part.index)!.text += part.delta;
    if (part.type === 'text-citation') blocks.get(part.index)!.citations.push(part.citation);
  }
  return [...blocks.values()];
}

function request(extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'Latest Node.js?' }] }], sampling: {}, stream: false, ...extra };
}

const functionTool = { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } };

/** A web search as each caller dialect decodes it. */
const searches = {
  responses: { kind: 'web-search', field: 'tools.web_search', dialect: 'openai-responses', raw: { type: 'web_search', search_context_size: 'high' }, searchContextSize: 'high' },
  anthropic: {
    kind: 'web-search', field: 'tools.web_search', dialect: 'anthropic', raw: { type: 'web_search_20250305', name: 'web_search', max_uses: 5 },
    maxUses: 5, allowedDomains: ['nodejs.org'], userLocation: { city: 'Lyon', country: 'FR' },
  },
  gemini: { kind: 'web-search', field: 'tools.googleSearch', dialect: 'gemini', raw: { googleSearch: {} } },
  chat: { kind: 'web-search', field: 'web_search_options', dialect: 'openai', raw: { search_context_size: 'low' }, searchContextSize: 'low' },
} satisfies Record<string, HostedTool>;
const webFetch: HostedTool = { kind: 'web-fetch', field: 'tools.web_fetch', dialect: 'anthropic', raw: { type: 'web_fetch_20250910', name: 'web_fetch' } };
const codeExecution: HostedTool = { kind: 'code-execution', field: 'tools.code_execution', dialect: 'anthropic', raw: { type: 'code_execution_20250825', name: 'code_execution' } };
const cachedSearch: HostedTool = { kind: 'web-search', field: 'tools.web_search', dialect: 'openai-responses', raw: { type: 'web_search', external_web_access: false }, cachedOnly: true };

const bodyOf = (upstream: UpstreamRequest): Json => JSON.parse(upstream.body);

// --- Anthropic -------------------------------------------------------------------------------

test('Anthropic stream: server_tool_use (input streamed) and web_search_tool_result become whole hosted parts, citations_delta a text citation — any chunking', () => {
  const text = fixture('anthropic/stream-web-search.sse');
  for (const size of [5, 64, 100_000]) {
    const parts = decodeStream(() => new MessagesStreamDecoder(), text, size);
    assert.deepEqual(parts.filter((part) => part.type.endsWith('-start') || part.type.startsWith('hosted')).map((part) => `${part.type}:${(part as Json).index}`), [
      'response-start:undefined', 'text-start:0', 'hosted-tool-call:1', 'hosted-tool-result:2', 'text-start:3', 'text-start:4',
    ]);
    const call = parts.find((part) => part.type === 'hosted-tool-call')!;
    assert.equal(call.type === 'hosted-tool-call' && call.call.kind, 'web-search');
    assert.deepEqual(call.type === 'hosted-tool-call' && call.call.input, { query: 'node.js 24 release date' });
    assert.deepEqual(call.type === 'hosted-tool-call' && call.call.raw, {
      type: 'server_tool_use', id: 'srvtoolu_014hJH82Qum7Td6UV8gDXThB', name: 'web_search', input: { query: 'node.js 24 release date' },
    }, 'kept whole, with its input, for an Anthropic caller');
    const result = parts.find((part) => part.type === 'hosted-tool-result')!;
    assert.ok(result.type === 'hosted-tool-result');
    assert.deepEqual(result.result.results, [
      { url: 'https://nodejs.org/en/blog/release/v24.0.0', title: 'Node.js 24 is now available!', pageAge: 'May 6, 2025' },
      { url: 'https://nodejs.org/en/about/previous-releases', title: 'Node.js — Node.js Releases' },
    ]);
    assert.equal(result.result.dialect, 'anthropic');
    const blocks = textBlocks(parts);
    assert.deepEqual(blocks.map((block) => block.text), ["I'll look up the release.", 'Node.js 24 was released on May 6, 2025', '.']);
    assert.deepEqual(blocks[1]!.citations.map((citation) => [citation.url, citation.title, citation.start, citation.dialect]), [
      ['https://nodejs.org/en/blog/release/v24.0.0', 'Node.js 24 is now available!', undefined, 'anthropic'],
    ], 'a citation of the whole block');
    const end = parts.at(-1)!;
    assert.equal(end.type === 'response-end' && end.finishReason, 'stop');
  }
});

test('Anthropic encode: a web search of another dialect becomes the web_search server tool; web fetch, code execution and cached-only search are unsupported', () => {
  const mapped = encodeMessagesRequest(request({ tools: [functionTool], hostedTools: [searches.responses, searches.gemini] }), 'claude-sonnet-4-5', provider('claude'));
  assert.deepEqual(bodyOf(mapped).tools.map((tool: Json) => tool.type ?? tool.name), ['read_file', 'web_search_20250305', 'web_search_20250305']);
  assert.equal(mapped.unsupported, undefined);
  const options = bodyOf(encodeMessagesRequest(request({ hostedTools: [{ ...searches.responses, allowedDomains: ['nodejs.org'], blockedDomains: ['example.com'], maxUses: 2, userLocation: { city: 'Lyon', country: 'FR' } }] }), 'claude', provider('claude')));
  assert.deepEqual(options.tools, [{ type: 'web_search_20250305', name: 'web_search', max_uses: 2, allowed_domains: ['nodejs.org'], user_location: { type: 'approximate', city: 'Lyon', country: 'FR' } }],
    'Anthropic takes one domain list: the allow-list wins');
  const foreign = encodeMessagesRequest(request({ hostedTools: [{ ...webFetch, dialect: 'gemini' }, cachedSearch] }), 'claude', provider('claude'));
  assert.deepEqual(foreign.unsupported, ['tools.web_fetch', 'tools.web_search']);
  assert.equal(bodyOf(foreign).tools, undefined);
});

test('Anthropic encode: its own server tools and context_management go verbatim (count_tokens too); history blocks Anthropic issued are kept, others left out', () => {
  const history: Message[] = [
    { role: 'user', content: [{ type: 'text', text: 'Latest Node.js?' }] },
    {
      role: 'assistant', content: [
        { type: 'hosted-tool-call', id: 'srvtoolu_1', kind: 'web-search', name: 'web_search', input: { query: 'node' }, raw: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'node' } }, dialect: 'anthropic' },
        { type: 'hosted-tool-result', callId: 'srvtoolu_1', kind: 'web-search', results: [], raw: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [{ type: 'web_search_result', url: 'u', title: 't', encrypted_content: 'E1' }] }, dialect: 'anthropic' },
        { type: 'hosted-tool-call', id: 'ws_9', kind: 'web-search', name: 'web_search', input: { query: 'node' }, raw: { type: 'web_search_call', id: 'ws_9' }, dialect: 'openai-responses' },
        {
          type: 'text', text: 'Node 24.', citations: [
            { url: 'u', raw: { type: 'web_search_result_location', url: 'u', title: 't', cited_text: 'c', encrypted_index: 'E2' }, dialect: 'anthropic' },
            { url: 'v', start: 0, end: 4 },
          ],
        },
      ],
    },
    { role: 'user', content: [{ type: 'text', text: 'Thanks.' }] },
  ];
  const canonical = request({
    messages: history, hostedTools: [searches.anthropic, webFetch, codeExecution],
    passThrough: { dialect: 'anthropic', fields: {}, serverSide: { context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] } } },
  });
  for (const upstream of [encodeMessagesRequest(canonical, 'claude', provider('claude')), encodeCountTokensRequest(canonical, 'claude', provider('claude'))]) {
    const body = bodyOf(upstream);
    assert.equal(upstream.unsupported, undefined);
    assert.deepEqual(body.tools, [searches.anthropic.raw, webFetch.raw, codeExecution.raw]);
    assert.deepEqual(body.context_management, { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] });
    assert.deepEqual(body.messages[1].content, [
      history[1]!.content[0]!.type === 'hosted-tool-call' ? history[1]!.content[0]!.raw : undefined,
      history[1]!.content[1]!.type === 'hosted-tool-result' ? history[1]!.content[1]!.raw : undefined,
      { type: 'text', text: 'Node 24.', citations: [{ type: 'web_search_result_location', url: 'u', title: 't', cited_text: 'c', encrypted_index: 'E2' }] },
    ]);
  }
});

// --- Responses -------------------------------------------------------------------------------

test('Responses decode: a web_search_call item becomes a hosted call (kept verbatim) with its sources, url_citation annotations citations', () => {
  const body = JSON.parse(fixture('responses/response-web-search.json'));
  const response = decodeResponsesResponse(body);
  checkResponse(response);
  const [call, result, text] = response.content;
  assert.deepEqual(call, { type: 'hosted-tool-call', id: body.output[0].id, kind: 'web-search', name: 'web_search', input: { query: 'node.js 24 release date' }, raw: body.output[0], dialect: 'openai-responses' });
  assert.deepEqual(result, {
    type: 'hosted-tool-result', callId: body.output[0].id, kind: 'web-search',
    results: [{ url: 'https://nodejs.org/en/blog/release/v24.0.0' }, { url: 'https://nodejs.org/en/about/previous-releases' }],
  });
  assert.ok(text?.type === 'text');
  const citation = text.citations![0]!;
  assert.equal(text.text.slice(citation.start, citation.end), '([nodejs.org](https://nodejs.org/en/blog/release/v24.0.0?utm_source=openai))');
  assert.equal(citation.title, 'Node.js 24 is now available!');
  assert.equal(response.finishReason, 'stop', 'a hosted call is not a tool call for the caller');
  const bare = decodeResponsesResponse({ ...body, output: [{ id: 'ws_2', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'q' } }] });
  assert.deepEqual(bare.content[1], { type: 'hosted-tool-result', callId: 'ws_2', kind: 'web-search', results: [] }, 'a search without its sources still has its (empty) result');
});

test('Responses stream: web_search_call arrives whole with its item done; output_text.annotation.added becomes a citation of the open text — any chunking', () => {
  const text = fixture('responses/stream-web-search.sse');
  const whole = decodeResponsesResponse(JSON.parse(fixture('responses/response-web-search.json')));
  for (const size of [9, 128, 100_000]) {
    const parts = decodeStream(() => new ResponsesStreamDecoder(request({ stream: true })), text, size);
    const call = parts.find((part) => part.type === 'hosted-tool-call');
    assert.ok(call?.type === 'hosted-tool-call');
    assert.deepEqual(call.call, whole.content[0]);
    const blocks = textBlocks(parts);
    assert.equal(blocks.length, 1);
    const wholeText = whole.content[2];
    assert.ok(wholeText?.type === 'text');
    assert.equal(blocks[0]!.text, wholeText.text);
    assert.deepEqual(blocks[0]!.citations, wholeText.citations, 'the same citation, streamed or not');
  }
});

test('Responses encode: a web search of another dialect → web_search (allow-list as filters, location, context size); a block-list or cached-only search is unsupported', () => {
  const mapped = encodeResponsesRequest(request({ tools: [functionTool], hostedTools: [searches.anthropic, searches.chat] }), 'gpt-5', provider('oai'));
  assert.deepEqual(bodyOf(mapped).tools.slice(1), [
    { type: 'web_search', filters: { allowed_domains: ['nodejs.org'] }, user_location: { type: 'approximate', city: 'Lyon', country: 'FR' } },
    { type: 'web_search', search_context_size: 'low' },
  ]);
  assert.equal(mapped.unsupported, undefined);
  assert.deepEqual(bodyOf(mapped).include, ['reasoning.encrypted_content', 'web_search_call.action.sources'], 'the sources asked for, so the caller sees what was found');
  const refused = encodeResponsesRequest(request({ hostedTools: [{ ...searches.anthropic, blockedDomains: ['example.com'], allowedDomains: undefined }, codeExecution] }), 'gpt-5', provider('oai'));
  assert.deepEqual(refused.unsupported, ['tools.web_search', 'tools.code_execution']);
  assert.equal(bodyOf(refused).tools, undefined);
  const own = encodeResponsesRequest(request({
    hostedTools: [cachedSearch],
    passThrough: { dialect: 'openai-responses', fields: {}, serverSide: { tool_choice: { type: 'web_search' } } },
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Latest Node.js?' }] },
      { role: 'assistant', content: [{ type: 'hosted-tool-call', id: 'ws_1', kind: 'web-search', name: 'web_search', input: {}, raw: { type: 'web_search_call', id: 'ws_1', status: 'completed' }, dialect: 'openai-responses' }, { type: 'text', text: 'Node 24.' }] },
    ],
  }), 'gpt-5', provider('oai'));
  const body = bodyOf(own);
  assert.deepEqual(body.tools, [cachedSearch.raw], 'its own cached search, verbatim');
  assert.deepEqual(body.tool_choice, { type: 'web_search' });
  assert.deepEqual(body.input.slice(1).map((item: Json) => item.type), ['web_search_call', 'message'], 'the earlier web_search_call goes back as it was');
});

// --- Gemini ----------------------------------------------------------------------------------

test('Gemini decode: grounding metadata becomes the search (first), its sources, and citations with UTF-16 offsets from UTF-8 byte segments', () => {
  const body = JSON.parse(fixture('gemini/generate-response-grounding.json'));
  const response = decodeGenerateResponse(body);
  checkResponse(response);
  const [call, result, text] = response.content;
  assert.ok(call?.type === 'hosted-tool-call' && result?.type === 'hosted-tool-result' && text?.type === 'text');
  assert.deepEqual(call.input, { query: 'UEFA Euro 2024 winner', queries: ['UEFA Euro 2024 winner', 'Euro 2024 final score'] });
  assert.equal(call.id, result.callId);
  assert.deepEqual(result.results.map((item) => item.title), ['uefa.com', 'aljazeera.com']);
  const spans = text.citations!.map((citation) => [text.text.slice(citation.start, citation.end), citation.title]);
  assert.deepEqual(spans, [
    ['Spain won Euro 2024, beating England 2–1 in the final in Berlin.', 'uefa.com'],
    ['Spain won Euro 2024, beating England 2–1 in the final in Berlin.', 'aljazeera.com'],
    ['It was Spain’s record fourth European title.', 'uefa.com'],
  ], 'offsets after the multi-byte dash and apostrophe still land on the segments');
});

test('Gemini stream: the grounding of the last chunk is sent at the end — citations on the open text, then the search and its sources — any chunking', () => {
  const text = fixture('gemini/stream-grounding.sse');
  const grounded = request({ stream: true, hostedTools: [searches.gemini] });
  const whole = decodeGenerateResponse(JSON.parse(fixture('gemini/generate-response-grounding.json')));
  for (const size of [11, 200, 100_000]) {
    const parts = decodeStream(() => new GeminiStreamDecoder(grounded), text, size);
    assert.deepEqual(parts.map((part) => part.type).filter((type) => type !== 'text-delta' && type !== 'usage'), [
      'response-start', 'text-start', 'text-citation', 'text-citation', 'text-citation', 'text-end', 'hosted-tool-call', 'hosted-tool-result', 'response-end',
    ]);
    const blocks = textBlocks(parts);
    const wholeText = whole.content[2];
    assert.ok(wholeText?.type === 'text');
    assert.deepEqual(blocks[0]!.citations, wholeText.citations, 'the same citations, streamed or not');
  }
  const plain = decodeStream(() => new GeminiStreamDecoder(request({ stream: true })), text, 100_000);
  assert.ok(!plain.some((part) => part.type.startsWith('hosted') || part.type === 'text-citation'), 'a request without a search does not follow its text');
});

test('Gemini encode: a web search → googleSearch when the request has no function tools; with them, or with a domain list, it is unsupported', () => {
  const alone = encodeGenerateRequest(request({ hostedTools: [searches.responses] }), 'gemini-2.5-flash', provider('g'));
  assert.deepEqual(bodyOf(alone).tools, [{ googleSearch: {} }]);
  assert.equal(alone.unsupported, undefined);
  const withFunctions = encodeGenerateRequest(request({ tools: [functionTool], hostedTools: [searches.responses] }), 'gemini-3-flash-preview', provider('g'));
  assert.deepEqual(withFunctions.unsupported, ['tools.web_search']);
  assert.equal(bodyOf(withFunctions).tools.length, 1, 'the function declarations only');
  assert.deepEqual(encodeGenerateRequest(request({ hostedTools: [searches.anthropic] }), 'gemini-2.5-flash', provider('g')).unsupported, ['tools.web_search']);
  const own = encodeGenerateRequest(request({
    tools: [functionTool], hostedTools: [searches.gemini, { kind: 'code-execution', field: 'tools.codeExecution', dialect: 'gemini', raw: { codeExecution: {} } }],
    passThrough: { dialect: 'gemini', fields: {}, serverSide: { 'toolConfig.retrievalConfig': { latLng: { latitude: 45.76, longitude: 4.84 } } } },
  }), 'gemini-2.5-flash', provider('g'));
  const body = bodyOf(own);
  assert.deepEqual(body.tools.slice(1), [{ googleSearch: {} }, { codeExecution: {} }], 'its own tools, verbatim, after the declarations');
  assert.deepEqual(body.toolConfig.retrievalConfig, { latLng: { latitude: 45.76, longitude: 4.84 } });
  const count = geminiCountTokensCodec.encodeRequest(request({ hostedTools: [webFetch], passThrough: { dialect: 'anthropic', fields: {}, serverSide: { context_management: {} } } }), 'gemini-2.5-flash', provider('g'));
  assert.deepEqual(count.unsupported, ['tools.web_fetch', 'context_management']);
});

// --- OpenAI chat and Ollama --------------------------------------------------------------------

test('OpenAI chat decode: url_citation annotations of a search model become citations, streamed or not', () => {
  const response = decodeChatResponse(JSON.parse(fixture('openai/chat-response-search.json')));
  checkResponse(response);
  const text = response.content[0];
  assert.ok(text?.type === 'text');
  const citation = text.citations![0]!;
  assert.equal(text.text.slice(citation.start, citation.end), '([nodejs.org](https://nodejs.org/en/blog/release/v24.0.0?utm_source=openai))');
  for (const size of [13, 100_000]) {
    const parts = decodeStream(() => new ChatStreamDecoder(), fixture('openai/chat-stream-search.sse'), size);
    const blocks = textBlocks(parts);
    assert.equal(blocks[0]!.text, text.text);
    assert.deepEqual(blocks[0]!.citations, text.citations);
  }
});

test('OpenAI chat encode: a web search → web_search_options on a search model only; its own options verbatim; everything else unsupported', () => {
  const search = encodeChatRequest(request({ hostedTools: [{ ...searches.anthropic, allowedDomains: undefined }] }), 'gpt-4o-search-preview', provider('oai'));
  assert.deepEqual(bodyOf(search).web_search_options, { user_location: { type: 'approximate', approximate: { city: 'Lyon', country: 'FR' } } });
  assert.equal(search.unsupported, undefined);
  assert.deepEqual(encodeChatRequest(request({ hostedTools: [searches.responses, codeExecution] }), 'gpt-4o-mini', provider('oai')).unsupported, ['tools.web_search', 'tools.code_execution']);
  const own = encodeChatRequest(request({ hostedTools: [searches.chat] }), 'gpt-4o-mini', provider('oai'));
  assert.deepEqual(bodyOf(own).web_search_options, { search_context_size: 'low' });
  assert.equal(own.unsupported, undefined);
  const history = encodeChatRequest(request({
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Latest Node.js?' }] },
      { role: 'assistant', content: [searchCall, { type: 'text', text: 'Node 24.', citations: [{ url: 'u' }] }] },
    ],
  }), 'gpt-4o-mini', provider('oai'));
  assert.deepEqual(bodyOf(history).messages[1], { role: 'assistant', content: 'Node 24.' });
});

const searchCall = { type: 'hosted-tool-call', id: 'srvtoolu_1', kind: 'web-search', name: 'web_search', input: { query: 'node' }, raw: { type: 'server_tool_use' }, dialect: 'anthropic' } as const;

test('Ollama encode: every hosted tool and server-side field is unsupported; earlier hosted calls are left out of the history', () => {
  const upstream = encodeOllamaRequest(request({
    hostedTools: [searches.responses, searches.anthropic],
    passThrough: { dialect: 'anthropic', fields: {}, serverSide: { context_management: {} } },
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Latest Node.js?' }] },
      { role: 'assistant', content: [searchCall, { type: 'hosted-tool-result', callId: 'srvtoolu_1', kind: 'web-search', results: [] }, { type: 'text', text: 'Node 24.' }] },
    ],
  }), 'llama3.2', provider('local'));
  assert.deepEqual(upstream.unsupported, ['tools.web_search', 'context_management'], 'each field named once');
  assert.deepEqual(bodyOf(upstream).messages[1], { role: 'assistant', content: 'Node 24.' });
});

test('a request with no hosted tool leaves nothing unsupported in any encoder', () => {
  const plain = request();
  for (const upstream of [
    encodeMessagesRequest(plain, 'claude', provider('c')), encodeResponsesRequest(plain, 'gpt-5', provider('o')), encodeGenerateRequest(plain, 'gemini-2.5-flash', provider('g')),
    encodeChatRequest(plain, 'gpt-4o', provider('o')), encodeOllamaRequest(plain, 'llama3.2', provider('l')),
  ]) assert.equal('unsupported' in upstream, false);
});
