// The SQLite usage store: a batch is written by multi-row INSERTs (64 rows, then halves of the
// rest) with every column in its place, all or nothing. A summary read in slices (one slice's GROUP BY per macrotask, so a big range never
// holds the event loop) answers what the single statement answers: the same groups, sums, NULLs and
// order, across day boundaries, many rows in one millisecond and empty ranges; it reads one
// snapshot while batches go on being written, and lets the event loop run between slices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { DatabaseSync } from 'node:sqlite';
import { SqliteUsageDatabase } from '../../src/state/usage-sqlite.ts';
import { COLUMNS, USAGE_GROUPS, valuesOf, type UsageRow, type UsageSummary } from '../../src/state/usage-store.ts';
import { compareSqlValues } from '../../src/state/usage-summary-merge.ts';

/** One millisecond before a UTC midnight: rows on three days. */
const BASE = Date.UTC(2026, 2, 5, 23, 59, 59, 999);
const DAY = 86_400_000;
/** Group names that sort differently in UTF-16 and in UTF-8 (U+E000 against an astral character), and ''. */
const NAMES = ['', 'a', 'B', 'é', '\uE000', '\u{1F600}', 'gpt-5'];

function openDatabase(t: { after: (fn: () => void) => void }): SqliteUsageDatabase {
  const directory = mkdtempSync(join(tmpdir(), 'swy-usage-sqlite-'));
  const file = join(directory, 'usage.db');
  const database = new SqliteUsageDatabase(file);
  t.after(() => {
    database.close();
    rmSync(directory, { recursive: true, force: true });
  });
  return database;
}

const row = (overrides: Partial<UsageRow>): UsageRow => ({
  time: BASE, requestId: 'r', keyId: '', surface: 'openai-chat', modelAsked: 'm', provider: 'p', model: 'm', fallback: '', status: 200,
  stream: false, attempts: 1, inputTokens: 1, outputTokens: 1, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: 0.5, durationMs: 1,
  ...overrides,
});

const name = fc.constantFrom(...NAMES);
const tokens = fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null });
/** Rows around midnight, several in the same millisecond; costs that a double sums exactly (multiples of 2^-10). */
const rowArbitrary = (cost: fc.Arbitrary<number>) => fc.record({
  time: fc.tuple(fc.constantFrom(-DAY, 0, DAY), fc.integer({ min: -6, max: 6 })).map(([day, ms]) => BASE + day + ms),
  keyId: name, surface: name, modelAsked: name, provider: name, model: name, team: name,
  status: fc.constantFrom(200, 429, 500), inputTokens: tokens, outputTokens: tokens, cachedTokens: tokens, cacheWriteTokens: tokens, reasoningTokens: tokens,
  costUsd: fc.option(cost, { nil: null }), reportedCostUsd: fc.option(cost, { nil: null }),
  subscription: fc.boolean(), cached: fc.boolean(),
}).map((fields) => row(fields));
// a few coarse values too, so that groups tie on cost and requests and their names decide the order
const dyadicCost = fc.oneof(fc.integer({ min: 0, max: 1 << 20 }).map((units) => units / 1024), fc.constantFrom(0, 0.25, 1));
const query = fc.record({
  groupBy: fc.constantFrom(...USAGE_GROUPS),
  from: fc.oneof(fc.constant(0), fc.integer({ min: -DAY - 8, max: DAY + 8 }).map((offset) => BASE + offset)),
  length: fc.oneof(fc.constant(Number.MAX_SAFE_INTEGER), fc.integer({ min: -3, max: DAY + 20 })),
}).map(({ groupBy, from, length }) => ({ groupBy, from, to: length === Number.MAX_SAFE_INTEGER ? length : from + length }));

function clear(database: SqliteUsageDatabase): void {
  database.prune(Number.MAX_SAFE_INTEGER, 1_000_000);
}

test('a batch of any size is written with every column in its place, in one transaction', (t) => {
  const database = openDatabase(t);
  const reader = new DatabaseSync(database.file, { readOnly: true });
  t.after(() => reader.close());
  /** A row whose every column holds a value of its own. */
  const distinct = (i: number): UsageRow => ({
    time: BASE + i, requestId: `request-${i}`, keyId: `key-${i}`, surface: `surface-${i}`, modelAsked: `asked-${i}`, provider: `provider-${i}`, model: `model-${i}`,
    fallback: `fallback-${i}`, status: 200 + i, stream: i % 2 === 0, attempts: 1 + i, inputTokens: i % 3 === 0 ? null : 10 + i, outputTokens: 20 + i,
    cachedTokens: 30 + i, cacheWriteTokens: 40 + i, reasoningTokens: 50 + i, costUsd: i % 4 === 0 ? null : i / 8, durationMs: 1.25 + i,
    subscription: i % 3 === 1, reportedCostUsd: i % 5 === 0 ? i / 16 : null, cached: i % 2 === 1, team: `team-${i}`, route: `{"n":${i}}`,
    ...(i % 7 === 0 ? { subscription: undefined, reportedCostUsd: undefined, cached: undefined, team: undefined, route: undefined } : {}),
  });
  const stored = (row: UsageRow) => valuesOf(row).map((value) => (typeof value === 'boolean' ? Number(value) : value));
  const select = reader.prepare(`SELECT ${COLUMNS.join(', ')} FROM usage ORDER BY rowid`);
  select.setReturnArrays(true);
  for (const size of [1, 2, 3, 63, 64, 65, 130, 200]) {
    clear(database);
    const rows = Array.from({ length: size }, (_, i) => distinct(i));
    database.insert(rows);
    assert.deepEqual(select.all(), rows.map(stored), `a batch of ${size}`);
  }
  clear(database);
  const broken = Array.from({ length: 100 }, (_, i) => distinct(i));
  (broken[70] as { keyId: unknown }).keyId = null;
  assert.throws(() => database.insert(broken), /NOT NULL/);
  assert.deepEqual(select.all(), [], 'none of the failed batch is kept');
  database.insert([distinct(1)]);
  assert.equal(select.all().length, 1, 'the next batch is written');
});

test('slices merge to the single statement\'s answer exactly: groups, sums, NULLs, order, days, empty ranges', async (t) => {
  const database = openDatabase(t);
  await fc.assert(fc.asyncProperty(fc.array(rowArbitrary(dyadicCost), { maxLength: 40 }), query, fc.integer({ min: 1, max: 8 }), async (rows, usageQuery, rowsPerSlice) => {
    clear(database);
    if (rows.length > 0) database.insert(rows);
    assert.deepEqual(await database.summarizeInSlices(usageQuery, rowsPerSlice), database.summarize(usageQuery));
  }), { numRuns: 300 });
});

test('groups tied on cost and requests come in SQLite\'s order of their names (UTF-8 bytes, not UTF-16 units)', async (t) => {
  const database = openDatabase(t);
  database.insert(NAMES.flatMap((provider, i) => [row({ provider, time: BASE + i }), row({ provider, time: BASE + 100 + i })]));
  const usageQuery = { groupBy: 'provider', from: 0, to: Number.MAX_SAFE_INTEGER } as const;
  const single = database.summarize(usageQuery);
  assert.deepEqual(single.map((summary) => summary.group), [null, 'B', 'a', 'gpt-5', 'é', '\uE000', '\u{1F600}']);
  assert.deepEqual(await database.summarizeInSlices(usageQuery, 3), single);
});

test('with any costs, counts and token sums are exact and the cost sums within an ulp or two of the single statement\'s', async (t) => {
  const database = openDatabase(t);
  const anyCost = fc.double({ min: 0, max: 1e6, noNaN: true });
  const byGroup = (summaries: UsageSummary[]) => [...summaries].sort((a, b) => compareSqlValues(a.group, b.group));
  await fc.assert(fc.asyncProperty(fc.array(rowArbitrary(anyCost), { minLength: 1, maxLength: 40 }), query, fc.integer({ min: 1, max: 8 }), async (rows, usageQuery, rowsPerSlice) => {
    clear(database);
    database.insert(rows);
    const sliced = byGroup(await database.summarizeInSlices(usageQuery, rowsPerSlice));
    const single = byGroup(database.summarize(usageQuery));
    assert.equal(sliced.length, single.length);
    sliced.forEach((summary, i) => {
      const expected = single[i]!;
      for (const field of ['cost_usd', 'reported_cost_usd'] as const) {
        const [got, want] = [summary[field], expected[field]];
        if (got === null || want === null) assert.equal(got, want, `${field}: NULL in both`);
        else assert.ok(Math.abs(got - want) <= 4 * Number.EPSILON * Math.abs(want), `${field}: ${got} ≈ ${want}`);
      }
      assert.deepEqual({ ...summary, cost_usd: 0, reported_cost_usd: 0 }, { ...expected, cost_usd: 0, reported_cost_usd: 0 });
    });
  }), { numRuns: 200 });
});

test('an empty database and an empty range answer no groups', async (t) => {
  const database = openDatabase(t);
  assert.deepEqual(await database.summarizeInSlices({ groupBy: 'day', from: 0, to: Number.MAX_SAFE_INTEGER }), []);
  database.insert([row({})]);
  assert.deepEqual(await database.summarizeInSlices({ groupBy: 'model', from: BASE, to: BASE }), []);
  assert.deepEqual(await database.summarizeInSlices({ groupBy: 'model', from: BASE + 1, to: BASE }), []);
  assert.equal((await database.summarizeInSlices({ groupBy: 'model', from: BASE, to: BASE + 1 }))[0]!.requests, 1);
});

test('the slices read one snapshot: rows written between them count in the next summary, not this one', async (t) => {
  const database = openDatabase(t);
  database.insert(Array.from({ length: 200 }, (_, i) => row({ time: BASE - 100 + i, requestId: `r${i}`, model: i % 2 === 0 ? 'even' : 'odd' })));
  const usageQuery = { groupBy: 'model', from: 0, to: Number.MAX_SAFE_INTEGER } as const;
  const before = database.summarize(usageQuery);
  let writes = 0;
  const writer = setInterval(() => {
    database.insert([row({ time: BASE - 100 + writes, requestId: `late${writes}`, model: 'late' }), row({ time: BASE + 500, requestId: `later${writes}`, model: 'even' })]);
    writes++;
  }, 0);
  const sliced = await database.summarizeInSlices(usageQuery, 5);
  clearInterval(writer);
  assert.ok(writes > 0, 'batches were written while the summary was read');
  assert.deepEqual(sliced, before);
  const after = await database.summarizeInSlices(usageQuery, 5);
  assert.equal(after.find((summary) => summary.group === 'late')?.requests, writes);
  assert.deepEqual(after, database.summarize(usageQuery));
});

test('the event loop runs between slices, and summaries asked together are read one after the other', async (t) => {
  const database = openDatabase(t);
  database.insert(Array.from({ length: 1000 }, (_, i) => row({ time: BASE + i, requestId: `r${i}` })));
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  const both = await Promise.all([
    database.summarizeInSlices({ groupBy: 'day', from: 0, to: Number.MAX_SAFE_INTEGER }, 10),
    database.summarizeInSlices({ groupBy: 'provider', from: 0, to: Number.MAX_SAFE_INTEGER }, 10),
  ]);
  running = false;
  assert.ok(turns >= 100, `other work ran between the ~200 slices (${turns} turns)`);
  assert.deepEqual(both, [database.summarize({ groupBy: 'day', from: 0, to: Number.MAX_SAFE_INTEGER }), database.summarize({ groupBy: 'provider', from: 0, to: Number.MAX_SAFE_INTEGER })]);
});

test('closing the database while a summary is read rejects it', async (t) => {
  const database = openDatabase(t);
  database.insert(Array.from({ length: 100 }, (_, i) => row({ time: BASE + i })));
  const pending = database.summarizeInSlices({ groupBy: 'model', from: 0, to: Number.MAX_SAFE_INTEGER }, 2);
  setImmediate(() => database.close());
  await assert.rejects(pending);
});
