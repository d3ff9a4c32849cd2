// What writing a usage row to SQLite costs the gateway's main thread (issue #17): one batch of 64
// rows (the recorder's batch size) in one transaction, WAL and synchronous = NORMAL as the store
// opens it, rows shaped like the gateway's (a UUID request id, a client key, tokens, a cost, the
// duration). Every case writes to its own database in a temp directory:
// - before: each row made an array (valuesOf) and spread into the statement's arguments;
// - per-row arguments: the same statement, the row's fields passed as arguments;
// - multi-row: one INSERT of 64 rows, its values filled into one array kept between batches;
// - now: SqliteUsageDatabase.insert as the store runs it;
// - without the time index: the multi-row case on a table without `usage_time` (what the index
//   costs; summaries need it, so it stays).
// CPU time (user + system: the WAL's writes count) per row, interleaved rounds, median.
// `nice -n 19 npx node bench/micro/usage-insert.ts [--rounds 15] [--batches 40]`
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuRounds } from '../lib/cpu-rounds.ts';
import { SqliteUsageDatabase } from '../../src/state/usage-sqlite.ts';
import { COLUMNS, valuesOf, type UsageRow } from '../../src/state/usage-store.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, batches: { type: 'string', default: '40' } } });
const rounds = Number(values.rounds);
const batchesPerRound = Number(values.batches);
const BATCH = 64;

const directory = mkdtempSync(join(tmpdir(), 'swy-usage-insert-'));
process.on('exit', () => rmSync(directory, { recursive: true, force: true }));

const MODELS = ['gpt-5-mini', 'claude-sonnet-4-5', 'gemini-2.5-flash', 'bench-model'];
let clock = Date.now();
function gatewayRow(index: number): UsageRow {
  clock += 1;
  const model = MODELS[index % MODELS.length]!;
  const durationMs = Math.round(Math.random() * 200_000) / 100;
  return {
    time: Math.round(clock - durationMs), requestId: randomUUID(), keyId: `key-${(index % 5).toString(16).padStart(8, '0')}`, surface: 'openai-chat',
    modelAsked: model, provider: 'mock', model, fallback: '', status: index % 100 === 0 ? 503 : 200, stream: index % 2 === 0, attempts: 1,
    inputTokens: 12 + (index % 900), outputTokens: 30 + (index % 70), cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0,
    costUsd: (12 + (index % 900)) * 1.5e-7 + (30 + (index % 70)) * 6e-7, durationMs, subscription: false, reportedCostUsd: null, cached: false, team: '', route: '',
  };
}
const batches: UsageRow[][] = Array.from({ length: 256 }, (_, batch) => Array.from({ length: BATCH }, (_, row) => gatewayRow(batch * BATCH + row)));

const TABLE = `CREATE TABLE usage (
  time INTEGER NOT NULL, request_id TEXT NOT NULL, key_id TEXT NOT NULL, surface TEXT NOT NULL, model_asked TEXT NOT NULL,
  provider TEXT NOT NULL, model TEXT NOT NULL, fallback TEXT NOT NULL, status INTEGER NOT NULL, stream INTEGER NOT NULL,
  attempts INTEGER NOT NULL, input_tokens INTEGER, output_tokens INTEGER, cached_tokens INTEGER, cache_write_tokens INTEGER,
  reasoning_tokens INTEGER, cost_usd REAL, duration_ms REAL NOT NULL, subscription INTEGER NOT NULL DEFAULT 0, reported_cost_usd REAL,
  cached INTEGER NOT NULL DEFAULT 0, team TEXT NOT NULL DEFAULT '', route TEXT NOT NULL DEFAULT '')`;
function open(name: string, index: boolean): DatabaseSync {
  const database = new DatabaseSync(join(directory, `${name}.db`));
  database.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  database.exec(TABLE);
  if (index) database.exec('CREATE INDEX usage_time ON usage (time)');
  return database;
}
const tuple = `(${COLUMNS.map(() => '?').join(', ')})`;
const insertSql = (rows: number) => `INSERT INTO usage (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')}`;

/**
 * The next batch, its times moved past the previous round's: the batches are written again and
 * again (each case its own copy), and the time index must grow at its end as it does in the gateway (times rise, a request's
 * duration apart), not take the same times in its middle.
 */
function nextBatch(): () => UsageRow[] {
  const own = structuredClone(batches);
  let next = 0;
  return () => {
    const rows = own[next % own.length]!;
    if (next >= batches.length) for (const row of rows) row.time += SPAN_MS;
    next++;
    return rows;
  };
}
const SPAN_MS = 2 * batches.length * BATCH + 2_000;

/** One batch in one transaction, as the store writes it. */
function transaction(database: DatabaseSync, write: (rows: readonly UsageRow[]) => void): () => void {
  const batch = nextBatch();
  return () => {
    database.exec('BEGIN IMMEDIATE');
    write(batch());
    database.exec('COMMIT');
  };
}

function before(): () => void {
  const database = open('before', true);
  const statement = database.prepare(insertSql(1));
  return transaction(database, (rows) => {
    for (const row of rows) {
      const values = valuesOf(row);
      values[9] = row.stream ? 1 : 0;
      values[18] = row.subscription === true ? 1 : 0;
      values[20] = row.cached === true ? 1 : 0;
      statement.run(...(values as (string | number | null)[]));
    }
  });
}

function perRowArguments(): () => void {
  const database = open('arguments', true);
  const statement = database.prepare(insertSql(1));
  return transaction(database, (rows) => {
    for (const row of rows) {
      statement.run(row.time, row.requestId, row.keyId, row.surface, row.modelAsked, row.provider, row.model, row.fallback, row.status, row.stream ? 1 : 0,
        row.attempts, row.inputTokens, row.outputTokens, row.cachedTokens, row.cacheWriteTokens, row.reasoningTokens, row.costUsd, row.durationMs,
        row.subscription === true ? 1 : 0, row.reportedCostUsd ?? null, row.cached === true ? 1 : 0, row.team ?? '', row.route ?? '');
    }
  });
}

function multiRow(name: string, index: boolean): () => void {
  const database = open(name, index);
  const statement: StatementSync = database.prepare(insertSql(BATCH));
  const values: (string | number | null)[] = new Array<string | number | null>(BATCH * COLUMNS.length).fill(null);
  return transaction(database, (rows) => {
    let at = 0;
    for (const row of rows) {
      values[at++] = row.time; values[at++] = row.requestId; values[at++] = row.keyId; values[at++] = row.surface; values[at++] = row.modelAsked;
      values[at++] = row.provider; values[at++] = row.model; values[at++] = row.fallback; values[at++] = row.status; values[at++] = row.stream ? 1 : 0;
      values[at++] = row.attempts; values[at++] = row.inputTokens; values[at++] = row.outputTokens; values[at++] = row.cachedTokens;
      values[at++] = row.cacheWriteTokens; values[at++] = row.reasoningTokens; values[at++] = row.costUsd; values[at++] = row.durationMs;
      values[at++] = row.subscription === true ? 1 : 0; values[at++] = row.reportedCostUsd ?? null; values[at++] = row.cached === true ? 1 : 0;
      values[at++] = row.team ?? ''; values[at++] = row.route ?? '';
    }
    statement.run(...values);
  });
}

function now(): () => void {
  const database = new SqliteUsageDatabase(join(directory, 'now', 'usage.db'));
  const batch = nextBatch();
  return () => database.insert(batch());
}

const cases: Record<string, () => void> = {
  'before: valuesOf + spread per row': before(),
  'per-row arguments': perRowArguments(),
  'multi-row INSERT of 64': multiRow('multi', true),
  'now: SqliteUsageDatabase.insert': now(),
  'multi-row, without the time index': multiRow('multi-no-index', false),
};

console.log(`load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}; ${rounds} rounds of ${batchesPerRound} batches of ${BATCH} rows per case`);
for (const [name, microseconds] of cpuRounds(cases, rounds, batchesPerRound, 20)) {
  console.log(`${name.padEnd(40)} ${(microseconds / BATCH).toFixed(2).padStart(6)} µs/row  ${microseconds.toFixed(0).padStart(6)} µs/batch`);
}
