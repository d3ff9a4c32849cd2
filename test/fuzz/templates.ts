// Real shapes for the fuzzers to mutate: every client request the conformance dialects send and
// every answer their upstreams give (all scenarios, streamed and not), the recorded fixtures, and
// a few hand-written requests for the surfaces the conformance matrix does not drive (embeddings,
// token counting, Ollama's generate). Surfaces are found by routing the request's path through
// the gateway's own route table, so each template reaches the surface a real request would.
import { readdirSync, readFileSync } from 'node:fs';
import type { SurfaceAdapter, SurfaceRequest } from '../../src/canonical/adapters.ts';
import { RouteTable } from '../../src/pipeline/route-table.ts';
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
