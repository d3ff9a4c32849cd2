// Hosted (server-side) tools in the surfaces: each caller dialect's hosted tools, earlier hosted
// calls in its history and server-side fields decoded into the canonical request; and answers
// with a web search and citations — decoded from recorded provider fixtures — rendered back in
// every caller's dialect, streamed and not (Responses web_search_call items and url_citation
// annotations, Anthropic server_tool_use / web_search_tool_result blocks and citations, Gemini
// grounding metadata, Chat Completions annotations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { PartSink, StreamEncoder } from '../../src/canonical/adapters.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { CanonicalResponse } from '../../src/canonical/response.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { decodeMessagesResponse } from '../../src/providers/anthropic/decode-response.ts';
import { encodeMessagesRequest } from '../../src/providers/anthropic/encode-request.ts';
import { encodeGenerateRequest } from '../../src/providers/gemini/encode-request.ts';
import { MessagesStreamDecoder } from '../../src/providers/anthropic/decode-stream.ts';
import { decodeGenerateResponse } from '../../src/providers/gemini/decode-response.ts';
import { decodeResponsesResponse } from '../../src/providers/openai-responses/decode-response.ts';
import { ResponsesStreamDecoder } from '../../src/providers/openai-responses/decode-stream.ts';
import { decodeMessagesRequest } from '../../src/surfaces/anthropic/decode-request.ts';
import { encodeMessagesResponse } from '../../src/surfaces/anthropic/encode-response.ts';
import { MessagesStreamEncoder } from '../../src/surfaces/anthropic/encode-stream.ts';
import { decodeGenerateRequest } from '../../src/surfaces/gemini/decode-request.ts';
import { encodeGenerateResponse } from '../../src/surfaces/gemini/encode-response.ts';
import { GeminiStreamEncoder } from '../../src/surfaces/gemini/encode-stream.ts';
import { decodeChatRequest } from '../../src/surfaces/openai/chat/decode-request.ts';
import { encodeChatResponse } from '../../src/surfaces/openai/chat/encode-response.ts';
import { ChatStreamEncoder } from '../../src/surfaces/openai/chat/encode-stream.ts';
import { decodeResponsesRequest } from '../../src/surfaces/openai/responses/decode-request.ts';
import { encodeResponsesResponse } from '../../src/surfaces/openai/responses/encode-response.ts';
import { ResponsesStreamEncoder } from '../../src/surfaces/openai/responses/encode-stream.ts';
import { anthropicClient } from '../conformance/dialects/anthropic.ts';
import { responsesClient } from '../conformance/dialects/openai-responses.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;
const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
const surfaceRequest = { params: {}, query: '', headers: {} };

class Collector implements PartSink {
  parts: StreamPart[] = [];
  onPart(part: StreamPart): void {
    this.parts.push(part);
  }
}

/** A provider's recorded stream, decoded whole into canonical parts. */
function partsOf(decoder: MessagesStreamDecoder | ResponsesStreamDecoder, text: string): StreamPart[] {
  const sink = new Collector();
  decoder.push(Buffer.from(text), sink);
  decoder.end(sink);
  return sink.parts;
}

const anthropicParts = (): StreamPart[] => partsOf(new MessagesStreamDecoder(), fixture('anthropic/stream-web-search.sse'));
const responsesParts = (request: CanonicalRequest): StreamPart[] => partsOf(new ResponsesStreamDecoder(request), fixture('responses/stream-web-search.sse'));
const encodeAll = (encoder: StreamEncoder, parts: readonly StreamPart[]): string => parts.map((part) => encoder.encode(part)).join('');
const events = (text: string): Json[] => parseSse(text).map((event) => JSON.parse(event.data) as Json);

const anthropicAnswer = (): CanonicalResponse => decodeMessagesResponse(JSON.parse(fixture('anthropic/message-web-search.json')));
const responsesAnswer = (): CanonicalResponse => decodeResponsesResponse(JSON.parse(fixture('responses/response-web-search.json')));

// --- decoding what callers send ------------------------------------------------------------------

test('Anthropic caller: earlier server_tool_use / web_search_tool_result blocks (encrypted content) and cited text decode; blocks Anthropic did not issue carry no raw', () => {
  const answer = JSON.parse(fixture('anthropic/message-web-search.json'));
  const request = decodeMessagesRequest({
    model: 'claude-sonnet-4-5', max_tokens: 100, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 8 }],
    messages: [
      { role: 'user', content: 'When was Claude Shannon born?' },
      { role: 'assistant', content: answer.content },
      { role: 'user', content: 'And where?' },
      { role: 'assistant', content: [{ type: 'server_tool_use', id: 'ws_gateway_1', name: 'web_search', input: { query: 'x' } }, { type: 'web_search_tool_result', tool_use_id: 'ws_gateway_1', content: [{ type: 'web_search_result', url: 'https://a.example', title: 'A', encrypted_content: '' }] }, { type: 'text', text: 'In Petoskey.' }] },
      { role: 'user', content: 'Thanks.' },
    ],
  }, surfaceRequest);
  assert.deepEqual(request.hostedTools, [{ kind: 'web-search', field: 'tools.web_search', dialect: 'anthropic', raw: { type: 'web_search_20250305', name: 'web_search', max_uses: 8 }, maxUses: 8 }]);
  const [call, result, text] = request.messages[1]!.content;
  assert.deepEqual(call, { type: 'hosted-tool-call', id: answer.content[0].id, kind: 'web-search', name: 'web_search', input: { query: 'claude shannon birth date' }, raw: answer.content[0], dialect: 'anthropic' });
  assert.equal(result?.type === 'hosted-tool-result' && result.raw, answer.content[1]);
  assert.ok(text?.type === 'text');
  assert.equal(text.citations![0]!.raw, answer.content[2].citations[0]);
  const rendered = request.messages[3]!.content;
  assert.equal(rendered[0]!.type === 'hosted-tool-call' && rendered[0]!.dialect, undefined, 'the gateway rendered it from another provider: never sent to Anthropic as its own');
  assert.equal(rendered[1]!.type === 'hosted-tool-result' && rendered[1]!.dialect, undefined);
});

test('Anthropic caller: a tool_choice forcing a server tool is server-side (Anthropic\'s to honour), not a function choice', () => {
  const request = decodeMessagesRequest({
    model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'News?' }],
    tools: [{ type: 'web_search_20250305', name: 'web_search' }, { name: 'f', input_schema: { type: 'object' } }], tool_choice: { type: 'tool', name: 'web_search', disable_parallel_tool_use: true },
  }, surfaceRequest);
  assert.equal(request.toolChoice, undefined);
  assert.deepEqual(request.passThrough?.serverSide, { tool_choice: { type: 'tool', name: 'web_search', disable_parallel_tool_use: true } });
  const own = JSON.parse(encodeMessagesRequest(request, 'claude-sonnet-4-5', { name: 'claude', preset: 'anthropic' }).body);
  assert.deepEqual(own.tool_choice, { type: 'tool', name: 'web_search', disable_parallel_tool_use: true }, 'an Anthropic provider gets it as sent');
  const other = encodeGenerateRequest(request, 'gemini-2.5-flash', { name: 'g', preset: undefined });
  assert.deepEqual(other.unsupported, ['tools.web_search', 'tool_choice'], 'Gemini has no search beside function tools, nor a forced one');
});

test('Responses caller (Codex): an earlier web_search_call item decodes as a hosted call kept verbatim; a live search maps, a cached one is marked', () => {
  const item = { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'node 24' } };
  const request = decodeResponsesRequest({
    model: 'gpt-5-codex', tools: [{ type: 'web_search' }],
    input: [{ role: 'user', content: 'Latest Node.js?' }, item, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Node 24.' }] }, { role: 'user', content: 'Thanks.' }],
  }, surfaceRequest);
  assert.deepEqual(request.messages[1]!.content[0], { type: 'hosted-tool-call', id: 'ws_1', kind: 'web-search', name: 'web_search', input: { query: 'node 24' }, raw: item, dialect: 'openai-responses' });
  assert.equal(request.hostedTools![0]!.cachedOnly, undefined);
});

test('Chat Completions caller: web_search_options is a hosted web search with its context size and location', () => {
  const request = decodeChatRequest({
    model: 'gpt-4o-search-preview', messages: [{ role: 'user', content: 'News?' }],
    web_search_options: { search_context_size: 'high', user_location: { type: 'approximate', approximate: { country: 'GB', city: 'London' } } },
  }, surfaceRequest);
  assert.deepEqual(request.hostedTools, [{
    kind: 'web-search', field: 'web_search_options', dialect: 'openai',
    raw: { search_context_size: 'high', user_location: { type: 'approximate', approximate: { country: 'GB', city: 'London' } } },
    searchContextSize: 'high', userLocation: { country: 'GB', city: 'London' },
  }]);
  assert.equal(request.passThrough, undefined);
});

test('Gemini caller: googleSearch, urlContext and codeExecution are hosted tools; the grounding location is server-side; computerUse stays a field', () => {
  const request = decodeGenerateRequest({
    contents: [{ role: 'user', parts: [{ text: 'News?' }] }],
    tools: [{ google_search: {} }, { urlContext: {} }, { codeExecution: {} }, { computerUse: { environment: 'ENVIRONMENT_BROWSER' } }],
    toolConfig: { retrievalConfig: { languageCode: 'en' } },
  }, { ...surfaceRequest, params: { model: 'gemini-2.5-flash' } }, false);
  assert.deepEqual(request.hostedTools!.map((tool) => [tool.kind, tool.field]), [['web-search', 'tools.googleSearch'], ['web-fetch', 'tools.urlContext'], ['code-execution', 'tools.codeExecution']]);
  assert.deepEqual(request.hostedTools![0]!.raw, { googleSearch: {} });
  assert.deepEqual(request.passThrough, {
    dialect: 'gemini', fields: { 'tools.computerUse': { environment: 'ENVIRONMENT_BROWSER' } }, serverSide: { 'toolConfig.retrievalConfig': { languageCode: 'en' } },
  });
});

// --- rendering answers for callers ---------------------------------------------------------------

const responsesCaller = (): CanonicalRequest => decodeResponsesRequest({ model: 'gpt-5', input: 'Latest Node.js?', tools: [{ type: 'web_search' }], stream: true }, surfaceRequest);

test('→ a Responses caller, streamed: Anthropic\'s search becomes a web_search_call item with its progress events, its citation a url_citation over the cited text', () => {
  const text = encodeAll(new ResponsesStreamEncoder(responsesCaller()), anthropicParts());
  const outcome = responsesClient.parse(200, new Headers(), text, true);
  assert.equal(outcome.text, "I'll look up the release.Node.js 24 was released on May 6, 2025.");
  const all = events(text);
  const types = all.map((event) => event.type);
  const added = types.indexOf('response.output_item.added', types.indexOf('response.output_item.done'));
  assert.deepEqual(types.slice(added, added + 5), [
    'response.output_item.added', 'response.web_search_call.in_progress', 'response.web_search_call.searching', 'response.web_search_call.completed', 'response.output_item.done',
  ]);
  const final = all.at(-1)!.response;
  assert.deepEqual(final.output.map((item: Json) => item.type), ['message', 'web_search_call', 'message', 'message']);
  const { id, ...call } = final.output[1];
  assert.deepEqual(call, { type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'node.js 24 release date' } });
  assert.match(id, /^ws_/, 'an item id of its own kind, not Anthropic\'s srvtoolu_ id');
  const annotation = all.find((event) => event.type === 'response.output_text.annotation.added')!;
  assert.deepEqual(annotation.annotation, { type: 'url_citation', start_index: 0, end_index: 38, url: 'https://nodejs.org/en/blog/release/v24.0.0', title: 'Node.js 24 is now available!' });
  assert.equal(annotation.output_index, 2);
  assert.deepEqual(final.output[2].content[0].annotations, [annotation.annotation], 'the item repeats it');
});

test('→ a Responses caller, not streamed: the call item before its message, the citation over the merged text', () => {
  const body = JSON.parse(encodeResponsesResponse(anthropicAnswer(), responsesCaller()));
  assert.deepEqual(body.output.map((item: Json) => item.type), ['web_search_call', 'message']);
  assert.equal(body.output[0].action.query, 'claude shannon birth date');
  const content = body.output[1].content[0];
  assert.equal(content.text, 'Claude Shannon was born on April 30, 1916.');
  assert.deepEqual(content.annotations, [{ type: 'url_citation', start_index: 0, end_index: content.text.length, url: 'https://en.wikipedia.org/wiki/Claude_Shannon', title: 'Claude Shannon - Wikipedia' }]);
});

const anthropicCaller = (): CanonicalRequest => decodeMessagesRequest({ model: 'claude', max_tokens: 100, messages: [{ role: 'user', content: 'Latest Node.js?' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, surfaceRequest);

test('→ an Anthropic caller, streamed: a Responses search becomes server_tool_use (its input as one delta) and web_search_tool_result; url_citation a citations_delta', () => {
  const text = encodeAll(new MessagesStreamEncoder(), responsesParts(anthropicCaller()));
  const outcome = anthropicClient.parse(200, new Headers(), text, true);
  assert.match(outcome.text, /^Node\.js 24 was released on May 6, 2025/);
  const all = events(text);
  const starts = all.filter((event) => event.type === 'content_block_start').map((event) => event.content_block);
  assert.deepEqual(starts.map((block: Json) => block.type), ['server_tool_use', 'web_search_tool_result', 'text']);
  assert.deepEqual(starts[0], { type: 'server_tool_use', id: 'ws_68a1f0b3e4f08190b1c2d3e4f5a6b7c8', name: 'web_search', input: {} });
  assert.deepEqual(all.find((event) => event.delta?.type === 'input_json_delta')!.delta.partial_json, '{"query":"node.js 24 release date"}');
  assert.deepEqual(starts[1].content.map((result: Json) => result.url), ['https://nodejs.org/en/blog/release/v24.0.0', 'https://nodejs.org/en/about/previous-releases']);
  const citation = all.find((event) => event.delta?.type === 'citations_delta')!;
  assert.equal(citation.index, 2, 'inside the text block');
  assert.deepEqual(citation.delta.citation, { type: 'web_search_result_location', url: 'https://nodejs.org/en/blog/release/v24.0.0?utm_source=openai', title: 'Node.js 24 is now available!', cited_text: '', encrypted_index: '' });
  assert.equal(outcome.finish, 'stop');
});

test('→ an Anthropic caller, not streamed: Anthropic\'s own blocks verbatim; Gemini grounding rendered as server blocks and cited text', () => {
  const own = JSON.parse(encodeMessagesResponse(anthropicAnswer(), anthropicCaller()));
  assert.deepEqual(own.content, JSON.parse(fixture('anthropic/message-web-search.json')).content, 'round trip, byte for byte');
  const grounded = JSON.parse(encodeMessagesResponse(decodeGenerateResponse(JSON.parse(fixture('gemini/generate-response-grounding.json'))), anthropicCaller()));
  assert.deepEqual(grounded.content.map((block: Json) => block.type), ['server_tool_use', 'web_search_tool_result', 'text']);
  assert.equal(grounded.content[0].input.query, 'UEFA Euro 2024 winner');
  assert.equal(grounded.content[1].tool_use_id, grounded.content[0].id);
  assert.doesNotMatch(grounded.content[0].id, /^srvtoolu_/, 'never mistaken for an id Anthropic issued');
  assert.deepEqual(grounded.content[2].citations.map((citation: Json) => citation.title), ['uefa.com', 'aljazeera.com', 'uefa.com']);
});

const geminiCaller = (): CanonicalRequest => decodeGenerateRequest({ contents: [{ role: 'user', parts: [{ text: 'Latest Node.js?' }] }], tools: [{ googleSearch: {} }] }, { ...surfaceRequest, params: { model: 'gemini-2.5-flash' } }, true);

test('→ a Gemini caller, streamed: the search, its sources and the cited span (UTF-8 bytes) as groundingMetadata on the last chunk', () => {
  const text = encodeAll(new GeminiStreamEncoder('sse', true), anthropicParts());
  const chunks = events(text);
  assert.ok(chunks.slice(0, -1).every((chunk) => chunk.candidates[0].groundingMetadata === undefined));
  const last = chunks.at(-1)!.candidates[0];
  assert.equal(last.finishReason, 'STOP');
  const answer = chunks.flatMap((chunk) => chunk.candidates[0].content?.parts ?? []).map((part: Json) => part.text).join('');
  const metadata = last.groundingMetadata;
  assert.deepEqual(metadata.webSearchQueries, ['node.js 24 release date']);
  assert.deepEqual(metadata.groundingChunks.map((chunk: Json) => chunk.web.uri), ['https://nodejs.org/en/blog/release/v24.0.0', 'https://nodejs.org/en/about/previous-releases']);
  const [support] = metadata.groundingSupports;
  assert.equal(Buffer.from(answer).subarray(support.segment.startIndex, support.segment.endIndex).toString(), 'Node.js 24 was released on May 6, 2025');
  assert.equal(support.segment.text, 'Node.js 24 was released on May 6, 2025');
  assert.deepEqual(support.groundingChunkIndices, [0]);
});

test('→ a Gemini caller, not streamed: grounding from a Responses search; Gemini\'s own grounding round-trips its spans', () => {
  const body = JSON.parse(encodeGenerateResponse(responsesAnswer(), geminiCaller()));
  const metadata = body.candidates[0].groundingMetadata;
  const answer = body.candidates[0].content.parts.map((part: Json) => part.text).join('');
  assert.deepEqual(metadata.webSearchQueries, ['node.js 24 release date']);
  const support = metadata.groundingSupports[0];
  assert.equal(Buffer.from(answer).subarray(support.segment.startIndex, support.segment.endIndex).toString(), '([nodejs.org](https://nodejs.org/en/blog/release/v24.0.0?utm_source=openai))');
  const original = JSON.parse(fixture('gemini/generate-response-grounding.json')).candidates[0].groundingMetadata;
  const again = JSON.parse(encodeGenerateResponse(decodeGenerateResponse(JSON.parse(fixture('gemini/generate-response-grounding.json'))), geminiCaller())).candidates[0].groundingMetadata;
  assert.deepEqual(again.webSearchQueries, original.webSearchQueries);
  assert.deepEqual(again.groundingSupports.map((entry: Json) => [entry.segment.startIndex ?? 0, entry.segment.endIndex]), [
    [0, original.groundingSupports[0].segment.endIndex], [0, original.groundingSupports[0].segment.endIndex], [original.groundingSupports[1].segment.startIndex, original.groundingSupports[1].segment.endIndex],
  ]);
});

test('→ a Chat Completions caller: citations as url_citation annotations over the content, streamed (whole-block citations when the block ends) and not', () => {
  const request = decodeChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true }, surfaceRequest);
  const text = encodeAll(new ChatStreamEncoder(request), anthropicParts());
  const chunks = parseSse(text).filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data) as Json);
  const content = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
  const annotations = chunks.flatMap((chunk) => chunk.choices[0]?.delta?.annotations ?? []);
  assert.equal(annotations.length, 1);
  const cited = annotations[0].url_citation;
  assert.equal(content.slice(cited.start_index, cited.end_index), 'Node.js 24 was released on May 6, 2025');
  assert.ok(!text.includes('web_search'), 'no hosted call in a chat stream');
  const body = JSON.parse(encodeChatResponse(responsesAnswer()));
  const message = body.choices[0].message;
  const annotation = message.annotations[0].url_citation;
  assert.equal(message.content.slice(annotation.start_index, annotation.end_index), '([nodejs.org](https://nodejs.org/en/blog/release/v24.0.0?utm_source=openai))');
});
