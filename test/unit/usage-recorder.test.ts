// The usage queue on its own, against stores that are slow, failing or closed: it stays bounded,
// drops with a counter and a rate-limited warning, writes in batches, and drains on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { droppedTotal, UsageRecorder } from '../../src/state/usage-recorder.ts';
import type { UsageQuery, UsageRow, UsageStore, UsageSummary } from '../../src/state/usage-store.ts';
import { parseInstant, parseUsageQuery, totalsOf } from '../../src/admin/usage.ts';
import { formatCost, renderUsageTable } from '../../src/cli/usage.ts';
import { GatewayError } from '../../src/canonical/errors.ts';

function row(index: number, extra: Partial<UsageRow> = {}): UsageRow {
  return {
    time: 1_700_000_000_000 + index, requestId: `r${index}`, keyId: '', surface: 'openai-chat', modelAsked: 'm', provider: 'p', model: 'm', fallback: '',
    status: 200, stream: false, attempts: 1, inputTokens: 10, outputTokens: 5, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd: null, durationMs: 1,
    ...extra,
  };
}

class FakeStore implements UsageStore {
  readonly kind = 'fake';
  readonly location = 'memory';
  batches: UsageRow[][] = [];
  closed = false;
  /** What the next insert does. */
  behavior: 'ok' | 'fail' | 'hang' = 'ok';
  ready(): Promise<void> {
    return Promise.resolve();
  }
  insert(rows: readonly UsageRow[]): Promise<void> {
    if (this.behavior === 'fail') return Promise.reject(new Error('disk on fire'));
    if (this.behavior === 'hang') return new Promise(() => {});
    this.batches.push([...rows]);
    return Promise.resolve();
  }
  summarize(_query: UsageQuery): Promise<UsageSummary[]> {
    return Promise.resolve([]);
  }
  /** Rows "in the store" by time, for retention. */
  times: number[] = [];
  pruneCalls: { before: number; limit: number }[] = [];
  prune(before: number, limit: number): Promise<number> {
    this.pruneCalls.push({ before, limit });
    const old = this.times.filter((time) => time < before).slice(0, limit);
    this.times = this.times.filter((time) => !old.includes(time));
    return Promise.resolve(old.length);
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

function logCollector() {
  const lines: { fields: Record<string, unknown>; message: string }[] = [];
  return { lines, log: { warn: (fields: Record<string, unknown>, message: string) => lines.push({ fields, message }) } };
}

test('rows are written in batches of at most batchSize, and a full batch is written at once', async () => {
  const store = new FakeStore();
  const recorder = new UsageRecorder(store, logCollector().log, { batchSize: 3, flushIntervalMs: 60_000 });
  for (let i = 0; i < 7; i++) recorder.record(row(i));
  await recorder.flush();
  assert.deepEqual(store.batches.map((batch) => batch.length), [3, 3, 1]);
  assert.deepEqual(store.batches.flat().map((entry) => entry.requestId), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
  assert.equal(recorder.written, 7);
  await recorder.close();
  assert.ok(store.closed);
});

test('the timer writes what is queued', async () => {
  const store = new FakeStore();
  const recorder = new UsageRecorder(store, logCollector().log, { flushIntervalMs: 20 });
  recorder.record(row(1));
  for (let i = 0; i < 50 && store.batches.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(store.batches.length, 1);
  await recorder.close();
});

test('a failing store: rows are dropped and counted, one warning per interval, record() never throws', async () => {
  const store = new FakeStore();
  store.behavior = 'fail';
  const { lines, log } = logCollector();
  const before = droppedTotal;
  const recorder = new UsageRecorder(store, log, { batchSize: 2, flushIntervalMs: 60_000, warnIntervalMs: 60_000 });
  for (let i = 0; i < 5; i++) recorder.record(row(i));
  await recorder.flush();
  assert.equal(recorder.dropped, 5);
  assert.equal(droppedTotal - before, 5, 'the process-wide counter moves too');
  assert.equal(lines.length, 1, 'rate-limited');
  assert.match(lines[0]!.message, /usage rows dropped/);
  assert.equal(lines[0]!.fields.reason, 'disk on fire');
  assert.equal(recorder.queued, 0);
  store.behavior = 'ok';
  recorder.record(row(9));
  await recorder.flush();
  assert.equal(store.batches.flat().length, 1, 'the store is used again once it works');
  await recorder.close();
  assert.equal(lines.length, 2, 'close reports the drops not yet reported');
  assert.deepEqual(lines.map((line) => line.fields.dropped), [2, 3], 'the first batch at once, the other two at close');
});

test('a store that hangs: the queue stops at maxQueued and the rest is dropped; close gives up after its timeout', { timeout: 5000 }, async () => {
  const store = new FakeStore();
  store.behavior = 'hang';
  const recorder = new UsageRecorder(store, logCollector().log, { batchSize: 10, maxQueued: 100, flushIntervalMs: 60_000 });
  for (let i = 0; i < 1000; i++) recorder.record(row(i));
  // the first full batch went to the hung store; the queue holds at most maxQueued behind it
  assert.ok(recorder.queued <= 100, `queued ${recorder.queued}`);
  assert.equal(recorder.dropped, 1000 - 10 - recorder.queued);
  await recorder.close(100); // resolves although the store never answers (the test's timeout catches a hang)
  assert.equal(recorder.queued, 0);
  assert.equal(recorder.dropped, 1000 - 10, 'everything not handed to the store is counted as dropped');
  recorder.record(row(1));
  assert.equal(recorder.dropped, 991, 'after close, rows are dropped');
});

test('from/to: epoch ms, ISO dates, today/yesterday, durations ago', () => {
  const now = Date.UTC(2026, 10, 26, 15, 30);
  assert.equal(parseInstant('1700000000000', now), 1_700_000_000_000);
  assert.equal(parseInstant('2026-11-25', now), Date.UTC(2026, 10, 25));
  assert.equal(parseInstant('2026-11-25T08:00:00Z', now), Date.UTC(2026, 10, 25, 8));
  assert.equal(parseInstant('today', now), Date.UTC(2026, 10, 26));
  assert.equal(parseInstant('Yesterday', now), Date.UTC(2026, 10, 25));
  assert.equal(parseInstant('now', now), now);
  assert.equal(parseInstant('24h', now), now - 86_400_000);
  assert.equal(parseInstant('7d', now), now - 7 * 86_400_000);
  assert.equal(parseInstant('30m', now), now - 30 * 60_000);
  assert.equal(parseInstant('last tuesday', now), undefined);
  assert.deepEqual(parseUsageQuery('', now), { groupBy: 'model', from: now - 86_400_000, to: now });
  assert.deepEqual(parseUsageQuery('group_by=day&from=yesterday&to=today', now), { groupBy: 'day', from: Date.UTC(2026, 10, 25), to: Date.UTC(2026, 10, 26) });
  const refused = (query: string, param: string) => assert.throws(() => parseUsageQuery(query, now), (error: unknown) => error instanceof GatewayError && error.status === 400 && error.param === param, query);
  refused('group_by=colour', 'group_by');
  refused('from=soon', 'from');
  refused('from=today&to=yesterday', 'to');
});

const summary = (group: string | null, requests: number, cost: number | null, unpriced = 0): UsageSummary => ({
  group, requests, errors: 1, input_tokens: 1234567, output_tokens: 2000, cached_tokens: 1000, cache_write_tokens: 0, reasoning_tokens: 300, cost_usd: cost, unpriced_requests: unpriced,
  subscription_requests: 0, reported_cost_usd: null, cached_requests: 0,
});

test('totals add the groups up; cost stays null only when no group had one', () => {
  const totals = totalsOf([summary('a', 2, 0.5), summary('b', 1, null, 1)]);
  assert.equal(totals.requests, 3);
  assert.equal(totals.cost_usd, 0.5);
  assert.equal(totals.unpriced_requests, 1);
  assert.equal(totalsOf([summary('b', 1, null)]).cost_usd, null);
});

test('the terminal table is aligned, names what has no price, and says when nothing was recorded', () => {
  const data = [summary('claude-sonnet-4-5', 12, 1.2345), summary('llama3.2', 3, null, 3)];
  const text = renderUsageTable({ group_by: 'model', from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z', data, totals: totalsOf(data) });
  const lines = text.split('\n');
  assert.equal(lines[0], 'Usage by model, 2026-11-25 00:00 to 2026-11-26 00:00 UTC');
  assert.match(lines[2]!, /^MODEL\s+REQUESTS\s+ERRORS\s+INPUT\s+CACHED\s+OUTPUT\s+REASONING\s+COST$/);
  assert.match(lines[3]!, /^claude-sonnet-4-5\s+12\s+1\s+1,234,567\s+1,000\s+2,000\s+300\s+\$1\.23$/);
  assert.match(lines[4]!, /^llama3\.2\s+3\s+1\s+1,234,567\s+1,000\s+2,000\s+300\s+—\*$/);
  assert.match(lines[6]!, /^TOTAL\s+15\s+2\s+2,469,134/);
  const columnEnds = (line: string) => [...line.matchAll(/\S+(?=\s{2}|$)/g)].map((match) => match.index! + match[0].length);
  assert.deepEqual(columnEnds(lines[3]!).slice(1), columnEnds(lines[2]!).slice(1), 'numbers are right-aligned under their headers');
  assert.match(text, /\* 3 request\(s\) of models with no known price/);
  const empty = renderUsageTable({ group_by: 'key', from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z', data: [], totals: totalsOf([]) });
  assert.match(empty, /No requests recorded in this range\./);
  assert.equal(formatCost(0.000042), '$0.000042');
  assert.equal(formatCost(0.0123), '$0.0123');
  assert.equal(formatCost(12.345), '$12.35');
  assert.equal(formatCost(0), '$0');
});

test('retention deletes rows older than the window, in chunks, and leaves newer ones', async () => {
  const store = new FakeStore();
  const now = Date.now();
  const day = 86_400_000;
  store.times = [...Array.from({ length: 4500 }, (_, i) => now - 40 * day - i), now - day, now];
  const recorder = new UsageRecorder(store, logCollector().log, { retentionMs: 30 * day, pruneIntervalMs: 3_600_000 });
  await recorder.prune();
  assert.equal(recorder.pruned, 4500);
  assert.deepEqual(store.times, [now - day, now]);
  assert.ok(store.pruneCalls.length >= 3, 'several bounded chunks, not one unbounded delete');
  assert.ok(store.pruneCalls.every((call) => call.limit <= 2000));
  await recorder.close();
});

test('without retention, nothing is ever deleted', async () => {
  const store = new FakeStore();
  store.times = [0, 1, 2];
  const recorder = new UsageRecorder(store, logCollector().log);
  await recorder.prune();
  assert.equal(store.pruneCalls.length, 0);
  await recorder.close();
});
