// Runs bench/clients/load-client.ts as a separate process and measures the system's CPU around it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientResult, ClientSpec } from '../clients/load-client.ts';
import { NoiseMeter } from './noise.ts';
import { cpuMicros, runToEnd } from './processes.ts';
import type { Paths, System, Target } from './systems.ts';

export type { ClientResult, ClientSpec };

export interface ClientRun extends ClientResult {
  cpuUs: number;
  /** Share of the machine busy outside the benchmark during the run (0–1). */
  outsideLoad: number;
}

const defaults = { durationMs: 5000, warmupMs: 0, concurrency: 1, rampMs: 0, streamsPerConnection: 0, intervalMs: 0, stallMs: 50 };

export async function runClient(paths: Paths, system: System, target: Target, options: Partial<ClientSpec> & { mode: ClientSpec['mode'] }): Promise<ClientRun> {
  const spec: ClientSpec = {
    ...defaults, deadlineMs: 0, ...options,
    port: target.port, path: target.path, headers: target.headers, body: target.body,
  };
  if (spec.deadlineMs === 0) spec.deadlineMs = spec.durationMs + spec.rampMs + 30_000;
  if (spec.body.length > 64 * 1024) {
    // Linux limits one command-line argument to 128 KB: large bodies go through a file.
    spec.bodyFile = join(paths.work, `client-body-${process.pid}.json`);
    writeFileSync(spec.bodyFile, spec.body);
    spec.body = '';
  }
  const pids = system.pids();
  const before = cpuMicros(pids);
  const meter = new NoiseMeter();
  const script = join(paths.root, 'bench/clients/load-client.ts');
  const result = await runToEnd('load client', paths.node, [script, JSON.stringify(spec)], spec.deadlineMs + 15_000);
  const cpuUs = cpuMicros(pids) - before;
  const outsideLoad = meter.stop(`${system.label}, ${spec.mode} ×${spec.concurrency} ${target.path}`);
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`load client printed no result (exit ${result.code}): ${result.stderr.trim().slice(0, 300)}`);
  return { ...(JSON.parse(line) as ClientResult), cpuUs, outsideLoad };
}
