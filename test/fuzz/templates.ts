// Real shapes for the fuzzers to mutate: every client request the conformance dialects send and
// every answer their upstreams give (all scenarios, streamed and not), the recorded fixtures, and
// a few hand-written requests for the surfaces the conformance matrix does not drive (embeddings,
// token counting, Ollama's generate). Surfaces are found by routing the request's path through
// the gateway's own route table, so each template reaches the surface a real request would.
import { readdirSync, readFileSync } from 'node:fs';
import type { SurfaceAdapter, SurfaceRequest } from '../../src/canonical/adapters.ts';
import { RouteTable } from '../../src/server/route-table.ts';
import { anthropicSurfaces } from '../../src/surfaces/anthropic/routes.ts';
import { geminiSurfaces } from '../../src/surfaces/gemini/routes.ts';
import { ollamaSurfaces } from '../../src/surfaces/ollama/routes.ts';
import { openaiSurfaces } from '../../src/surfaces/openai/routes.ts';
import { loadDialects } from '../conformance/registry.ts';
import { scenarios } from '../conformance/scenarios.ts';
import type { RecordedRequest } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

export interface RequestTemplate {
  surface: SurfaceAdapter;
  body: unknown;
  params: Record<string, string>;
  query: string;
  headers: Record<string, string>;
}

export interface SseTemplate {
  events: { event?: string; data: string }[];
}

export interface ProviderTemplates {
  responses: unknown[];
  streams: SseTemplate[];
  /** NDJSON streams (Ollama): one JSON text per line. */
  lines: string[][];
  errors: { status: number; body: string }[];
  embeddings: unknown[];
  counts: unknown[];
  models: unknown[];
}

const dialects = [anthropicSurfaces, geminiSurfaces, ollamaSurfaces, openaiSurfaces];
const table = new RouteTable(dialects.flatMap((dialect) => dialect.routes), [], dialects.flatMap((dialect) => dialect.errorPrefixes));

function route(path: string, headers: Record<string, string>): { surface: SurfaceAdapter; params: Record<string, string>; query: string } {
  const [pathname, query = ''] = path.split('?') as [string, string?];
  const match = table.lookup('POST', pathname, { params: {}, query, headers });
  if (match.kind !== 'found' || match.entry.surface === undefined) throw new Error(`no surface for POST ${path}`);
  return { surface: match.entry.surface, params: match.params ?? {}, query };
}

const fixtures = new URL('../fixtures/', import.meta.url);
function fixture(path: string): string {
  return readFileSync(new URL(path, fixtures), 'utf8');
}
function fixturesIn(folder: string, pattern: RegExp): string[] {
  return readdirSync(new URL(`${folder}/`, fixtures)).filter((name) => pattern.test(name)).map((name) => `${folder}/${name}`);
}

/** Requests for the surfaces the conformance clients do not cover, and recorded client requests. */
const handWritten: { path: string; headers?: Record<string, string>; body: unknown }[] = [
  { path: '/v1/embeddings', body: { model: 'm', input: ['first text', 'second'], encoding_format: 'float', dimensions: 256, user: 'u' } },
  { path: '/v1/embeddings', body: { model: 'm', input: 'one text', encoding_format: 'base64' } },
  { path: '/v1/completions', body: { model: 'm', prompt: 'Say hi', max_tokens: 16, temperature: 0.5, stop: ['\n'], stream: true, stream_options: { include_usage: true }, suffix: '', echo: false } },
  { path: '/v1/messages/count_tokens', headers: { 'anthropic-version': '2023-06-01' }, body: { model: 'm', system: 'Be brief.', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }] } },
  { path: '/v1beta/models/m:countTokens', body: { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] } },
  { path: '/v1beta/models/m:countTokens', body: { generateContentRequest: { model: 'models/m', contents: [{ role: 'user', parts: [{ text: 'Hi' }] }], systemInstruction: { parts: [{ text: 'Be brief.' }] } } } },
  { path: '/v1beta/models/m:embedContent', body: { content: { parts: [{ text: 'embed me' }] }, taskType: 'RETRIEVAL_QUERY', outputDimensionality: 256, title: 'T' } },
  { path: '/v1beta/models/m:batchEmbedContents', body: { requests: [{ model: 'models/m', content: { parts: [{ text: 'a' }] }, taskType: 'SEMANTIC_SIMILARITY' }, { model: 'models/m', content: { parts: [{ text: 'b' }] }, taskType: 'SEMANTIC_SIMILARITY' }] } },
  { path: '/api/generate', body: { model: 'm', prompt: 'Why is the sky blue?', system: 'Be brief.', stream: true, think: true, format: 'json', images: ['iVBORw0KGgo='], options: { temperature: 0.2, num_predict: 64, stop: ['END'], top_k: 20, seed: 7 }, keep_alive: '5m', raw: false } },
  { path: '/api/embed', body: { model: 'm', input: ['a', 'b'], truncate: true, dimensions: 64, keep_alive: '5m' } },
  { path: '/api/embeddings', body: { model: 'm', prompt: 'one text', options: { temperature: 0 } } },
  // the less travelled content kinds of each dialect, so the fuzzers reach their branches
  {
    path: '/v1/chat/completions',
    body: {
      model: 'm', stream: true, stream_options: { include_usage: true }, reasoning_effort: 'low', response_format: { type: 'json_object' }, n: 1, parallel_tool_calls: false, seed: 3,
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
        { role: 'user', name: 'ann', content: [
          { type: 'text', text: 'Look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'low' } },
          { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } },
        ] },
        { role: 'assistant', content: null, reasoning_details: [{ type: 'reasoning.text', text: 'hm', signature: 'sig' }, { type: 'reasoning.encrypted', data: 'enc' }], tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] },
        { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'ok' }] },
        { role: 'function', name: 'f', content: 'legacy' },
      ],
      tools: [{ type: 'function', function: { name: 'f', description: 'F', parameters: { type: 'object', properties: { a: { type: 'integer' } } }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
    },
  },
  {
    path: '/v1/responses',
    body: {
      model: 'm', stream: true, instructions: 'Be brief.', max_output_tokens: 64, temperature: 0.3, top_p: 0.9, reasoning: { effort: 'high', summary: 'auto' },
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object', properties: { a: { type: 'string' } } }, strict: true } },
      input: [
        { type: 'message', role: 'user', content: [
          { type: 'input_text', text: 'Look' },
          { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' },
          { type: 'input_file', file_data: 'JVBERi0=', filename: 'a.pdf' },
          { type: 'input_file', file_url: 'https://example.com/a.pdf' },
          { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'mp3' } },
        ] },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: 'enc' },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"a":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'ok' },
        { type: 'custom_tool_call', call_id: 'c2', name: 'patch', input: '*** Begin' },
        { type: 'custom_tool_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'done' }] },
        { role: 'assistant', content: [{ type: 'output_text', text: 'Hi' }, { type: 'refusal', refusal: 'no' }] },
      ],
      tools: [
        { type: 'function', name: 'f', description: 'F', parameters: { type: 'object', properties: {} }, strict: false },
        { type: 'custom', name: 'patch', description: 'P', format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' } },
        { type: 'namespace', name: 'agents', tools: [{ type: 'function', name: 'spawn', parameters: { type: 'object', properties: {} } }] },
        { type: 'web_search' },
      ],
      tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'f' }] },
    },
  },
  {
    path: '/v1/messages', headers: { 'anthropic-version': '2023-06-01' },
    body: {
      model: 'm', max_tokens: 64, stream: true, stop_sequences: ['END'], top_k: 5, thinking: { type: 'enabled', budget_tokens: 1024 }, output_config: { effort: 'high' },
      system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: [
        { role: 'user', content: [
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' }, title: 'A' },
          { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain' } },
          { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } },
          { type: 'text', text: 'Look' },
        ] },
        { role: 'assistant', content: [
          { type: 'thinking', thinking: 'hm', signature: 'sig' },
          { type: 'redacted_thinking', data: 'enc' },
          { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } },
        ] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', is_error: true, content: [{ type: 'text', text: 'bad' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }] },
      ],
      tools: [{ name: 'f', description: 'F', input_schema: { type: 'object', properties: { a: { type: 'integer' } } }, cache_control: { type: 'ephemeral' } }],
      tool_choice: { type: 'tool', name: 'f', disable_parallel_tool_use: true },
      metadata: { user_id: 'u' },
    },
  },
  {
    path: '/v1beta/models/m:generateContent',
    body: {
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'Look' }, { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } }, { fileData: { mimeType: 'application/pdf', fileUri: 'https://generativelanguage.googleapis.com/v1beta/files/x' } }] },
        { role: 'model', parts: [{ text: 'hm', thought: true, thoughtSignature: 'c2ln' }, { functionCall: { name: 'f', args: { a: 1 } }, thoughtSignature: 'c2ln' }, { executableCode: { language: 'PYTHON', code: 'print(1)' } }, { codeExecutionResult: { outcome: 'OUTCOME_OK', output: '1' } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'f', response: { result: 'ok' } } }] },
      ],
      tools: [{ functionDeclarations: [{ name: 'f', description: 'F', parameters: { type: 'OBJECT', properties: { a: { type: 'INTEGER', enum: ['1'] } }, required: ['a'] } }, { name: 'g', parametersJsonSchema: { type: 'object', properties: {} } }] }, { googleSearch: {} }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } },
      generationConfig: { temperature: 0.2, topP: 0.9, topK: 5, maxOutputTokens: 64, stopSequences: ['END'], seed: 1, responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { a: { type: 'STRING' } } }, thinkingConfig: { thinkingLevel: 'low', includeThoughts: true }, candidateCount: 1, responseModalities: ['TEXT'] },
    },
  },
  {
    path: '/api/chat',
    body: {
      model: 'm', stream: true, think: 'high', format: { type: 'object', properties: { a: { type: 'string' } } }, keep_alive: 0, options: { temperature: 0.1, num_ctx: 4096 },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Look', images: ['iVBORw0KGgo='] },
        { role: 'assistant', content: '', thinking: 'hm', tool_calls: [{ id: 'c1', function: { name: 'f', arguments: { a: 1 } } }, { function: { index: 1, name: 'g', arguments: '{}' } }] },
        { role: 'tool', content: 'ok', tool_name: 'f', tool_call_id: 'c1' },
        { role: 'tool', content: 'ok too', tool_name: 'g' },
      ],
      tools: [{ type: 'function', function: { name: 'f', description: 'F', parameters: { type: 'object', properties: { a: { type: 'integer' } } } } }, { function: { name: 'g' } }],
    },
  },
  { path: '/v1/messages', headers: { 'anthropic-version': '2023-06-01' }, body: JSON.parse(fixture('anthropic/request-claude-code.json')) },
  { path: '/v1/responses', body: JSON.parse(fixture('responses/codex-request.json')) },
  { path: '/api/chat', body: JSON.parse(fixture('ollama/chat-request.json')) },
  { path: '/api/generate', body: JSON.parse(fixture('ollama/generate-request.json')) },
  { path: '/api/embed', body: JSON.parse(fixture('ollama/embed-request.json')) },
  { path: '/v1beta/models/m:streamGenerateContent?alt=sse', body: JSON.parse(fixture('gemini/generate-request.json')) },
];

/** What an upstream dialect's `respond` reads of the request that reached it. */
function recorded(type: string, model: string, stream: boolean): RecordedRequest {
  const paths: Record<string, string> = {
    openai: '/v1/chat/completions',
    'openai-responses': '/v1/responses',
    anthropic: '/v1/messages',
    gemini: `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`,
    ollama: '/api/chat',
  };
  const body = { model, stream, messages: [], input: [] };
  return { method: 'POST', path: paths[type]!, headers: {}, rawBody: Buffer.from(JSON.stringify(body)), body, socketId: 0, receivedAt: 0 };
}

/** A scripted SSE entry (`data:`/`event:` lines, or bare JSON) → its events. */
function sseEntry(entry: string): { event?: string; data: string }[] {
  const text = /^(?:data:|event:|id:|retry:|:)/.test(entry) ? `${entry}\n\n` : `data: ${entry}\n\n`;
  return parseSse(text);
}

export async function loadTemplates(): Promise<{ requests: RequestTemplate[]; providers: Map<string, ProviderTemplates> }> {
  const { clients, upstreams } = await loadDialects();
  const requests: RequestTemplate[] = [];
  const add = (path: string, headers: Record<string, string>, body: unknown) => {
    requests.push({ ...route(path, headers), body, headers });
  };
  for (const client of clients) {
    for (const scenario of scenarios) {
      for (const stream of [false, true]) {
        const request = client.request(scenario, scenario.name, stream);
        add(request.path, request.headers, JSON.parse(request.body));
      }
    }
  }
  for (const entry of handWritten) add(entry.path, entry.headers ?? {}, entry.body);
  // what the agent CLIs really send (recorded; see docs/clients.md)
  for (const name of ['claude-code', 'codex', 'gemini-cli', 'opencode']) {
    const recordedClient = JSON.parse(fixture(`clients/${name}-request.json`)) as { requests: Record<string, { path: string; headers: Record<string, string>; body: unknown }> };
    for (const request of Object.values(recordedClient.requests)) add(request.path, request.headers, request.body);
  }

  const providers = new Map<string, ProviderTemplates>();
  const templatesOf = (type: string): ProviderTemplates => {
    let found = providers.get(type);
    if (found === undefined) providers.set(type, (found = { responses: [], streams: [], lines: [], errors: [], embeddings: [], counts: [], models: [] }));
    return found;
  };
  for (const upstream of upstreams) {
    const into = templatesOf(upstream.type);
    for (const scenario of scenarios) {
      for (const stream of [false, true]) {
        const behavior = upstream.respond(scenario, recorded(upstream.type, scenario.name, stream));
        if (behavior.kind === 'json') {
          if (behavior.status === 200) into.responses.push(behavior.body);
          else into.errors.push({ status: behavior.status, body: JSON.stringify(behavior.body) });
        } else if (behavior.kind === 'stream') {
          into.streams.push({ events: behavior.events.flatMap(sseEntry) });
        } else if (behavior.kind === 'chunks') {
          into.lines.push(behavior.chunks.join('').split('\n').filter((line) => line.trim().length > 0));
        }
      }
    }
  }
  // recorded fixtures, per provider dialect
  const folders: [string, string][] = [['anthropic', 'anthropic'], ['gemini', 'gemini'], ['ollama', 'ollama'], ['openai-responses', 'responses'], ['openai', 'openai']];
  for (const [type, folder] of folders) {
    const into = templatesOf(type);
    for (const path of fixturesIn(folder, /\.sse$/)) into.streams.push({ events: parseSse(fixture(path)) });
    for (const path of fixturesIn(folder, /\.ndjson$/)) into.lines.push(fixture(path).split('\n').filter((line) => line.trim().length > 0));
    for (const path of fixturesIn(folder, /^(message|generate-response|chat-response|response)-.*\.json$/)) into.responses.push(JSON.parse(fixture(path)));
    for (const path of fixturesIn(folder, /^error-.*\.json$/)) into.errors.push({ status: /429/.test(path) ? 429 : /overloaded/.test(path) ? 529 : 400, body: fixture(path) });
    for (const path of fixturesIn(folder, /^(models-list|tags)\.json$/)) into.models.push(JSON.parse(fixture(path)));
    for (const path of fixturesIn(folder, /embed-response\.json$/)) into.embeddings.push(JSON.parse(fixture(path)));
  }
  templatesOf('openai').embeddings.push({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2, 0.3] }, { object: 'embedding', index: 1, embedding: 'zczMPc3MTL6amZk+' }], model: 'm', usage: { prompt_tokens: 4, total_tokens: 4 } });
  templatesOf('openai').models.push({ object: 'list', data: [{ id: 'gpt-x', object: 'model', owned_by: 'openai' }] });
  templatesOf('openai-responses').models.push({ object: 'list', data: [{ id: 'gpt-x', object: 'model' }] });
  templatesOf('gemini').embeddings.push({ embedding: { values: [0.1, 0.2] } });
  templatesOf('anthropic').counts.push({ input_tokens: 12 });
  templatesOf('gemini').counts.push({ totalTokens: 12, cachedContentTokenCount: 0 });
  return { requests, providers };
}
