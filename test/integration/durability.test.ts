// `kill -9` under load, then a restart on the same database: the database is intact and the usage
// rows lost are at most what the recorder guarantees (docs/observability.md, "What a crash
// loses"): the rows queued since the last write — one batch, DEFAULT_RECORDER.batchSize — plus
// any request whose answer was on its way out at the instant of the kill (its row is queued when
// the response closes, a few ticks after the last byte was handed to the socket).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { USAGE_DATABASE_FILE } from '../../src/state/usage-store.ts';
import { DEFAULT_RECORDER } from '../../src/state/usage-recorder.ts';
import { CliProcess, eventually } from '../helpers/cli-process.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

const CONCURRENCY = 16;
/** Answers completed before the kill: enough for several batches to have been written. */
const KILL_AFTER = 400;

interface Load {
  started: number;
  completed: number;
  /** Requests sent whose answer had not completed (nor failed) when the kill was sent. */
  inFlightAtKill: number;
}

test('kill -9 under load, restart on the same database: intact, at most one batch of usage rows lost', { timeout: 120_000 }, async (t) => {
  const mock = await startMockUpstream({ streamDeltas: ['one', ' two', ' three'] });
  t.after(() => mock.close());
  const dir = mkdtempSync(join(tmpdir(), 'swy-durability-'));
  const stateDir = join(dir, 'state');
  const path = join(dir, 'switchyard.yaml');
  writeFileSync(path, `providers:\n  - name: mock\n    type: openai\n    base_url: ${mock.url}/v1\n    models: [mock-gpt]\n`);
  const processes: CliProcess[] = [];
  const start = () => {
    const gateway = new CliProcess(['--config', path, '--port', '0', '--log-level', 'warn'], { cwd: dir, env: { SWITCHYARD_STATE_DIR: stateDir } });
    processes.push(gateway);
    return gateway;
  };
  const dispatcher = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 1000 });
  t.after(async () => {
    for (const gateway of processes) {
      if (gateway.child.exitCode === null && gateway.child.signalCode === null) gateway.child.kill('SIGKILL');
      await gateway.exited;
    }
    await dispatcher.destroy().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  const first = start();
  const [, base] = await first.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);

  // Every fourth request streams; an answer counts once its last byte is read and it is whole.
  const load: Load = { started: 0, completed: 0, inFlightAtKill: 0 };
  let finished = 0;
  let killed = false;
  const one = async (index: number): Promise<void> => {
    const stream = index % 4 === 0;
    load.started++;
    try {
      const response = await request(`${base}/v1/chat/completions`, {
        method: 'POST', dispatcher,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', stream, messages: [{ role: 'user', content: `request ${index}` }] }),
      });
      const text = await response.body.text();
      const whole = response.statusCode === 200 && (stream ? text.includes('data: [DONE]') : JSON.parse(text).choices[0].message.content !== undefined);
      if (whole) load.completed++;
    } catch {
      // cut by the kill
    } finally {
      finished++;
    }
  };
  let next = 0;
  const clients = Array.from({ length: CONCURRENCY }, async () => {
    while (!killed) await one(next++);
  });
  await eventually(() => load.completed >= KILL_AFTER, 60_000);
  killed = true;
  load.inFlightAtKill = load.started - finished;
  first.child.kill('SIGKILL');
  await first.exited;
  await Promise.all(clients);

  // Restart on the same state directory: the gateway opens (and recovers) the database and serves.
  const second = start();
  const [, restarted] = await second.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const database = new DatabaseSync(join(stateDir, USAGE_DATABASE_FILE), { readOnly: true });
  try {
    assert.deepEqual(database.prepare('PRAGMA integrity_check').all().map((row) => ({ ...row })), [{ integrity_check: 'ok' }]);
    const rows = Number((database.prepare('SELECT count(*) AS n FROM usage').get() as { n: number }).n);
    const lost = Math.max(0, load.completed - rows);
    t.diagnostic(`completed ${load.completed}, in flight at the kill ${load.inFlightAtKill}, rows ${rows}, lost ${lost} (bound ${DEFAULT_RECORDER.batchSize} + ${load.inFlightAtKill})`);
    assert.ok(rows <= load.started, 'no row for a request never sent');
    assert.ok(lost <= DEFAULT_RECORDER.batchSize + load.inFlightAtKill, `lost ${lost} rows: more than one batch (${DEFAULT_RECORDER.batchSize}) plus the ${load.inFlightAtKill} requests in flight`);

    // The restarted gateway records into the same file; a drain writes its queue.
    for (let i = 0; i < 5; i++) {
      const response = await request(`${restarted}/v1/chat/completions`, {
        method: 'POST', dispatcher, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'after' }] }),
      });
      assert.equal(response.statusCode, 200);
      await response.body.text();
    }
    await dispatcher.close();
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
    assert.equal(Number((database.prepare('SELECT count(*) AS n FROM usage').get() as { n: number }).n), rows + 5);
    assert.deepEqual(database.prepare('PRAGMA integrity_check').all().map((row) => ({ ...row })), [{ integrity_check: 'ok' }]);
  } finally {
    database.close();
  }
});
