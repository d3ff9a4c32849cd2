// Every hook point in every dialect, streaming and not (issue #18, "Tests and numbers"): one JS
// plugin with onRequest, onResponse, onStreamEvent and onComplete, behind a gateway loaded from
// YAML (the `plugins:` key), driven by each caller surface — OpenAI chat, OpenAI Responses,
// Anthropic Messages, Gemini (generateContent and streamGenerateContent?alt=sse), Ollama (/api/chat,
// NDJSON) — against a provider of the same dialect and against an OpenAI provider. The callers and
// upstreams are the conformance suite's (test/conformance/dialects), so each request is the one a
// real client sends and each answer is parsed (and its shape checked) the way that client would.
//
// Per caller × provider: onRequest's change reaches the provider; onResponse changes the whole
// answer; onStreamEvent changes the streamed text; a rejection arrives in the caller's error shape
// with its status, streamed or not, and nothing goes upstream; onComplete runs once per request
// with the status the client got.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { client as anthropicClient, upstream as anthropicUpstream } from '../conformance/dialects/anthropic.ts';
import { client as geminiClient, upstream as geminiUpstream } from '../conformance/dialects/gemini.ts';
import { client as ollamaClient, upstream as ollamaUpstream } from '../conformance/dialects/ollama.ts';
import { client as chatClient, upstream as openaiUpstream } from '../conformance/dialects/openai-chat.ts';
import { client as responsesClient, upstream as responsesUpstream } from '../conformance/dialects/openai-responses.ts';
import { scenarioByName } from '../conformance/scenarios.ts';
import type { ClientDialect, Scenario, UpstreamDialect } from '../conformance/types.ts';

const T = { timeout: 60_000 };

interface Recorded {
  requests: { id: string; dialect: string; surface: string; stream: boolean; path: string }[];
  completes: { id: string; status: number; stream: boolean; provider: string }[];
}
const recorded = (): Recorded => ((globalThis as Record<string, unknown>)['__pluginDialects'] ??= { requests: [], completes: [] }) as Recorded;

const PLUGIN = `
const seen = (globalThis.__pluginDialects ??= { requests: [], completes: [] });
export default {
  name: 'every-hook',
  hooks: {
    onRequest(ctx, request) {
      seen.requests.push({ id: ctx.requestId, dialect: ctx.dialect, surface: ctx.surface, stream: ctx.stream, path: ctx.path });
      for (const message of request.messages) {
        if (message.role !== 'user') continue;
        for (const part of message.content) {
          if (part.type !== 'text') continue;
          if (part.text.includes('reject me')) throw ctx.reject(403, 'refused by every-hook');
          part.text += ' [onRequest]';
        }
      }
    },
    onResponse(ctx, response) {
      for (const part of response.content) if (part.type === 'text') part.text = '[onResponse] ' + part.text;
    },
    onStreamEvent(ctx, part) {
      if (part.type === 'text-delta') part.delta = part.delta.toUpperCase();
    },
    onComplete(ctx, summary) {
      seen.completes.push({ id: summary.requestId, status: summary.status, stream: summary.stream, provider: summary.provider });
    },
  },
};
`;

interface Caller {
  client: ClientDialect;
  /** ctx.dialect and ctx.surface as the plugin should see them, whole and streamed. */
  dialect: string;
  surface: { whole: string; stream: string };
  /** The provider of the caller's own dialect. */
  same: UpstreamDialect;
}

const CALLERS: Caller[] = [
  { client: chatClient, dialect: 'openai', surface: { whole: 'openai-chat', stream: 'openai-chat' }, same: openaiUpstream },
  { client: responsesClient, dialect: 'openai', surface: { whole: 'openai-responses', stream: 'openai-responses' }, same: responsesUpstream },
  { client: anthropicClient, dialect: 'anthropic', surface: { whole: 'anthropic-messages', stream: 'anthropic-messages' }, same: anthropicUpstream },
  { client: geminiClient, dialect: 'gemini', surface: { whole: 'gemini-generate', stream: 'gemini-stream' }, same: geminiUpstream },
  { client: ollamaClient, dialect: 'ollama', surface: { whole: 'ollama-chat', stream: 'ollama-chat' }, same: ollamaUpstream },
];

const TEXT = scenarioByName('text');
const ANSWER = TEXT.answer!.text!;
/** The same scenario (the upstream answers it by model name), asked with a prompt the plugin refuses. */
const REFUSED: Scenario = { ...TEXT, input: { ...TEXT.input, messages: [{ role: 'user', text: 'please reject me' }] } };

interface Rig { mock: MockUpstream; gateway: RunningGateway }

async function startRig(t: TestContext, upstream: UpstreamDialect, plugin: string): Promise<Rig> {
  const mock = await startMockUpstream({ script: (request) => upstream.respond(scenarioByName(upstream.scenarioOf(request)), request) });
  t.after(() => mock.close());
  const yaml = `providers:\n  - name: up\n    type: ${upstream.type}\n    base_url: ${mock.url}${upstream.basePath}\n    api_key: sk-upstream-plugins\n    models: ["scenario-*"]\n    discover: false\n`
    + 'storage: { enabled: false }\n'
    // budgets no call misses on a shared, niced machine: a late hook is skipped (on_error: open)
    + `plugins:\n  - use: ${JSON.stringify(plugin)}\n    timeout_ms: 5000\n    stream_timeout_ms: 1000\n`;
  const { config } = parseConfigText(yaml, `plugins-${upstream.type}.yaml`, {});
  const logger = pino({ level: 'silent' }, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
  const gateway = await startGateway({ config, logger, host: '127.0.0.1', port: 0, discover: false });
  t.after(() => gateway.close());
  return { mock, gateway };
}

let sequence = 0;

async function ask(rig: Rig, caller: Caller, scenario: Scenario, stream: boolean) {
  const id = `plugins-dialects-${++sequence}`;
  const request = caller.client.request(scenario, 'scenario-text', stream);
  const response = await fetch(rig.gateway.url + request.path, { method: request.method, headers: { ...request.headers, 'x-request-id': id }, body: request.body });
  const body = await response.text();
  return { id, status: response.status, headers: response.headers, body };
}

async function completionsOf(id: string): Promise<Recorded['completes']> {
  for (let i = 0; i < 200 && !recorded().completes.some((entry) => entry.id === id); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  return recorded().completes.filter((entry) => entry.id === id);
}

for (const caller of CALLERS) {
  test(`${caller.client.name}: onRequest, onResponse, onStreamEvent, a rejection and onComplete, against its own dialect and OpenAI`, T, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-plugins-dialects-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const plugin = join(dir, 'every-hook.ts');
    writeFileSync(plugin, PLUGIN);
    const upstreams = caller.same === openaiUpstream ? [openaiUpstream] : [caller.same, openaiUpstream];
    const ids: string[] = [];
    for (const upstream of upstreams) {
      const rig = await startRig(t, upstream, plugin);
      for (const stream of [false, true]) {
        const where = `${caller.client.name} → ${upstream.type}${stream ? ' (stream)' : ''}`;
        const before = rig.mock.requests.length;
        const reply = await ask(rig, caller, TEXT, stream);
        ids.push(reply.id);
        const outcome = (() => {
          try {
            return caller.client.parse(reply.status, reply.headers, reply.body, stream);
          } catch (error) {
            throw new Error(`${where}: ${(error as Error).message}\n--- status ${reply.status}:\n${reply.body.slice(0, 2000)}`);
          }
        })();
        assert.equal(outcome.status, 200, `${where}: ${reply.body.slice(0, 500)}`);
        // onResponse changes the whole answer; onStreamEvent each streamed delta (and neither the other)
        assert.equal(outcome.text, stream ? ANSWER.toUpperCase() : `[onResponse] ${ANSWER}`, where);
        // onRequest's change is what the provider was sent
        assert.equal(rig.mock.requests.length, before + 1, where);
        const received = upstream.received(rig.mock.requests.at(-1)!);
        assert.deepEqual(received.userTexts, ['Say hello. [onRequest]'], where);
        assert.equal(received.system, TEXT.input.system, `${where}: the rest of the request is intact`);
        assert.equal(received.stream, stream, where);
        const completes = await completionsOf(reply.id);
        assert.deepEqual(completes, [{ id: reply.id, status: 200, stream, provider: 'up' }], `${where}: onComplete once, with the status`);

        // a rejection: the caller's own error shape and status, streamed or not; nothing upstream
        const refused = await ask(rig, caller, REFUSED, stream);
        ids.push(refused.id);
        assert.equal(refused.status, 403, `${where}: ${refused.body}`);
        assert.equal(refused.headers.get('x-switchyard-error-code'), 'SWY_ERR_PLUGIN_REJECTED', where);
        assert.match(refused.headers.get('content-type') ?? '', /^application\/json/, `${where}: an error answer, not a stream`);
        const error = caller.client.parse(refused.status, refused.headers, refused.body, false);
        assert.equal(error.errorMessage, 'refused by every-hook', where);
        assert.equal(rig.mock.requests.length, before + 1, `${where}: the refused request did not go upstream`);
        // (summary.stream is whether the answer was streamed: a refusal is a whole error answer)
        assert.deepEqual((await completionsOf(refused.id)).map(({ id, status, provider }) => ({ id, status, provider })), [{ id: refused.id, status: 403, provider: '' }], `${where}: onComplete once for the refusal`);
      }
    }
    // once, and only once, for every request (a late second call would show here)
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const id of ids) assert.equal(recorded().completes.filter((entry) => entry.id === id).length, 1, `onComplete once for ${id}`);
  });
}

// A plugin with no `routes`/`keys` applies to every request; each request must still get its own
// hook context (once, a shared run kept the first request's context and state for all later ones).
test('each request\'s hooks see that request\'s own context (requestId, stream, surface, path, state)', T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-plugins-dialects-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plugin = join(dir, 'context.ts');
  writeFileSync(plugin, `
const seen = (globalThis.__pluginDialects ??= { requests: [], completes: [] });
export default { name: 'context', hooks: {
  onRequest(ctx) {
    seen.requests.push({ id: ctx.requestId, dialect: ctx.dialect, surface: ctx.surface, stream: ctx.stream, path: ctx.path, stateBefore: Object.keys(ctx.state).length });
    ctx.state.mine = ctx.requestId;
  },
} };`);
  const rig = await startRig(t, geminiUpstream, plugin);
  const gemini = CALLERS.find((caller) => caller.client === geminiClient)!;
  for (const stream of [false, true, false]) {
    const reply = await ask(rig, gemini, TEXT, stream);
    assert.equal(reply.status, 200, reply.body);
    const path = stream ? '/v1beta/models/scenario-text:streamGenerateContent' : '/v1beta/models/scenario-text:generateContent';
    assert.deepEqual(recorded().requests.at(-1), { id: reply.id, dialect: 'gemini', surface: stream ? 'gemini-stream' : 'gemini-generate', stream, path, stateBefore: 0 });
  }
});

// The OpenAI chat encoder builds every chunk's head (`{"id":…,"choices":[`) from response-start:
// a stream hook may change that part but not drop it, like the terminal ones.
test('a stream hook that drops response-start cannot make the caller\'s stream malformed', T, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-plugins-dialects-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const plugin = join(dir, 'drop-start.ts');
  writeFileSync(plugin, `export default { name: 'drop-start', hooks: { onStreamEvent(ctx, part) { if (part.type === 'response-start') return null; } } };`);
  const rig = await startRig(t, openaiUpstream, plugin);
  const chat = CALLERS.find((caller) => caller.client === chatClient)!;
  const reply = await ask(rig, chat, TEXT, true);
  assert.equal(reply.status, 200, reply.body);
  // the conformance client parses every event as JSON and checks its shape
  const outcome = chat.client.parse(reply.status, reply.headers, reply.body, true);
  assert.equal(outcome.text, ANSWER);
});
