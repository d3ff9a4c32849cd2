// The Redis commands one request sends (issue #20, scenario 9's cost): Switchyard ×1 started from
// scenario 9's `on` config (bench/scenarios/redis-state.ts: a key with rpm, tpm, max_concurrent and
// a priced budget, a route with session affinity, every request in one session) against the mock
// and the server at SWITCHYARD_TEST_REDIS_URL. After a warm-up, `MONITOR` records every command
// while `--requests` requests run, `--concurrency` at a time; the commands are listed per request,
// each script by its name (redis-scripts.ts), with the round trips a request waits for.
// `SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:6391 npx node bench/micro/redis-commands.ts [--requests 2000] [--concurrency 64]`
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import * as scripts from '../../src/state/redis-scripts.ts';
import { freePort, startProcess, stopProcess, waitForPort } from '../lib/processes.ts';
import { profiles } from '../lib/profiles.ts';
import { stateVariantYaml } from '../scenarios/redis-state.ts';
import { startSwitchyard, switchyardYaml, System } from '../lib/systems.ts';

const url = process.env.SWITCHYARD_TEST_REDIS_URL;
if (url === undefined) {
  console.log('skipped: set SWITCHYARD_TEST_REDIS_URL (redis-server --port 6391 --save ""; SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:6391)');
  process.exit(0);
}
const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '64' } } });
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'swy-redis-commands-'));
const paths = { root, work, node: process.execPath };
const names = new Map(Object.entries(scripts).map(([name, lua]) => [createHash('sha1').update(lua).digest('hex'), name]));

const mockPort = await freePort();
const mock = startProcess('mock', process.execPath, [join(root, 'bench/mock/upstream.ts'), '--port', String(mockPort)]);
const port = await freePort();
const system = new System('switchyard', port, mockPort);
const monitorClient = new Redis(url);
try {
  await waitForPort(mockPort, 10_000, () => mock.running);
  const yaml = stateVariantYaml(url);
  const configFile = join(work, 'switchyard.yaml');
  writeFileSync(configFile, switchyardYaml(mockPort, port, join(work, 'state'), [], yaml.extra, yaml.auth));
  await startSwitchyard(system, paths, configFile, '1', 'switchyard');
  const target = system.target(profiles.lat0, false, 'lat0-pinned');
  const headers = [...target.headers, ['x-session-id', 'bench-session'], ['content-type', 'application/json']] as [string, string][];
  const send = async () => {
    const response = await fetch(`http://127.0.0.1:${port}${target.path}`, { method: 'POST', headers, body: target.body });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
  };
  for (let i = 0; i < 200; i++) await send();
  await new Promise((done) => setTimeout(done, 500));

  const counts = new Map<string, number>();
  const monitor = await monitorClient.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === 'lua') return; // the commands of a script, counted as the script
    const command = args[0]!.toLowerCase();
    const name = command === 'evalsha' || command === 'eval' ? names.get(command === 'evalsha' ? args[1]! : createHash('sha1').update(args[1]!).digest('hex')) ?? `${command} (unknown)` : command;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  await new Promise((done) => setTimeout(done, 200));
  counts.clear();
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      next++;
      await send();
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  // the writes in the background after the answers
  await new Promise((done) => setTimeout(done, 500));
  monitor.disconnect();
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  console.log(`${requests} requests, ${concurrency} at a time, ${(requests / seconds).toFixed(0)} req/s (under MONITOR): ${(total / requests).toFixed(2)} commands a request`);
  for (const [name, count] of [...counts].sort((a, b) => b[1] - a[1])) console.log(`  ${name.padEnd(28)} ${(count / requests).toFixed(3)} a request (${count})`);
} finally {
  monitorClient.disconnect();
  await system.stop();
  await stopProcess(mock);
  rmSync(work, { recursive: true, force: true });
}
