// A rolling restart under load (issue #20): three real `switchyard` processes, started as the CLI
// from one config file, share a real Redis server (`state.redis`; SWITCHYARD_TEST_REDIS_URL,
// skipped without it) and record usage to PostgreSQL (`storage.url`, SWITCHYARD_TEST_POSTGRES_URL;
// without it each instance records to its own SQLite file). 200 clients stream through the
// round-robin front (test/helpers/round-robin-front.ts, nginx's behaviour), each stream 64 events
// 20 ms apart, started over 2 s and each followed by the next until the restart is over. Meanwhile
// each instance in turn gets SIGTERM while streams run through it, drains, exits, is started again
// on its port and answers /readyz, and the front sends it streams again before the next goes.
// Every stream ends with its terminal event and no error event, nothing answers 5xx, each stopped
// process exits 0 having finished its streams (not at the drain timeout), and the usage rows are
// exactly the requests made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { CliProcess } from '../helpers/cli-process.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { freePort } from '../helpers/ports.ts';
import { redisSkip, redisUrl, testPrefix } from '../helpers/redis.ts';
import { startRoundRobinFront, type RoundRobinFront } from '../helpers/round-robin-front.ts';
import { parseSse } from '../helpers/sse.ts';

const CLIENTS = 200;
const RAMP_MS = 2000;
const DELTAS = Array.from({ length: 64 }, (_, i) => ` w${i}`);
const EXPECTED = DELTAS.join('');
const INTERVAL_MS = 20;
/** Short, so a stuck drain fails the test in seconds; long enough for a 1.3 s stream on a busy machine. */
const DRAIN_TIMEOUT_MS = 20_000;
const postgresUrl = process.env.SWITCHYARD_TEST_POSTGRES_URL || undefined;

interface Outcome {
  status: number;
  instance: string | null;
  problem?: string;
}

/** One `switchyard` process of the fleet, restarted in place (same port, same state directory). */
class Instance {
  readonly index: number;
  readonly port: number;
  readonly stateDir: string;
  private readonly configFile: string;
  private readonly cwd: string;
  process: CliProcess | undefined = undefined;

  constructor(index: number, port: number, dir: string, configFile: string) {
    this.index = index;
    this.port = port;
    this.stateDir = join(dir, `state-${index}`);
    this.configFile = configFile;
    this.cwd = dir;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = new CliProcess(['--config', this.configFile, '--port', String(this.port)], { cwd: this.cwd, env: { SWITCHYARD_STATE_DIR: this.stateDir } });
    await this.process.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 'stderr', 60_000);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${this.url}/readyz`).then((response) => response.status, () => 0);
      if (ready === 200) return;
      assert.ok(Date.now() < deadline, `instance ${this.index + 1} never answered /readyz with 200 (last: ${ready})`);
      await sleep(50);
    }
  }

  /** SIGTERM, then what the process did: its exit code, its drain log line, its access-log lines with a 5xx status. */
  async stop(): Promise<Stopped> {
    const running = this.process!;
    running.child.kill('SIGTERM');
    const code = await running.exited;
    const logs = running.logs();
    const drained = logs.find((line) => line.msg === 'drained; exiting' || line.msg === 'drain timeout reached; closed remaining connections');
    const serverErrors = logs.filter((line) => typeof line.status === 'number' && line.status >= 500);
    return { instance: this.index + 1, code, drained, serverErrors, stderr: running.stderr };
  }
}

interface Stopped {
  instance: number;
  code: number | null;
  drained: Record<string, unknown> | undefined;
  serverErrors: Record<string, unknown>[];
  stderr: string;
}

async function streamOnce(front: RoundRobinFront, alias: string, key: string): Promise<Outcome> {
  let response: Response;
  try {
    response = await fetch(`${front.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: alias, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
  } catch (error) {
    return { status: 0, instance: null, problem: `fetch failed: ${(error as Error).message}; ${String((error as Error).cause ?? '')}` };
  }
  const instance = response.headers.get('x-front-upstream');
  let body: string;
  try {
    body = await response.text();
  } catch (error) {
    return { status: response.status, instance, problem: `stream cut: ${(error as Error).message}; ${String((error as Error).cause ?? '')}` };
  }
  if (response.status !== 200) return { status: response.status, instance, problem: `status ${response.status}: ${body.slice(0, 300)}` };
  const events = parseSse(body);
  if (events.at(-1)?.data !== '[DONE]') return { status: 200, instance, problem: `no terminal event: …${body.slice(-300)}` };
  let text = '';
  for (const event of events.slice(0, -1)) {
    const payload = JSON.parse(event.data);
    if (payload.error !== undefined) return { status: 200, instance, problem: `error event: ${event.data.slice(0, 300)}` };
    text += payload.choices?.[0]?.delta?.content ?? '';
  }
  if (text !== EXPECTED) return { status: 200, instance, problem: `text: ${text.slice(0, 200)}` };
  return { status: 200, instance };
}

async function postgresRows(url: string, alias: string): Promise<{ rows: number; ok: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ rows: number; ok: number }>('SELECT count(*)::int AS rows, (count(*) FILTER (WHERE status = 200))::int AS ok FROM switchyard_usage WHERE model_asked = $1', [alias]);
    return result.rows[0]!;
  } finally {
    await client.end();
  }
}

function sqliteRows(stateDirs: readonly string[], alias: string): { rows: number; ok: number } {
  let rows = 0;
  let ok = 0;
  for (const stateDir of stateDirs) {
    const database = new DatabaseSync(join(stateDir, 'usage.db'), { readOnly: true });
    try {
      const counted = database.prepare('SELECT count(*) AS rows, sum(status = 200) AS ok FROM usage WHERE model_asked = ?').get(alias) as { rows: number; ok: number | null };
      rows += counted.rows;
      ok += counted.ok ?? 0;
    } finally {
      database.close();
    }
  }
  return { rows, ok };
}

test('rolling restart: SIGTERM each of three instances in turn while 200 clients stream through the front — every stream completes, no 5xx, each drains and exits 0, usage rows = requests', { skip: redisSkip, timeout: 600_000 }, async (t) => {
  const mock = await startMockUpstream({ streamDeltas: DELTAS, streamIntervalMs: INTERVAL_MS });
  t.after(() => mock.close());
  const dir = mkdtempSync(join(tmpdir(), 'swy-rolling-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // this run's rows, in a database other runs write to as well
  const alias = `rolling-${randomBytes(6).toString('hex')}`;
  // a key of the config: with `storage.url`, keys other tests made through the management API live
  // in the same database, and then every caller needs one
  const key = `sk-rolling-${randomBytes(12).toString('hex')}`;
  const configFile = join(dir, 'switchyard.yaml');
  writeFileSync(configFile, [
    `server: { drain_timeout_ms: ${DRAIN_TIMEOUT_MS} }`,
    'logging: { level: info, format: json }',
    `auth: { keys: ["${key}"] }`,
    'providers:',
    `  - { name: mock, type: openai, base_url: "${mock.url}/v1", models: [mock-gpt] }`,
    'models:',
    `  - { name: ${alias}, targets: [{ provider: mock, model: mock-gpt }] }`,
    // one store for the fleet, or each instance its own file in its SWITCHYARD_STATE_DIR
    ...(postgresUrl === undefined ? [] : [`storage: { url: "${postgresUrl}" }`]),
    `state: { redis: "${redisUrl}", key_prefix: "${testPrefix()}" }`,
    '',
  ].join('\n'));
  if (postgresUrl === undefined) t.diagnostic('SWITCHYARD_TEST_POSTGRES_URL is not set: usage is recorded per instance in SQLite and counted across the three files (.ci/run sets it to check the shared PostgreSQL store)');

  const instances: Instance[] = [];
  for (let i = 0; i < 3; i++) instances.push(new Instance(i, await freePort(), dir, configFile));
  await Promise.all(instances.map((instance) => instance.start()));
  const front = await startRoundRobinFront({ upstreams: instances.map((instance) => instance.url) });
  t.after(() => front.close());

  const outcomes: Outcome[] = [];
  let stopping = false;
  const clients = Array.from({ length: CLIENTS }, async (_, client) => {
    await sleep((client * RAMP_MS) / CLIENTS);
    // a client whose stream failed stops: the failure is what the test reports
    let outcome: Outcome;
    do outcomes.push(outcome = await streamOnce(front, alias, key));
    while (!stopping && outcome.problem === undefined);
  });

  const stops: (Stopped & { inFlight: number })[] = [];
  const state = () => `front (sent/answered/active/failed/marked down): ${front.stats.map((stats) => `${stats.sent}/${stats.answered}/${stats.active}/${stats.failed}/${stats.markedDown}`).join(', ')}; ` +
    `${outcomes.length} streams ended, problems: ${JSON.stringify(outcomes.filter((outcome) => outcome.problem !== undefined).slice(0, 3))}`;
  /** Waits for `check`; fails at once when a stream has failed (the clients stop), or after `ms`. */
  const until = async (check: () => boolean, what: () => string, ms = 60_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!check()) {
      const failed = outcomes.some((outcome) => outcome.problem !== undefined);
      if (failed || Date.now() > deadline) assert.fail(`${failed ? 'a stream failed' : `not within ${ms} ms`}: ${what()}`);
      await sleep(20);
    }
  };
  try {
    for (const instance of instances) {
      const stats = front.stats[instance.index]!;
      // SIGTERM while streams run through it
      await until(() => stats.active >= 20, () => `streams in flight on instance ${instance.index + 1}; ${state()}`);
      const inFlight = stats.active;
      stops.push({ ...(await instance.stop()), inFlight });
      await instance.start();
      // the front has sent it streams again before the next one goes
      const answered = stats.answered;
      await until(() => stats.answered >= answered + 20, () => `instance ${instance.index + 1} serving again; ${state()}`);
    }
  } finally {
    stopping = true;
    await Promise.all(clients);
  }
  // the last streams are over: stop the fleet, which writes the usage still queued
  const finals = await Promise.all(instances.map((instance) => instance.stop()));

  const problems = outcomes.filter((outcome) => outcome.problem !== undefined);
  t.diagnostic(`${outcomes.length} streams; per instance (sent, answered, failed before the head, marked down): ${front.stats.map((stats) => `${stats.sent}/${stats.answered}/${stats.failed}/${stats.markedDown}`).join(', ')}; ` +
    `in flight at SIGTERM: ${stops.map((stop) => stop.inFlight).join(', ')}`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} of ${outcomes.length} streams failed`);
  assert.ok(outcomes.length >= 2 * CLIENTS, `every client streamed through the restart: ${outcomes.length}`);
  assert.equal(outcomes.filter((outcome) => outcome.status >= 500).length, 0, 'no 5xx reached a client');
  assert.equal(front.noLiveUpstreams, 0, 'the front always had an instance to send to');
  assert.deepEqual([...stops, ...finals].flatMap((stop) => stop.serverErrors).slice(0, 5), [], 'no instance answered 5xx');
  for (const stop of [...stops, ...finals]) {
    assert.equal(stop.code, 0, `instance ${stop.instance} exited ${stop.code}: ${stop.stderr.slice(-500)}`);
    assert.equal(stop.drained?.msg, 'drained; exiting', `instance ${stop.instance} drained before the timeout`);
    assert.equal(stop.drained?.finished, true);
  }
  for (const instance of front.stats) assert.ok(instance.answered > 0);

  const usage = postgresUrl === undefined ? sqliteRows(instances.map((instance) => instance.stateDir), alias) : await postgresRows(postgresUrl, alias);
  assert.deepEqual(usage, { rows: outcomes.length, ok: outcomes.length }, `usage rows (${postgresUrl === undefined ? 'SQLite, three files' : 'PostgreSQL'}) = requests made`);
});
