// Scenario 9: one instance with the shared state on and off (issue #20: "requests/s and CPU per
// request of one instance with Redis state on vs off"). Switchyard ×1 started twice from the same
// config — a client key with rpm, tpm, max_concurrent and a priced budget, a route with session
// affinity over two targets, every request of one session — once with everything in process and
// once with `state.redis` pointing at a redis-server the scenario starts on loopback (Debian's
// `redis-server`, or `valkey-server`; skipped with a note when neither is installed). With the
// server, each request takes its limits through Redis in one script (admit waits for it), reads
// its session's pin before the planner and settles its limits in one script after the answer
// (bench/micro/redis-commands.ts lists the commands); provider health is shared too (a
// subscription; nothing per request while every target answers). The load is the
// saturation scenario's (wrk -t1, 0 ms mock, the small chat request), the two variants alternating
// round by round. Reported: requests/s and CPU µs per request of the Switchyard process, the
// Redis server's own CPU per request, and on ÷ off.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPorts, roundOrder, type Bench } from '../lib/context.ts';
import { loadNote, trackOwnProcesses } from '../lib/noise.ts';
import { commandExists, cpuMicros, freePort, startProcess, stopProcess, waitForPort, type Managed } from '../lib/processes.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratio, signed, table, times } from '../lib/report.ts';
import { clientKey, startSwitchyard, switchyardYaml, System, type Target } from '../lib/systems.ts';
import { combineRounds, runWrk, writeWrkScript, type LoadResult } from '../lib/wrk.ts';

export type StateVariantId = 'off' | 'on';

const variants: readonly { id: StateVariantId; description: string }[] = [
  { id: 'off', description: 'limits, budget spend and session pins in process (no `state:`)' },
  { id: 'on', description: '`state.redis`: the same, shared through a redis-server on loopback' },
];

/** The route every request takes: the 0 ms mock, twice, behind session affinity. */
const PINNED_ROUTE = 'lat0-pinned';
const SESSION = 'bench-session';

/**
 * The variant's config besides the run's usual one: a key whose limits are never reached (so
 * every request is counted and none refused), the pinned route, prices (so the budget is spent),
 * and with `redis` the shared state.
 */
export function stateVariantYaml(redis: string | undefined): { auth: string; extra: string[] } {
  return {
    auth: `auth: { keys: [{ key: "${clientKey}", name: bench, rpm: 1000000000, tpm: 1000000000000, max_concurrent: 100000, budget: { usd: 1000000000, period: day } }] }`,
    extra: [
      'models:',
      `  - { name: ${PINNED_ROUTE}, strategy: round-robin, affinity: session, targets: [{ provider: mock-lat0, model: lat0 }, { provider: mock-agent-openai, model: agent-chat }] }`,
      'prices:',
      '  lat0: { input: 0.15, output: 0.6 }',
      '  agent-chat: { input: 0.15, output: 0.6 }',
      ...(redis === undefined ? [] : [`state: { redis: "${redis}", key_prefix: "switchyard-bench:${randomBytes(4).toString('hex')}:" }`]),
    ],
  };
}

function pinnedTarget(system: System): Target {
  const target = system.target(profiles.lat0, false, PINNED_ROUTE);
  return { ...target, headers: [...target.headers, ['x-session-id', SESSION]] };
}

interface RedisServer {
  server: Managed;
  binary: string;
  port: number;
}

async function startRedis(bench: Bench): Promise<RedisServer | string> {
  const binary = ['redis-server', 'valkey-server'].find((name) => commandExists(name));
  if (binary === undefined) return 'neither redis-server nor valkey-server is installed (apt-get install -y redis-server)';
  const port = await freePort();
  const server = startProcess('redis', binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdout: join(bench.paths.work, 'redis.log'), stderr: join(bench.paths.work, 'redis.err'),
  });
  await waitForPort(port, 10_000, () => server.running);
  return { server, binary, port };
}

/** The gateway's own view of the server after the runs: `switchyard_state_store_up` and outages. */
async function storeHealth(system: System): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${system.port}/metrics`, { headers: { authorization: `Bearer ${clientKey}` }, signal: AbortSignal.timeout(10_000) })).text();
  const value = (name: string) => text.split('\n').find((line) => line.startsWith(`${name} `))?.slice(name.length + 1);
  const up = value('switchyard_state_store_up');
  const outages = value('switchyard_state_store_outages_total') ?? '0';
  return up === '1' && outages === '0' ? undefined : `switchyard_state_store_up ${up ?? 'absent'}, outages ${outages}: the "on" figures did not all go through Redis`;
}

async function startVariant(bench: Bench, id: StateVariantId, redis: RedisServer | undefined): Promise<System> {
  const port = await freePort();
  const logName = `switchyard-state-${id}`;
  const configFile = join(bench.paths.work, `${logName}.yaml`);
  const yaml = stateVariantYaml(redis === undefined ? undefined : `redis://127.0.0.1:${redis.port}`);
  writeFileSync(configFile, switchyardYaml(bench.mockPort, port, join(bench.paths.work, `${logName}-state`), [], yaml.extra, yaml.auth));
  const system = new System('switchyard', port, bench.mockPort);
  try {
    await startSwitchyard(system, bench.paths, configFile, '1', logName);
    system.checkPort();
    const target = pinnedTarget(system);
    const response = await fetch(`http://127.0.0.1:${port}${target.path}`, {
      method: 'POST', headers: [...target.headers, ['content-type', 'application/json']], body: target.body, signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('"chat.completion"')) throw new Error(`probe answered ${response.status}: ${text.slice(0, 200)}`);
    return system;
  } catch (error) {
    await system.stop();
    throw error;
  }
}

interface Point {
  results: LoadResult[];
  /** CPU µs of the Redis server over the runs (the `on` variant only). */
  redisCpuUs: number;
}

export async function redisState(bench: Bench): Promise<void> {
  const { settings } = bench.options;
  if (!bench.options.systems.includes('switchyard')) {
    bench.report.note('Redis state scenario: --systems leaves out switchyard (this scenario measures Switchyard ×1)');
    return;
  }
  const redis = await startRedis(bench);
  if (typeof redis === 'string') {
    bench.report.note(`Redis state scenario skipped: ${redis}`);
    bench.report.add(`## 9. Redis state on vs off\n\nSkipped: ${redis}.`);
    bench.report.check('Redis state on ÷ off, Switchyard ×1: CPU per request, requests/s', 'reported (no limit set)', `not measured: ${redis}`, undefined);
    return;
  }
  const running = new Map<StateVariantId, System>();
  const points = new Map<number, Map<StateVariantId, Point>>();
  let storeProblem: string | undefined;
  try {
    for (const variant of variants) {
      const system = await startVariant(bench, variant.id, variant.id === 'on' ? redis : undefined);
      running.set(variant.id, system);
      bench.log(`[9] Redis state · ${variant.id}: Switchyard ×1 on 127.0.0.1:${system.port} (pid ${system.process?.pid})`);
    }
    trackOwnProcesses(() => [redis.server.pid, ...[...running.values()].flatMap((system) => system.pids())]);
    const scripts = new Map([...running].map(([id, system]) => {
      const target = pinnedTarget(system);
      return [id, { system, target, script: writeWrkScript(bench.paths.work, `state-${id}`, target) }] as const;
    }));
    for (const { system, target, script } of scripts.values()) await runWrk(system, target, script, 64, settings.warmupSeconds);
    for (const connections of settings.redisConnections) {
      const measured = new Map<StateVariantId, Point>(variants.map((variant) => [variant.id, { results: [], redisCpuUs: 0 }]));
      for (let round = 0; round < settings.redisRounds; round++) {
        for (const variant of roundOrder(variants, round)) {
          checkPorts(bench);
          const { system, target, script } = scripts.get(variant.id)!;
          system.checkPort();
          const redisBefore = cpuMicros([redis.server.pid]);
          const result = await runWrk(system, target, script, connections, settings.redisSeconds);
          const point = measured.get(variant.id)!;
          point.results.push(result);
          if (variant.id === 'on') point.redisCpuUs += cpuMicros([redis.server.pid]) - redisBefore;
          bench.log(`[9] Redis state c=${connections} · ${variant.id} · round ${round + 1}: ${num(result.rps)} req/s, ${num(result.cpuPerRequestUs)} µs CPU/req, ${result.errors} errors${loadNote(result.outsideLoad)}`);
        }
      }
      points.set(connections, measured);
    }
    storeProblem = await storeHealth(running.get('on')!);
    if (storeProblem !== undefined) bench.report.note(`Redis state scenario: ${storeProblem}`);
  } catch (error) {
    bench.report.note(`Redis state scenario failed: ${(error as Error).message}`);
  } finally {
    for (const system of running.values()) await system.stop();
    await stopProcess(redis.server);
  }

  const rows: string[][] = [];
  const ratios: string[][] = [];
  for (const [connections, measured] of points) {
    const off = combineRounds(measured.get('off')!.results);
    const onPoint = measured.get('on')!;
    const on = combineRounds(onPoint.results);
    for (const variant of variants) {
      const result = variant.id === 'on' ? on : off;
      rows.push([
        num(connections), variant.id, num(result.requests), num(result.rps), num(result.cpuPerRequestUs),
        variant.id === 'on' ? num(onPoint.redisCpuUs / Math.max(1, on.requests)) : '—',
        num(result.p50Ms, 2), num(result.p99Ms, 2), result.errors === 0 ? '0' : `${num(result.errors)} (${result.errorDetail})`,
      ]);
    }
    ratios.push([num(connections), times(ratio(on.rps, off.rps)), times(ratio(on.cpuPerRequestUs, off.cpuPerRequestUs)), signed(on.cpuPerRequestUs - off.cpuPerRequestUs), signed(on.p50Ms - off.p50Ms, 2)]);
  }
  bench.report.add(`## 9. Redis state on vs off\n\n` +
    `Switchyard ×1 started twice from the run's config plus: a client key with \`rpm\`, \`tpm\`, \`max_concurrent\` and a priced daily budget (limits never reached), ` +
    `a route \`${PINNED_ROUTE}\` with \`affinity: session\` over two targets on the 0 ms mock, and every request in one session (\`x-session-id\`). ` +
    `${variants.map((variant) => `\`${variant.id}\`: ${variant.description}`).join('; ')} (\`${redis.binary}\` started by the scenario, nothing kept on disk). ` +
    `wrk -t1, the saturation scenario's small chat request, ${settings.redisSeconds} s per run, ${settings.redisRounds} round(s) alternating the variants. ` +
    `CPU = utime+stime of the Switchyard process over the run ÷ requests; Redis CPU = the server's over the \`on\` runs ÷ their requests.\n\n` +
    table(['connections', 'variant', 'requests', 'req/s', 'CPU µs/req', 'Redis CPU µs/req', 'p50 ms', 'p99 ms', 'errors'], rows) +
    (ratios.length === 0 ? '' : `\n\n` + table(['connections', 'req/s on ÷ off', 'CPU/req on ÷ off', 'Δ CPU µs/req', 'Δ p50 ms'], ratios)) +
    (storeProblem === undefined ? '' : `\n\n${storeProblem}.`));

  const first = points.get(settings.redisConnections[0]!);
  const off = first === undefined || first.get('off')!.results.length === 0 ? undefined : combineRounds(first.get('off')!.results);
  const on = first === undefined || first.get('on')!.results.length === 0 ? undefined : combineRounds(first.get('on')!.results);
  bench.report.check(`Redis state on ÷ off, Switchyard ×1 (c=${settings.redisConnections[0]}): CPU per request, requests/s`, 'reported (no limit set)',
    off === undefined || on === undefined ? 'not measured (see the notes)'
      : `${times(ratio(on.cpuPerRequestUs, off.cpuPerRequestUs))} CPU/req (${signed(on.cpuPerRequestUs - off.cpuPerRequestUs)} µs), ${times(ratio(on.rps, off.rps))} req/s`,
    undefined);
}
