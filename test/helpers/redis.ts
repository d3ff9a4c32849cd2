// The Redis/Valkey server of the shared-state tests: SWITCHYARD_TEST_REDIS_URL (.ci/run installs
// Debian's redis-server, starts it on a free loopback port and sets it). Without the variable the
// tests are skipped, saying how to run them; with it, a server that cannot be reached fails them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningGateway } from '../../src/main.ts';
import { startYamlGateway, type YamlGateway } from './yaml-gateway.ts';
import { RedisLink } from '../../src/state/redis-link.ts';

export const redisUrl = process.env.SWITCHYARD_TEST_REDIS_URL;

/** The `skip` option of a test that needs the server. */
export const redisSkip: string | false = redisUrl === undefined
  ? 'SWITCHYARD_TEST_REDIS_URL is not set: `apt-get install redis-server` (or Valkey), start it on loopback and set SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run does this)'
  : false;

/** A key prefix no other test uses. */
export function testPrefix(): string {
  return `switchyard-test:${randomBytes(6).toString('hex')}:`;
}

export const quietLogger = { warn: () => {}, info: () => {} };

/** A link to the test server under a fresh prefix, connected (fails when the server cannot be reached). */
export async function connectedLink(options: { prefix?: string; leaseMs?: number; timeoutMs?: number } = {}): Promise<RedisLink> {
  const link = new RedisLink({ url: redisUrl!, keyPrefix: options.prefix ?? testPrefix(), timeoutMs: options.timeoutMs ?? 2000, logger: quietLogger, ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}) });
  await link.whenConnected(5000);
  assert.ok(link.available, `the Redis server at ${redisUrl} could not be reached`);
  return link;
}

/**
 * A Redis server of the test's own (Debian's `redis-server`, or `valkey-server`), on a free
 * loopback port with nothing kept on disk, for tests that kill or pause it.
 */
export interface OwnRedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: the server and everything it held are gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: connected but silent. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startOwnRedisServer(): Promise<OwnRedisServer> {
  const { spawn, execFileSync } = await import('node:child_process');
  const { createServer } = await import('node:net');
  const binary = ['redis-server', 'valkey-server'].find((name) => {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  assert.ok(binary !== undefined, 'redis-server (or valkey-server) is not on PATH: apt-get install redis-server');
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  let child: ReturnType<typeof spawn> | undefined;
  const start = async (): Promise<void> => {
    const started = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
    child = started;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      started.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      started.once('exit', (code) => reject(new Error(`${binary} exited (${code}): ${output.slice(-500)}`)));
    });
    started.stdout!.resume();
  };
  const kill = async (): Promise<void> => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGCONT');
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: kill,
  };
}

/** An unlabelled metric of a gateway's /metrics, as a number (undefined when absent). */
export async function metric(gateway: RunningGateway, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${gateway.url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** Polls `check` until it holds, at most `ms` (state shared between instances arrives asynchronously). */
export async function within(ms: number, check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `not within ${ms} ms: ${what}`);
    await sleep(20);
  }
}

/** Where a fleet's instances share their state: the server, a prefix of their own, the command timeout. */
export interface FleetState {
  url: string;
  prefix: string;
  timeoutMs?: number;
}

/**
 * `count` gateways from one config: `head` (providers, models) plus what every fleet test shares —
 * ejection after one failure for `ejectSeconds`, no usage storage, and `state`.
 */
export async function startInstances(head: readonly string[], name: string, count: number, state: FleetState, ejectSeconds: number): Promise<YamlGateway[]> {
  const yaml = [
    ...head,
    'routing:',
    `  cooldowns: { eject_after: 1, eject_s: ${ejectSeconds}, eject_max_s: ${ejectSeconds * 4}, panic_threshold_percent: 0 }`,
    'storage: { enabled: false }',
    `state: { redis: "${state.url}", key_prefix: "${state.prefix}", timeout_ms: ${state.timeoutMs ?? 1000} }`,
  ].join('\n') + '\n';
  const instances: YamlGateway[] = [];
  for (let i = 0; i < count; i++) instances.push(await startYamlGateway(yaml, name));
  return instances;
}
