// Key and team limits through a real gateway whose keys are configured in YAML, against the mock
// upstream: exact request limits under 1,000 concurrent requests, tokens settled after a cut
// stream, requests in flight, a team shared by two keys, budgets across a restart (SQLite),
// allow-lists, the rate-limit headers on success and refusal, and error bodies in each dialect.
// The limits' clock is fake and fixed, so no window rolls over during a test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGateway } from '../../src/main.ts';
import { startYamlGateway } from '../helpers/yaml-gateway.ts';
import { startMockUpstream, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';
import { assertRpmRefusal } from '../helpers/rate-limit-refusal.ts';

const T = { timeout: 60_000 };
/** A fixed instant mid-minute: no window of the limits rolls over while a test runs. */
const NOW = Date.parse('2026-03-05T13:45:15Z');

interface Limited extends RunningGateway {
  logLines: Record<string, unknown>[];
}

async function startLimited(upstream: MockUpstream, auth: string[], options: { storage?: string; prices?: string[] } = {}): Promise<Limited> {
  const yaml = [
    'auth:', ...auth.map((line) => `  ${line}`),
    'providers:',
    '  - name: mock',
    '    type: openai',
    `    base_url: ${upstream.url}/v1`,
    '    models: [mock-gpt, gpt-4o]',
    'models:',
    '  - name: fast',
    '    targets: [{ provider: mock, model: mock-gpt }]',
    options.storage === undefined ? 'storage: { enabled: false }' : `storage: { path: ${options.storage} }`,
    ...(options.prices ?? []),
  ].join('\n') + '\n';
  return startYamlGateway(yaml, 'limits.yaml', () => NOW);
}

function chat(gateway: RunningGateway, key: string, body: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], ...body }),
    ...(signal !== undefined ? { signal } : {}),
  });
}

async function json(response: Response): Promise<any> {
  return JSON.parse(await response.text());
}

describe('limits', () => {
  let upstream: MockUpstream;
  before(async () => {
    upstream = await startMockUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  test('1,000 concurrent requests on a key limited to 100 rpm: exactly 100 answered, 900 refused with the rate-limit headers', T, async () => {
    const gateway = await startLimited(upstream, ['keys:', '  - { key: k-rpm, name: ci, rpm: 100 }']);
    try {
      const responses = await Promise.all(Array.from({ length: 1000 }, () => chat(gateway, 'k-rpm').then(async (response) => ({ response, body: await response.text() }))));
      const ok = responses.filter(({ response }) => response.status === 200);
      const refused = responses.filter(({ response }) => response.status === 429);
      assert.equal(ok.length, 100);
      assert.equal(refused.length, 900);
      for (const { response, body } of refused) assertRpmRefusal(response, body, 'k-rpm');
      for (const { response } of ok) {
        assert.equal(response.headers.get('x-ratelimit-limit-requests'), '100');
        assert.ok(Number(response.headers.get('x-ratelimit-remaining-requests')) >= 0);
      }
    } finally {
      await gateway.close();
    }
  });

  test('a stream the client cut is settled: its slot is released and its reserved tokens count; a full answer counts its real tokens', T, async () => {
    const gateway = await startLimited(upstream, ['keys:', '  - { key: k-tpm, name: agent, tpm: 10000, max_concurrent: 1 }']);
    upstream.setScript((request: RecordedRequest) => request.body?.stream === true
      ? { kind: 'stream', events: [JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt', choices: [{ index: 0, delta: { content: 'partial' } }] })], thenBehavior: 'stall' }
      : { kind: 'default' });
    try {
      const streamBody = { stream: true, max_tokens: 1000 };
      const streamBytes = Buffer.byteLength(JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], ...streamBody }));
      const controller = new AbortController();
      const cut = await chat(gateway, 'k-tpm', streamBody, controller.signal);
      assert.equal(cut.status, 200);
      assert.equal(cut.headers.get('x-ratelimit-remaining-tokens'), String(10_000 - Math.ceil(streamBytes / 4) - 1000));
      const reader = cut.body!.getReader();
      await reader.read();
      controller.abort();
      // the slot comes back once the gateway has seen the client leave
      let next: Response;
      for (;;) {
        next = await chat(gateway, 'k-tpm', { max_tokens: 50 });
        if (next.status !== 429) break;
        assert.match((await json(next)).error.message, /in flight/);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(next.status, 200);
      const plainBytes = Buffer.byteLength(JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }], max_tokens: 50 }));
      const cutReserved = Math.ceil(streamBytes / 4) + 1000;
      assert.equal(next.headers.get('x-ratelimit-remaining-tokens'), String(10_000 - cutReserved - Math.ceil(plainBytes / 4) - 50));
      const usage = (await json(next)).usage;
      // once settled, the plain answer counts its real tokens instead of its reservation
      const third = await chat(gateway, 'k-tpm', { max_tokens: 50 });
      assert.equal(third.status, 200);
      assert.equal(third.headers.get('x-ratelimit-remaining-tokens'), String(10_000 - cutReserved - usage.total_tokens - Math.ceil(plainBytes / 4) - 50));
      await third.text();
    } finally {
      upstream.setScript(() => ({ kind: 'default' }));
      await gateway.close();
    }
  });

  test('max_concurrent: the request past the limit is refused while the others are in flight, then admitted', T, async () => {
    const gateway = await startLimited(upstream, ['keys:', '  - { key: k-conc, name: batch, max_concurrent: 2 }']);
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => { release = resolve; });
    const before = upstream.requests.length;
    upstream.setScript(() => ({ kind: 'hold', until: barrier, then: { kind: 'default' } }));
    try {
      const held = [chat(gateway, 'k-conc'), chat(gateway, 'k-conc')];
      await upstream.waitForRequests(before + 2);
      const third = await chat(gateway, 'k-conc');
      assert.equal(third.status, 429);
      assert.equal(third.headers.get('retry-after'), '1');
      assert.match((await json(third)).error.message, /Too many requests in flight for key 'batch' \(key-[0-9a-f]{8}\): at most 2 at once/);
      release();
      for (const response of await Promise.all(held)) {
        assert.equal(response.status, 200);
        await response.text();
      }
      upstream.setScript(() => ({ kind: 'default' }));
      let again: Response;
      do {
        again = await chat(gateway, 'k-conc');
        await again.text();
      } while (again.status === 429);
      assert.equal(again.status, 200);
    } finally {
      release();
      upstream.setScript(() => ({ kind: 'default' }));
      await gateway.close();
    }
  });

  test('a team limit is shared by its keys; each key keeps its own', T, async () => {
    const gateway = await startLimited(upstream, [
      'teams: [{ name: ml, rpm: 3 }]',
      'keys:',
      '  - { key: k-a, name: alice, team: ml, rpm: 2 }',
      '  - { key: k-b, name: bob, team: ml }',
    ]);
    try {
      assert.equal((await chat(gateway, 'k-a')).status, 200);
      assert.equal((await chat(gateway, 'k-a')).status, 200);
      const own = await chat(gateway, 'k-a');
      assert.equal(own.status, 429);
      assert.match((await json(own)).error.message, /key 'alice'/);
      const first = await chat(gateway, 'k-b');
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('x-ratelimit-limit-requests'), '3');
      assert.equal(first.headers.get('x-ratelimit-remaining-requests'), '0');
      const shared = await chat(gateway, 'k-b');
      assert.equal(shared.status, 429);
      assert.match((await json(shared)).error.message, /team 'ml'.*3 requests per minute/);
    } finally {
      await gateway.close();
    }
  });

  test('budget: exhausted → 429 budget_exceeded naming the period and its reset; the soft threshold warns; spend survives a restart', T, async () => {
    const storage = mkdtempSync(join(tmpdir(), 'switchyard-limits-'));
    // $1 a token: every answer of the mock (five tokens) costs more than the budget
    const prices = ['prices:', '  mock-gpt: { input: 1000000, output: 1000000 }'];
    const auth = ['keys:', '  - { key: k-budget, name: spender, budget: { usd: 1, period: day } }', '  - { key: k-soft, name: watched, budget: { usd: 1000, period: month, soft_usd: 0.5 } }'];
    let gateway = await startLimited(upstream, auth, { storage, prices });
    try {
      const first = await chat(gateway, 'k-budget');
      assert.equal(first.status, 200);
      await first.text();
      const refused = await chat(gateway, 'k-budget');
      assert.equal(refused.status, 429);
      const error = (await json(refused)).error;
      assert.equal(error.code, 'budget_exceeded');
      assert.match(error.message, /^Budget exceeded for key 'spender' \(key-[0-9a-f]{8}\): \$\d+\.\d\d spent of \$1\.00 per day\. It resets at 2026-03-06T00:00:00Z\.$/);
      assert.equal(refused.headers.get('retry-after'), String((Date.parse('2026-03-06T00:00:00Z') - NOW) / 1000));

      const quiet = await chat(gateway, 'k-soft');
      assert.equal(quiet.headers.get('x-switchyard-budget-warning'), null);
      await quiet.text();
      const warned = await chat(gateway, 'k-soft');
      assert.equal(warned.status, 200);
      assert.match(warned.headers.get('x-switchyard-budget-warning')!, /^key 'watched' \(key-[0-9a-f]{8}\) has spent \$\d+\.\d\d of its \$1000\.00 per-month budget \(warning at \$0\.50\); it resets at 2026-04-01T00:00:00Z$/);
      await warned.text();
      assert.ok(gateway.logLines.some((line) => line.msg === 'budget soft threshold crossed' && line.name === 'watched'));
      const metrics = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: 'Bearer k-soft' } })).text();
      assert.match(metrics, /switchyard_budget_soft_exceeded_total\{scope="key",name="watched"\} 1/);

      await gateway.drain(5000);
      gateway = await startLimited(upstream, auth, { storage, prices });
      const afterRestart = await chat(gateway, 'k-budget');
      assert.equal(afterRestart.status, 429);
      assert.equal((await json(afterRestart)).error.code, 'budget_exceeded');
      // the key that was never refused before the restart still has its budget (it starts from its own spend)
      assert.equal((await chat(gateway, 'k-soft')).status, 200);
    } finally {
      await gateway.close();
    }
  });

  test('a key of the key store: its budget holds, and its spend survives a restart too', T, async () => {
    const storage = mkdtempSync(join(tmpdir(), 'switchyard-limits-store-'));
    const prices = ['prices:', '  mock-gpt: { input: 1000000, output: 1000000 }'];
    const auth = ['keys:', '  - { key: k-plain, name: plain }'];
    let gateway = await startLimited(upstream, auth, { storage, prices });
    try {
      // no admin keys, a loopback listener: the management API answers loopback callers
      const created = await fetch(`${gateway.url}/v0/management/keys`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'stored-spender', budget: { usd: 1, period: 'day' } }),
      });
      assert.equal(created.status, 201, await created.clone().text());
      const secret = ((await created.json()) as { key: string }).key;
      const first = await chat(gateway, secret);
      assert.equal(first.status, 200);
      await first.text();
      const refused = await chat(gateway, secret);
      assert.equal(refused.status, 429);
      assert.equal((await json(refused)).error.code, 'budget_exceeded');
      await gateway.drain(5000);
      gateway = await startLimited(upstream, auth, { storage, prices });
      const afterRestart = await chat(gateway, secret);
      assert.equal(afterRestart.status, 429, 'the spend on record counts after a restart');
      assert.equal((await json(afterRestart)).error.code, 'budget_exceeded');
    } finally {
      await gateway.close();
    }
  });

  test('a key store with no limited key compiles no limit handler; the first limited key made through the API compiles them, and its limit holds at once; deleting it takes them away', T, async () => {
    const storage = mkdtempSync(join(tmpdir(), 'switchyard-limits-compile-'));
    const gateway = await startLimited(upstream, ['keys: [plain-key]'], { storage });
    const manage = (method: string, path: string, body?: unknown) => fetch(`${gateway.url}/v0/management${path}`, {
      method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    try {
      const phases = () => gateway.gateway.phases;
      assert.equal(phases().admit.length, 0, 'storage on, key store open, no limits: no admit handler');
      assert.equal(phases().commit.length, 0);
      const plainComplete = phases().complete.length;
      // a key without limits changes nothing
      const unlimited = await manage('POST', '/keys', { name: 'no-limits' });
      assert.equal(unlimited.status, 201);
      assert.equal(phases().admit.length, 0);
      const created = await manage('POST', '/keys', { name: 'two-a-minute', rpm: 2 });
      assert.equal(created.status, 201, await created.clone().text());
      const secret = ((await created.json()) as { key: string }).key;
      assert.equal(phases().admit.length, 1, 'the first limited key compiles the admit handler');
      assert.equal(phases().commit.length, 1);
      assert.equal(phases().complete.length, plainComplete + 1);
      for (let i = 0; i < 2; i++) {
        const answered = await chat(gateway, secret);
        assert.equal(answered.status, 200);
        assert.equal(answered.headers.get('x-ratelimit-limit-requests'), '2');
        await answered.text();
      }
      const refused = await chat(gateway, secret);
      assert.equal(refused.status, 429, 'the limit holds right after the key was made');
      await refused.text();
      assert.equal((await manage('DELETE', '/keys/two-a-minute')).status, 200);
      assert.equal(phases().admit.length, 0, 'the last limited key gone: the handlers go too');
      assert.equal(phases().complete.length, plainComplete);
      const plain = await chat(gateway, 'plain-key');
      assert.equal(plain.status, 200);
      assert.equal(plain.headers.get('x-ratelimit-limit-requests'), null);
      await plain.text();
    } finally {
      await gateway.close();
    }
  });

  test('allow-list: globs and aliases by the name asked; 403 names the key and the model', T, async () => {
    const gateway = await startLimited(upstream, ['keys:', '  - { key: k-list, name: narrow, models: ["gpt-*", fast] }']);
    try {
      assert.equal((await chat(gateway, 'k-list', { model: 'gpt-4o' })).status, 200);
      assert.equal((await chat(gateway, 'k-list', { model: 'fast' })).status, 200);
      const refused = await chat(gateway, 'k-list', { model: 'mock-gpt' });
      assert.equal(refused.status, 403);
      const error = (await json(refused)).error;
      assert.equal(error.code, 'model_not_allowed');
      assert.equal(error.type, 'permission_error');
      assert.match(error.message, /^Key 'narrow' \(key-[0-9a-f]{8}\) may not use model 'mock-gpt'; allowed: gpt-\*, fast\.$/);
    } finally {
      await gateway.close();
    }
  });

  test('headers on success and error bodies in the OpenAI, Anthropic and Gemini dialects', T, async () => {
    const gateway = await startLimited(upstream, ['keys:', '  - { key: k-dialects, name: polyglot, rpm: 3, tpm: 100000, budget: { usd: 1000, period: week } }']);
    try {
      const openai = await chat(gateway, 'k-dialects');
      assert.equal(openai.status, 200);
      assert.equal(openai.headers.get('x-ratelimit-limit-requests'), '3');
      assert.equal(openai.headers.get('x-ratelimit-remaining-requests'), '2');
      assert.equal(openai.headers.get('x-ratelimit-reset-requests'), '45s');
      assert.equal(openai.headers.get('x-ratelimit-limit-tokens'), '100000');
      assert.ok(Number(openai.headers.get('x-ratelimit-remaining-tokens')) < 100000);
      assert.equal(openai.headers.get('anthropic-ratelimit-requests-limit'), null);
      await openai.text();

      const messages = () => fetch(`${gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': 'k-dialects', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
      });
      const anthropic = await messages();
      assert.equal(anthropic.status, 200);
      assert.equal(anthropic.headers.get('anthropic-ratelimit-requests-limit'), '3');
      assert.equal(anthropic.headers.get('anthropic-ratelimit-requests-remaining'), '1');
      assert.equal(anthropic.headers.get('anthropic-ratelimit-requests-reset'), '2026-03-05T13:46:00Z');
      assert.equal(anthropic.headers.get('anthropic-ratelimit-tokens-limit'), '100000');
      assert.match(anthropic.headers.get('anthropic-ratelimit-tokens-reset')!, /^2026-03-05T13:46:00Z$/);
      assert.equal(anthropic.headers.get('x-ratelimit-remaining-requests'), '1');
      await anthropic.text();
      assert.equal((await chat(gateway, 'k-dialects')).status, 200);

      // the limit is reached: each dialect's own 429
      const openaiRefusal = await chat(gateway, 'k-dialects');
      assert.equal(openaiRefusal.status, 429);
      assert.deepEqual(Object.keys((await json(openaiRefusal)).error).sort(), ['code', 'message', 'param', 'type']);

      const anthropicRefusal = await messages();
      assert.equal(anthropicRefusal.status, 429);
      assert.equal(anthropicRefusal.headers.get('anthropic-ratelimit-requests-remaining'), '0');
      assert.match(anthropicRefusal.headers.get('anthropic-ratelimit-requests-reset')!, /^2026-03-05T13:4\d:\d\dZ$/);
      assert.equal(anthropicRefusal.headers.get('x-ratelimit-remaining-requests'), '0');
      const anthropicBody = await json(anthropicRefusal);
      assert.equal(anthropicBody.type, 'error');
      assert.equal(anthropicBody.error.type, 'rate_limit_error');
      assert.match(anthropicBody.error.message, /key 'polyglot'/);

      const gemini = await fetch(`${gateway.url}/v1beta/models/mock-gpt:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': 'k-dialects', 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
      });
      assert.equal(gemini.status, 429);
      assert.ok(Number(gemini.headers.get('retry-after')) >= 1);
      const geminiError = (await json(gemini)).error;
      assert.equal(geminiError.code, 429);
      assert.equal(geminiError.status, 'RESOURCE_EXHAUSTED');
      assert.ok(geminiError.details.some((detail: { reason?: string }) => detail.reason === 'SWY_ERR_LIMIT_RATE_EXCEEDED'));
      assert.ok(geminiError.details.some((detail: { retryDelay?: string }) => /^\d+s$/.test(detail.retryDelay ?? '')));
    } finally {
      await gateway.close();
    }
  });

  test('a gateway with plain keys only compiles no limit handler', T, async () => {
    const gateway = await startLimited(upstream, ['keys: [plain-key]']);
    try {
      assert.equal(gateway.gateway.phases.admit.length, 0);
      assert.equal(gateway.gateway.phases.commit.length, 0);
      const response = await chat(gateway, 'plain-key');
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('x-ratelimit-limit-requests'), null);
      await response.text();
    } finally {
      await gateway.close();
    }
  });
});
