// The PostgreSQL usage store against a real server (.ci/run installs and starts one and sets
// SWITCHYARD_TEST_POSTGRES_URL). Without the variable the tests are skipped, saying so; with it, a
// server that cannot be reached fails them. Rows are written in time windows of their own, so runs
// never see each other's rows and nothing is ever deleted.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresUsageStore } from '../../src/state/usage-postgres.ts';
import { SqliteUsageStore } from '../../src/state/usage-sqlite.ts';
import { safeDatabaseUrl, USAGE_GROUPS, type UsageRow } from '../../src/state/usage-store.ts';
import { startTestGateway } from '../helpers/gateway.ts';
import { chat, openaiProvider, startGatewayFor, startMocks } from '../helpers/resilience.ts';

const url = process.env.SWITCHYARD_TEST_POSTGRES_URL;
const skip = url === undefined || url === ''
  ? 'SWITCHYARD_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it; e.g. postgres://switchyard:switchyard@127.0.0.1:5432/switchyard_test)'
  : false;
const T = { timeout: 30_000, skip };

async function reachable(store: PostgresUsageStore): Promise<void> {
  await store.ready().catch((error: unknown) => {
    assert.fail(`PostgreSQL at ${safeDatabaseUrl(url!)} cannot be reached: ${(error as Error).message}`);
  });
}

/** A random whole day between 1971 and 2000: this run's own window. */
function window(): number {
  return Date.UTC(1971, 0, 1) + Math.floor(Math.random() * 10_000) * 86_400_000;
}

function rows(start: number): UsageRow[] {
  const base: UsageRow = {
    time: start, requestId: 'r', keyId: 'key-aaaaaaaa', surface: 'openai-chat', modelAsked: 'm1', provider: 'p', model: 'm1', fallback: '',
    status: 200, stream: false, attempts: 1, inputTokens: 100, outputTokens: 10, cachedTokens: 5, cacheWriteTokens: 1, reasoningTokens: 3, costUsd: 0.01, durationMs: 5.5,
  };
  return [
    base,
    { ...base, time: start + 3_600_000, requestId: 'r2', stream: true, costUsd: 0.02 },
    { ...base, time: start + 7_200_000, requestId: 'r3', keyId: 'key-bbbbbbbb', provider: 'q', model: 'm2', modelAsked: 'alias', fallback: 'cheap', status: 502, costUsd: null, attempts: 3 },
    { ...base, time: start + 86_400_000 + 1, requestId: 'r4', surface: 'anthropic-messages', costUsd: 0.5 },
    { ...base, time: start + 86_400_000 + 2, requestId: 'r5', keyId: '', provider: '', model: '', modelAsked: 'nope', status: 404, inputTokens: null, outputTokens: null, cachedTokens: null, cacheWriteTokens: null, reasoningTokens: null, costUsd: null },
  ];
}

describe('PostgreSQL usage store', () => {
  test('retention deletes rows older than the cut-off, a bounded chunk per statement', T, async (t) => {
    const store = new PostgresUsageStore(url!);
    t.after(() => store.close());
    await reachable(store);
    // 1965: before every other test's window, so only this test's rows are in reach
    const start = Date.UTC(1965, 5, 1) + Math.floor(Math.random() * 1000) * 60_000;
    await store.insert(rows(start).slice(0, 3));
    const cutoff = Date.UTC(1966, 0, 1);
    assert.equal(await store.prune(cutoff, 2), 2, 'at most `limit` rows per statement');
    assert.ok(await store.prune(cutoff, 1000) >= 1);
    const left = await store.summarize({ groupBy: 'model', from: start, to: start + 86_400_000 });
    assert.equal(left.length, 0);
  });

  test('round trip: a batch in one multi-row INSERT, every group_by summed as SQLite sums it', T, async (t) => {
    const store = new PostgresUsageStore(url!);
    t.after(() => store.close());
    await reachable(store);
    const sqlite = new SqliteUsageStore(join(mkdtempSync(join(tmpdir(), 'switchyard-pg-')), 'usage.db'));
    t.after(() => sqlite.close());
    const start = window();
    const sample = rows(start);
    await store.insert(sample);
    await sqlite.insert(sample);
    const query = { from: start, to: start + 2 * 86_400_000 };
    for (const groupBy of USAGE_GROUPS) {
      const fromPostgres = await store.summarize({ groupBy, ...query });
      assert.deepEqual(fromPostgres, await sqlite.summarize({ groupBy, ...query }), `group_by=${groupBy}: both backends agree`);
    }
    const days = await store.summarize({ groupBy: 'day', ...query });
    const day = (offset: number) => new Date(start + offset * 86_400_000).toISOString().slice(0, 10);
    assert.deepEqual(days.map((row) => [row.group, row.requests, row.errors]), [[day(0), 3, 1], [day(1), 2, 1]]);
    const models = await store.summarize({ groupBy: 'model', ...query });
    assert.deepEqual(models.map((row) => row.group), ['m1', 'm2', 'nope']);
    assert.equal(models[0]!.requests, 3);
    assert.ok(Math.abs(models[0]!.cost_usd! - 0.53) < 1e-12);
    assert.equal(models[0]!.input_tokens, 300);
    assert.equal(models[0]!.cache_write_tokens, 3);
    assert.equal(models[1]!.cost_usd, null);
    assert.equal(models[1]!.unpriced_requests, 1);
    const narrow = await store.summarize({ groupBy: 'key', from: start + 1, to: start + 7_200_000 });
    assert.deepEqual(narrow.map((row) => [row.group, row.requests]), [['key-aaaaaaaa', 1]], 'from inclusive, to exclusive');
    // a large batch still goes in one statement
    const many = Array.from({ length: 500 }, (_, i) => ({ ...sample[0]!, time: start + 3 * 86_400_000 + i, requestId: `bulk-${i}` }));
    await store.insert(many);
    const bulk = await store.summarize({ groupBy: 'provider', from: start + 3 * 86_400_000, to: start + 4 * 86_400_000 });
    assert.deepEqual(bulk.map((row) => [row.group, row.requests]), [['p', 500]]);
  });

  test('a gateway records to PostgreSQL, and the usage is still there after a restart', T, async (t) => {
    const { up } = await startMocks(t, { up: () => ({ kind: 'default' }) });
    const since = Date.now() - 1;
    const options = { providers: [openaiProvider('pg', up)], storage: { url: url! } };
    const first = await startTestGateway(options);
    try {
      await reachable(first.usage!.store as PostgresUsageStore);
      assert.equal((await chat(first, 'gpt-4o-mini')).status, 200);
      assert.equal((await chat(first, 'gpt-4o-mini', { stream: true })).status, 200);
    } finally {
      await first.close();
    }
    const second = await startGatewayFor(t, options);
    const response = await fetch(`${second.url}/v0/usage?group_by=provider&from=${since}`);
    const body = await response.json() as any;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body.store, 'postgres');
    const row = body.data.find((entry: any) => entry.group === 'pg');
    assert.ok(row !== undefined, JSON.stringify(body.data));
    assert.ok(row.requests >= 2);
    assert.ok(row.input_tokens > 0 && row.cost_usd > 0, JSON.stringify(row));
  });
});
