// Subscription usage in the usage store: the two columns added for agent CLIs (`subscription`,
// `reported_cost_usd`), summed per group; a SQLite database made by an earlier version gets them
// when it is opened, its old rows reading as not subscription, no reported cost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteUsageStore } from '../../src/state/usage-sqlite.ts';
import type { UsageRow } from '../../src/state/usage-store.ts';
import { renderUsageTable } from '../../src/cli/usage.ts';
import { totalsOf } from '../../src/admin/usage.ts';

const row = (extra: Partial<UsageRow>): UsageRow => ({
  time: Date.UTC(2026, 0, 1), requestId: 'r', keyId: '', surface: 'openai-chat', modelAsked: 'm', provider: 'api', model: 'm', fallback: '',
  status: 200, stream: false, attempts: 1, inputTokens: 10, outputTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.01, durationMs: 3,
  ...extra,
});

/** The table as the first release made it: no subscription columns. */
const OLD_SCHEMA = `CREATE TABLE usage (
  time INTEGER NOT NULL, request_id TEXT NOT NULL, key_id TEXT NOT NULL, surface TEXT NOT NULL, model_asked TEXT NOT NULL,
  provider TEXT NOT NULL, model TEXT NOT NULL, fallback TEXT NOT NULL, status INTEGER NOT NULL, stream INTEGER NOT NULL,
  attempts INTEGER NOT NULL, input_tokens INTEGER, output_tokens INTEGER, cached_tokens INTEGER, cache_write_tokens INTEGER,
  reasoning_tokens INTEGER, cost_usd REAL, duration_ms REAL NOT NULL
);
INSERT INTO usage VALUES (${Date.UTC(2026, 0, 1)}, 'old', '', 'openai-chat', 'm', 'api', 'm', '', 200, 0, 1, 10, 5, 0, 0, 0, 0.02, 1);`;

test('subscription rows are summed apart, with the CLI\'s reported cost; an old database is migrated on open', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'swy-usage-sub-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const file = join(directory, 'usage.db');
  const old = new DatabaseSync(file);
  old.exec(OLD_SCHEMA);
  old.close();
  const store = new SqliteUsageStore(file);
  await store.ready();
  await store.insert([
    row({ requestId: 'a', provider: 'claude', costUsd: 0, subscription: true, reportedCostUsd: 0.25 }),
    row({ requestId: 'b', provider: 'claude', costUsd: 0, subscription: true, reportedCostUsd: null }),
    row({ requestId: 'c', provider: 'api' }),
  ]);
  const summary = await store.summarize({ groupBy: 'provider', from: 0, to: Date.UTC(2027, 0, 1) });
  await store.close();
  const byProvider = Object.fromEntries(summary.map((group) => [group.group, group]));
  assert.equal(byProvider.claude!.subscription_requests, 2);
  assert.equal(byProvider.claude!.reported_cost_usd, 0.25);
  assert.equal(byProvider.claude!.cost_usd, 0);
  assert.equal(byProvider.api!.requests, 2, 'the old row is still there');
  assert.equal(byProvider.api!.subscription_requests, 0);
  assert.equal(byProvider.api!.reported_cost_usd, null);
  // a second open (another worker, a restart) finds the columns there
  const again = new SqliteUsageStore(file);
  await again.ready();
  await again.close();
  const totals = totalsOf(summary);
  assert.equal(totals.subscription_requests, 2);
  assert.equal(totals.reported_cost_usd, 0.25);
  const table = renderUsageTable({ group_by: 'provider', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', data: summary, totals });
  assert.match(table, /2 request\(s\) were answered from a subscription \(agent CLIs\): their tokens cost \$0 here; the CLIs reported \$0\.2500 at API prices\./);
});
