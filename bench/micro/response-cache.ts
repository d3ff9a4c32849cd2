// What the exact-response cache costs and saves, end to end on a same-dialect (byte pass-through)
// route: CPU µs per request of this process (the gateway; the mock and wrk run in other
// processes) for a route without cache, a cached route that always misses (every request a new
// prompt: the bytes are kept, read back and stored after the response), and one that always hits
// — whole answers and streams, loaded by wrk in short alternating bursts so drift and neighbours
// hit every variant alike. The miss's overhead over the plain route is what a cached route's
// first request pays; the plain route itself pays nothing (no handler is compiled for it).
// `npx node bench/micro/response-cache.ts [--rounds 5] [--seconds 2] [--connections 16]`
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { startGateway } from '../../src/main.ts';
import { testConfig } from '../../test/helpers/gateway.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '2' }, connections: { type: 'string', default: '16' } } });
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

const config = testConfig({
  providers: [{ name: 'mock', baseUrl: `http://127.0.0.1:${mockPort}/p/0/16/0/v1`, models: ['lat0'], timeouts: { connectMs: 5000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 0 } }],
  models: [
    { name: 'plain', targets: [{ provider: 'mock', model: 'lat0' }] },
    { name: 'cached', targets: [{ provider: 'mock', model: 'lat0' }], cache: { ttlSeconds: 3600, perKey: false } },
  ],
});
const gateway = await startGateway({ config: { ...config, logging: { level: 'warn', format: 'json' } }, logger: pino({ level: 'warn' }), discover: false });

/** A wrk script: a fixed body, or (`unique`) a new prompt per request. */
function script(name: string, model: string, stream: boolean, unique: boolean): string {
  const file = join(tmpdir(), `response-cache-${process.pid}-${name}.lua`);
  const head = `{"model":"${model}","stream":${stream},"messages":[{"role":"user","content":"Hello `;
  const lua = unique
    ? `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\ncounter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, nil, nil, '${head}' .. tostring(math.random(1, 1000000000)) .. '-' .. counter .. '"}]}')\nend\n`
    : `wrk.method = "POST"\nwrk.headers["content-type"] = "application/json"\nwrk.body = '${head}there"}]}'\n`;
  writeFileSync(file, lua);
  return file;
}

const VARIANTS = [
  { name: 'plain', script: script('plain', 'plain', false, false) },
  { name: 'miss', script: script('miss', 'cached', false, true) },
  { name: 'hit', script: script('hit', 'cached', false, false) },
  { name: 'plain stream', script: script('plain-s', 'plain', true, false) },
  { name: 'miss stream', script: script('miss-s', 'cached', true, true) },
  { name: 'hit stream', script: script('hit-s', 'cached', true, false) },
];

async function burst(file: string): Promise<number> {
  const before = process.cpuUsage();
  const out = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', file, `${gateway.url}/v1/chat/completions`]);
  const used = process.cpuUsage(before);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  if (/Non-2xx/.test(out) || requests === 0) throw new Error(`wrk: ${out}`);
  return (used.user + used.system) / requests;
}

const results = new Map<string, number[]>(VARIANTS.map((variant) => [variant.name, []]));
for (const variant of VARIANTS) await burst(variant.script); // warm-up (and the hits' first miss)
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
  for (const variant of order) results.get(variant.name)!.push(await burst(variant.script));
  process.stdout.write(`round ${round + 1}: ${VARIANTS.map((variant) => `${variant.name} ${results.get(variant.name)!.at(-1)!.toFixed(1)}`).join(', ')} µs/req\n`);
}
const median = (list: number[]) => [...list].sort((p, q) => p - q)[list.length >> 1]!;
for (const base of ['plain', 'plain stream']) {
  const suffix = base === 'plain' ? '' : ' stream';
  const plain = median(results.get(base)!);
  const miss = median(results.get(`miss${suffix}`)!);
  const hit = median(results.get(`hit${suffix}`)!);
  process.stdout.write(`${base}: ${plain.toFixed(1)} µs/req; miss ${miss.toFixed(1)} (${(miss - plain >= 0 ? '+' : '') + (miss - plain).toFixed(1)}); hit ${hit.toFixed(1)} (${(hit / plain * 100).toFixed(0)} % of plain)\n`);
}
await gateway.close();
mock.kill();
