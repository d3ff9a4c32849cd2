// End-to-end A/B of metrics recording on a noisy machine: two gateways in this one process, the
// same config, one with the metrics observer and one without, loaded alternately by wrk in short
// bursts (A B A B …) so drift and neighbours hit both alike; CPU µs per request of this process
// (process.cpuUsage over each burst; the mock and wrk run in other processes).
// `npx node bench/micro/metrics-ab.ts [--rounds 10] [--seconds 3] [--connections 64]`
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { GatewayConfig } from '../../src/config/types.ts';
import { DEFAULT_ROUTING } from '../../src/config/defaults.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '10' }, seconds: { type: 'string', default: '3' }, connections: { type: 'string', default: '64' } } });
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const root = new URL('../..', import.meta.url).pathname;

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('error', reject);
    child.on('exit', () => resolve(out));
  });
}

const mockPort = 20000 + Math.floor(Math.random() * 20000);
const mock = spawn(join(root, 'node_modules/.bin/node'), [join(root, 'bench/mock/upstream.ts'), '--port', String(mockPort)], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 800));

function config(): GatewayConfig {
  return {
    source: 'bench', server: { host: '127.0.0.1', port: 0, workers: 1, bodyLimitBytes: 4 * 1024 * 1024, keepAliveTimeoutMs: 65_000, drainTimeoutMs: 1000, headersTimeoutMs: 10_000, requestTimeoutMs: 120_000 },
    auth: { keys: [], allowUnauthenticated: false, adminKeys: [] },
    providers: [{
      name: 'mock', dialect: 'openai', apiKeys: [], auth: { header: 'authorization', prefix: 'Bearer ' }, models: ['lat0'], discover: false, discoverIntervalMs: 0,
      baseUrl: `http://127.0.0.1:${mockPort}/p/0/16/0/v1`, headers: {}, timeouts: { connectMs: 5000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 0 },
      pool: { connections: 0, keepAliveMs: 4000 }, capabilities: { chat: true, completions: true, embeddings: true, responses: true }, keyStrategy: 'round-robin',
    }],
    models: [], routing: DEFAULT_ROUTING, logging: { level: 'warn', format: 'json' },
    media: { allowPrivateNetworks: false, maxBytes: 1024 * 1024, timeoutMs: 2000 },
    storage: { enabled: false }, prices: [], cache: { maxBytes: 1024 * 1024, maxEntryBytes: 1024 * 1024 },
  } as unknown as GatewayConfig;
}

const logger = pino({ level: 'warn' });
const withMetrics = await startGateway({ config: config(), logger, discover: false });
const without = await startGateway({ config: config(), logger, discover: false });
// the second gateway without its observers: the only difference between the two
(without.gateway as unknown as { observers: unknown[] }).observers = [];

const script = join(tmpdir(), `metrics-ab-${process.pid}.lua`);
writeFileSync(script, `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = '{"model":"lat0","messages":[{"role":"user","content":"Hello"}]}'\n`);

async function burst(gateway: RunningGateway): Promise<number> {
  const before = process.cpuUsage();
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', script, `${gateway.url}/v1/chat/completions`]);
  const used = process.cpuUsage(before);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  if (/Non-2xx/.test(out) || requests === 0) throw new Error(`wrk: ${out}`);
  return (used.user + used.system) / requests;
}

await burst(withMetrics);
await burst(without);
const a: number[] = [];
const b: number[] = [];
for (let round = 0; round < rounds; round++) {
  const first = round % 2 === 0;
  const x = await burst(first ? withMetrics : without);
  const y = await burst(first ? without : withMetrics);
  (first ? a : b).push(x);
  (first ? b : a).push(y);
  process.stdout.write(`round ${round + 1}: with metrics ${(first ? x : y).toFixed(1)} µs/req, without ${(first ? y : x).toFixed(1)} µs/req\n`);
}
const median = (list: number[]) => [...list].sort((p, q) => p - q)[list.length >> 1]!;
const diffs = a.map((value, i) => value - b[i]!);
process.stdout.write(`median: with ${median(a).toFixed(1)} µs/req, without ${median(b).toFixed(1)} µs/req, paired difference median ${median(diffs).toFixed(1)} µs/req (${(median(diffs) / median(b) * 100).toFixed(1)} %)\n`);
await withMetrics.close();
await without.close();
mock.kill();
