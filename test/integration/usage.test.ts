// Usage and cost that last: recorded per request to SQLite in a temporary state directory, read back
// through GET /v0/usage and `switchyard usage` — across a restart, after retries and fallbacks,
// with a store that fails, and for every group_by and time range.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { droppedTotal } from '../../src/state/usage-recorder.ts';
import type { UsageRow } from '../../src/state/usage-store.ts';
import { priceList } from '../../src/observability/price-list.ts';
import { costOf } from '../../src/observability/pricing.ts';
import { startTestGateway, type TestGateway, type TestGatewayOptions } from '../helpers/gateway.ts';
import type { Behavior, RecordedRequest } from '../helpers/mock-upstream.ts';
import { chat, chunk, FAST_RETRY, finishChunk, openaiProvider, startGatewayFor, startMocks, status } from '../helpers/resilience.ts';

const T = { timeout: 20_000 };
const entry = new URL('../../src/cli/main.ts', import.meta.url).pathname;

function stateDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-usage-'));
}

interface Tokens { prompt: number; completion: number; cached?: number; reasoning?: number }

const usageBody = (tokens: Tokens) => ({
  prompt_tokens: tokens.prompt,
  completion_tokens: tokens.completion,
  total_tokens: tokens.prompt + tokens.completion,
  prompt_tokens_details: { cached_tokens: tokens.cached ?? 0 },
  completion_tokens_details: { reasoning_tokens: tokens.reasoning ?? 0 },
});

/** An OpenAI chat answer carrying exactly these token counts, streamed when the request asks. */
function answer(request: RecordedRequest, tokens: Tokens): Behavior {
  if (request.body?.stream === true) {
    const usageChunk = JSON.stringify({ id: 'chatcmpl-u', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: usageBody(tokens) });
    return { kind: 'stream', events: [chunk('ok'), finishChunk(), usageChunk, '[DONE]'] };
  }
  return {
    kind: 'json', status: 200,
    body: {
      id: 'chatcmpl-u', object: 'chat.completion', created: 1, model: request.body?.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
      usage: usageBody(tokens),
    },
  };
}

async function usage(gateway: TestGateway, query: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${gateway.url}/v0/usage${query === '' ? '' : `?${query}`}`, { headers });
  return { status: response.status, body: await response.json() };
}

function byGroup(body: any): Record<string, any> {
  return Object.fromEntries(body.data.map((row: any) => [row.group ?? '(none)', row]));
}

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} ≠ ${expected}`);

/** Waits for the access line of the nth request (lines are written when the response closes). */
async function accessLines(gateway: TestGateway, count: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 200; i++) {
    const lines = gateway.logs.filter((line) => line.msg === 'request' && line.path !== '/v0/usage');
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('access lines missing');
}

describe('usage and cost recording', { concurrency: 4 }, () => {
  test('usage survives a restart (SQLite): recorded, gateway closed, a new gateway on the same file answers from it', T, async (t) => {
    const dir = stateDir();
    const tokens: Tokens = { prompt: 1000, completion: 200, cached: 400, reasoning: 50 };
    const { up } = await startMocks(t, { up: (request) => answer(request, tokens) });
    const options: TestGatewayOptions = { providers: [openaiProvider('p', up)], storage: { path: dir } };
    const first = await startTestGateway(options);
    try {
      assert.equal((await chat(first, 'gpt-4o')).status, 200);
      const streamed = await chat(first, 'gpt-4o', { stream: true, stream_options: { include_usage: true } });
      assert.equal(streamed.status, 200);
      assert.match(streamed.text, /\[DONE\]/);
    } finally {
      await first.close();
    }
    assert.ok(existsSync(join(dir, 'usage.db')), 'the database is in the state directory');

    const second = await startGatewayFor(t, options);
    const report = await usage(second, 'group_by=model');
    assert.equal(report.status, 200, JSON.stringify(report.body));
    const cost = (600 * 2.5 + 400 * 1.25 + 200 * 10) / 1e6;
    assert.deepEqual(report.body.data, [{
      group: 'gpt-4o', requests: 2, errors: 0, input_tokens: 2000, output_tokens: 400, cached_tokens: 800, cache_write_tokens: 0, reasoning_tokens: 100,
      cost_usd: 2 * cost, unpriced_requests: 0, subscription_requests: 0, reported_cost_usd: null, cached_requests: 0,
    }]);
    assert.equal(report.body.totals.requests, 2);
    near(report.body.totals.cost_usd, 2 * cost);
    assert.equal(report.body.store, 'sqlite');
    assert.equal(report.body.group_by, 'model');
  });

  test('after retries and fallbacks: attributed to the provider and model that answered, with the tokens of the answer only', T, async (t) => {
    const dir = stateDir();
    const { down, cheap, flaky } = await startMocks(t, {
      down: () => status(503, 'overloaded'),
      cheap: (request) => answer(request, { prompt: 300, completion: 30 }),
      flaky: (request, index) => (index === 0 ? status(502, 'bad gateway') : answer(request, { prompt: 80, completion: 8, cached: 0 })),
    });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('down', down), openaiProvider('cheap', cheap), openaiProvider('flaky', flaky)],
      models: [
        { name: 'smart', targets: [{ provider: 'down', model: 'gpt-4o' }], fallbacks: ['budget'], retry: FAST_RETRY },
        { name: 'budget', targets: [{ provider: 'cheap', model: 'gpt-4o-mini' }] },
        { name: 'retry', targets: [{ provider: 'flaky', model: 'claude-haiku-4-5-20251001' }], retry: FAST_RETRY },
      ],
      storage: { path: dir },
    });
    const fellBack = await chat(gateway, 'smart');
    assert.equal(fellBack.status, 200, fellBack.text);
    assert.equal(fellBack.headers.get('x-switchyard-fallback'), 'budget');
    const retried = await chat(gateway, 'retry');
    assert.equal(retried.status, 200, retried.text);
    assert.equal(retried.headers.get('x-switchyard-attempts'), '2');

    const miniCost = costOf(priceList['gpt-4o-mini']!, { inputTokens: 300, outputTokens: 30 });
    const haikuCost = costOf(priceList['claude-haiku-4.5']!, { inputTokens: 80, outputTokens: 8 });
    const [fallbackLine, retryLine] = await accessLines(gateway, 2);
    assert.deepEqual(fallbackLine!.tokens, { in: 300, out: 30, cached: 0, reasoning: 0 });
    near(fallbackLine!.cost_usd as number, miniCost);
    near(retryLine!.cost_usd as number, haikuCost);

    const models = byGroup((await usage(gateway, 'group_by=model')).body);
    assert.deepEqual(Object.keys(models).sort(), ['claude-haiku-4-5-20251001', 'gpt-4o-mini'], 'nothing is attributed to the model that failed');
    assert.equal(models['gpt-4o-mini'].requests, 1);
    assert.equal(models['gpt-4o-mini'].input_tokens, 300);
    assert.equal(models['gpt-4o-mini'].output_tokens, 30);
    near(models['gpt-4o-mini'].cost_usd, miniCost);
    assert.equal(models['claude-haiku-4-5-20251001'].input_tokens, 80);
    near(models['claude-haiku-4-5-20251001'].cost_usd, haikuCost);
    const providers = byGroup((await usage(gateway, 'group_by=provider')).body);
    assert.deepEqual(Object.keys(providers).sort(), ['cheap', 'flaky']);
    assert.equal(down.requests.length, 2, 'the failing target was tried twice');
  });

  test('an unwritable state directory: rows are dropped with the counter, a warning is logged, requests are answered', T, async (t) => {
    const blocker = join(stateDir(), 'a-file');
    writeFileSync(blocker, 'not a directory');
    const { up } = await startMocks(t, { up: (request) => answer(request, { prompt: 10, completion: 1 }) });
    const before = droppedTotal;
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], storage: { path: join(blocker, 'state') } });
    for (let i = 0; i < 3; i++) assert.equal((await chat(gateway, 'gpt-4o')).status, 200);
    await accessLines(gateway, 3);
    await gateway.usage!.flush();
    assert.equal(gateway.usage!.dropped, 3);
    assert.ok(droppedTotal - before >= 3, 'the process-wide counter moved');
    const warnings = gateway.logs.filter((line) => line.level === 40).map((line) => String(line.msg));
    assert.ok(warnings.some((message) => /usage store is unavailable/.test(message)), warnings.join('\n'));
    assert.ok(warnings.some((message) => /usage rows dropped/.test(message)), warnings.join('\n'));
    const report = await usage(gateway, '');
    assert.equal(report.status, 503);
    assert.equal(report.body.error.code, 'usage_unavailable');
    assert.match(report.body.error.message, /could not be read/);
  });

  test('a store closed under the gateway: the request is still answered and its row dropped', T, async (t) => {
    const { up } = await startMocks(t, { up: (request) => answer(request, { prompt: 10, completion: 1 }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], storage: { path: stateDir() } });
    await gateway.usage!.store.close();
    assert.equal((await chat(gateway, 'gpt-4o', { stream: true })).status, 200);
    assert.equal((await chat(gateway, 'gpt-4o')).status, 200);
    await accessLines(gateway, 2);
    await gateway.usage!.flush();
    assert.equal(gateway.usage!.dropped, 2);
    assert.equal(gateway.usage!.written, 0);
  });

  test('group_by model|provider|key|day|surface over from/to (inclusive from, exclusive to)', T, async (t) => {
    const { up } = await startMocks(t, { up: (request) => answer(request, { prompt: 10, completion: 1 }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], storage: { path: stateDir() } });
    for (const row of SAMPLE) gateway.usage!.record(row);

    const window = 'from=2026-01-10&to=2026-01-12';
    const days = await usage(gateway, `group_by=day&${window}`);
    assert.equal(days.status, 200);
    assert.deepEqual(days.body.data.map((row: any) => [row.group, row.requests, row.errors]), [['2026-01-10', 2, 1], ['2026-01-11', 2, 1]]);
    assert.equal(days.body.from, '2026-01-10T00:00:00.000Z');
    assert.equal(days.body.to, '2026-01-12T00:00:00.000Z');

    const keys = byGroup((await usage(gateway, `group_by=key&${window}`)).body);
    assert.deepEqual(Object.keys(keys).sort(), ['(none)', 'key-aaaaaaaa', 'key-bbbbbbbb']);
    assert.equal(keys['key-aaaaaaaa'].requests, 2);
    near(keys['key-aaaaaaaa'].cost_usd, 0.015);
    assert.equal(keys['key-aaaaaaaa'].input_tokens, 150);
    assert.equal(keys['key-aaaaaaaa'].cached_tokens, 20);
    assert.equal(keys['key-aaaaaaaa'].reasoning_tokens, 2);
    assert.equal(keys['key-bbbbbbbb'].cost_usd, null, 'no price, no cost');
    assert.equal(keys['key-bbbbbbbb'].errors, 1);

    const models = (await usage(gateway, `group_by=model&${window}`)).body;
    assert.deepEqual(models.data.map((row: any) => row.group), ['m1', 'm2', 'nope'], 'by cost, then requests; a request nothing answered is named by the model asked');
    assert.equal(models.data[1].unpriced_requests, 1);
    assert.equal(models.totals.requests, 4);
    near(models.totals.cost_usd, 0.015);
    assert.equal(models.totals.unpriced_requests, 1);

    const providers = byGroup((await usage(gateway, `group_by=provider&${window}`)).body);
    assert.deepEqual(Object.keys(providers).sort(), ['(none)', 'p', 'q']);
    const surfaces = byGroup((await usage(gateway, `group_by=surface&${window}`)).body);
    assert.deepEqual(Object.fromEntries(Object.entries(surfaces).map(([name, row]) => [name, row.requests])), { 'openai-chat': 3, 'anthropic-messages': 1 });

    // epoch ms; `to` is exclusive, `from` inclusive
    const to = Date.UTC(2026, 0, 11, 9);
    const narrow = (await usage(gateway, `group_by=model&from=${Date.UTC(2026, 0, 10, 10)}&to=${to}`)).body;
    assert.deepEqual(narrow.data.map((row: any) => [row.group, row.requests]), [['m1', 1], ['m2', 1]]);
    // the default range is the last 24 hours: none of these rows
    assert.deepEqual((await usage(gateway, '')).body.data, []);
  });

  test('a client that leaves before the answer is recorded as 499, with no tokens', T, async (t) => {
    const { up } = await startMocks(t, { up: () => ({ kind: 'delay', ms: 3000 }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], storage: { path: stateDir() } });
    const controller = new AbortController();
    const aborted = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, signal: controller.signal,
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    }).catch(() => undefined);
    await up.waitForRequests(1);
    controller.abort();
    await aborted;
    for (let i = 0; i < 200 && gateway.usage!.queued + gateway.usage!.written === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const models = byGroup((await usage(gateway, 'group_by=model')).body);
    assert.deepEqual(models['gpt-4o-mini'], {
      group: 'gpt-4o-mini', requests: 1, errors: 1, input_tokens: 0, output_tokens: 0, cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: null, unpriced_requests: 0, subscription_requests: 0, reported_cost_usd: null, cached_requests: 0,
    });
  });

  test('client keys: /v0/usage needs one; usage is grouped by key id, never the key', T, async (t) => {
    const { up } = await startMocks(t, { up: (request) => answer(request, { prompt: 10, completion: 1 }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], keys: ['sk-client-one'], storage: { path: stateDir() } });
    assert.equal((await chat(gateway, 'gpt-4o', {}, { authorization: 'Bearer sk-client-one' })).status, 200);
    assert.equal((await usage(gateway, 'group_by=key')).status, 401);
    const report = await usage(gateway, 'group_by=key', { authorization: 'Bearer sk-client-one' });
    assert.equal(report.status, 200);
    const [line] = await accessLines(gateway, 1);
    assert.deepEqual(report.body.data.map((row: any) => row.group), [line!.key]);
    assert.match(String(line!.key), /^key-[0-9a-f]{8}$/);
    assert.ok(!JSON.stringify(report.body).includes('sk-client-one'));
  });

  test('storage off answers 404; a bad group_by 400', T, async (t) => {
    const { up } = await startMocks(t, { up: (request) => answer(request, { prompt: 1, completion: 1 }) });
    const off = await startGatewayFor(t, { providers: [openaiProvider('p', up)] });
    assert.equal(off.usage, undefined);
    const refused = await usage(off, '');
    assert.equal(refused.status, 404);
    assert.match(refused.body.error.message, /storage\.enabled: false/);
    const on = await startGatewayFor(t, { providers: [openaiProvider('p', up)], storage: { path: stateDir() } });
    const bad = await usage(on, 'group_by=colour');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, 'group_by');
  });

  test('switchyard usage prints the same as an aligned table (and --json, and a clear error)', T, async (t) => {
    const { up } = await startMocks(t, { up: (request) => answer(request, { prompt: 1, completion: 1 }) });
    const gateway = await startGatewayFor(t, { providers: [openaiProvider('p', up)], keys: ['sk-cli'], storage: { path: stateDir() } });
    for (const row of SAMPLE) gateway.usage!.record(row);
    const table = await run(t, ['usage', '--url', gateway.url, '--key', 'sk-cli', '--group-by', 'provider', '--from', '2026-01-10', '--to', '2026-01-12']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.equal(lines[0], 'Usage by provider, 2026-01-10 00:00 to 2026-01-12 00:00 UTC');
    assert.match(lines[2]!, /^PROVIDER\s+REQUESTS\s+ERRORS\s+INPUT\s+CACHED\s+OUTPUT\s+REASONING\s+COST$/);
    assert.match(lines[3]!, /^p\s+2\s+0\s+150\s+20\s+15\s+2\s+\$0\.0150$/);
    assert.match(table.stdout, /^q\s+1\s+1\s+7\s+0\s+0\s+0\s+—\*$/m, 'usage without a price is marked');
    assert.match(table.stdout, /^\(none\)\s+1\s+1\s+0\s+0\s+0\s+0\s+—$/m);
    assert.match(table.stdout, /^TOTAL\s+4\s+2\s+157\s+20\s+15\s+2\s+\$0\.0150\*$/m);
    assert.match(table.stdout, /\* 1 request\(s\) of models with no known price/);

    const json = await run(t, ['usage', '--url', gateway.url, '--group-by', 'day', '--from', '2026-01-10', '--to', '2026-01-12', '--json'], { SWITCHYARD_KEY: 'sk-cli' });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).data.map((row: any) => row.group), ['2026-01-10', '2026-01-11']);

    const unauthorized = await run(t, ['usage', '--url', gateway.url]);
    assert.equal(unauthorized.code, 1);
    assert.match(unauthorized.stderr, /401.*--key/);
    const unreachable = await run(t, ['usage', '--url', 'http://127.0.0.1:9']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach the gateway at http:\/\/127\.0\.0\.1:9/);
  });
});

const day1 = Date.UTC(2026, 0, 10, 10);
const day2 = Date.UTC(2026, 0, 11, 9);
const day3 = Date.UTC(2026, 0, 12, 0, 0, 0, 1);

function sample(time: number, extra: Partial<UsageRow>): UsageRow {
  return {
    time, requestId: `r-${time}`, keyId: 'key-aaaaaaaa', surface: 'openai-chat', modelAsked: 'm1', provider: 'p', model: 'm1', fallback: '',
    status: 200, stream: false, attempts: 1, inputTokens: 100, outputTokens: 10, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.01, durationMs: 5,
    ...extra,
  };
}

const SAMPLE: UsageRow[] = [
  sample(day1, {}),
  sample(day1 + 1, { keyId: 'key-bbbbbbbb', provider: 'q', model: 'm2', modelAsked: 'm2', surface: 'anthropic-messages', status: 500, inputTokens: 7, outputTokens: 0, costUsd: null }),
  sample(day2, { inputTokens: 50, outputTokens: 5, cachedTokens: 20, reasoningTokens: 2, costUsd: 0.005 }),
  sample(day2 + 1, { keyId: '', provider: '', model: '', modelAsked: 'nope', status: 404, attempts: 0, inputTokens: null, outputTokens: null, cachedTokens: null, cacheWriteTokens: null, reasoningTokens: null, costUsd: null }),
  sample(day3, { costUsd: 100 }),
];

function run(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH, ...env } });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => { stdout += data; });
    child.stderr.on('data', (data) => { stderr += data; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('retention: the SQLite store deletes rows older than the window and keeps the rest', async () => {
  const { SqliteUsageStore } = await import('../../src/state/usage-sqlite.ts');
  const { UsageRecorder } = await import('../../src/state/usage-recorder.ts');
  const store = new SqliteUsageStore(join(mkdtempSync(join(tmpdir(), 'switchyard-retention-')), 'usage.db'));
  const day = 86_400_000;
  const now = Date.now();
  const row = (time: number): UsageRow => ({
    time, requestId: `r-${time}`, keyId: '', surface: 'openai-chat', modelAsked: 'm', provider: 'p', model: 'm', fallback: '', status: 200, stream: false,
    attempts: 1, inputTokens: 1, outputTokens: 1, cachedTokens: null, cacheWriteTokens: null, reasoningTokens: null, costUsd: null, durationMs: 1,
  });
  await store.insert([...Array.from({ length: 2500 }, (_, i) => row(now - 40 * day - i)), row(now - day), row(now)]);
  const recorder = new UsageRecorder(store, { warn: () => {} }, { retentionMs: 30 * day });
  await recorder.prune();
  assert.equal(recorder.pruned, 2500);
  const [all] = await store.summarize({ groupBy: 'provider', from: 0, to: now + 1 });
  assert.equal(all!.requests, 2, 'the two recent rows remain');
  await recorder.close();
});
