// Start to ready: the wall time from spawning a process to it answering — for Switchyard, its
// /readyz with 200 (listening, config loaded, providers built); for the Node floor, its port
// accepting a connection — and its RSS once it has sat idle for a second. Each start is its own
// process on its own port; "warm" means Node's compile cache already holds the code (a second
// start), "cold" an empty cache directory.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, processTree, rssMb, sleep, startProcess, stopProcess } from './processes.ts';
import { median } from './stats.ts';

export interface StartCommand {
  label: string;
  command: string;
  /** The arguments for a start on `port`. */
  args(port: number): string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** 'readyz': GET /readyz answers 200; 'port': a TCP connection is accepted. */
  ready: 'readyz' | 'port';
}

export interface StartSample {
  readyMs: number;
  idleRssMb: number;
}

export interface StartSummary {
  label: string;
  samples: StartSample[];
  readyMs: number;
  idleRssMb: number;
}

const pollMs = 2;

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function readyzAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/readyz', agent: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.once('error', () => resolve(false));
    request.once('timeout', () => { request.destroy(); resolve(false); });
  });
}

/** One start: spawn, poll until ready, rest `idleMs`, read RSS, stop. */
export async function timeOneStart(start: StartCommand, idleMs = 1000, timeoutMs = 20_000): Promise<StartSample> {
  const port = await freePort();
  const check = start.ready === 'readyz' ? readyzAnswers : portAccepts;
  const begun = performance.now();
  const entry = startProcess(start.label, start.command, start.args(port), { ...(start.cwd !== undefined ? { cwd: start.cwd } : {}), ...(start.env !== undefined ? { env: start.env } : {}) });
  try {
    while (!(await check(port))) {
      if (!entry.running) throw new Error(`${start.label} exited before it was ready`);
      if (performance.now() - begun > timeoutMs) throw new Error(`${start.label} was not ready within ${timeoutMs} ms`);
      await sleep(pollMs);
    }
    const readyMs = performance.now() - begun;
    await sleep(idleMs);
    return { readyMs, idleRssMb: rssMb(processTree(entry.pid)) };
  } finally {
    await stopProcess(entry);
  }
}

/** `runs` starts after one unmeasured start (which fills the compile cache when it is on). */
export async function timeStarts(start: StartCommand, runs: number, idleMs = 1000): Promise<StartSummary> {
  await timeOneStart(start, 0);
  const samples: StartSample[] = [];
  for (let i = 0; i < runs; i++) samples.push(await timeOneStart(start, idleMs));
  return summarize(start.label, samples);
}

export function summarize(label: string, samples: StartSample[]): StartSummary {
  return { label, samples, readyMs: median(samples.map((sample) => sample.readyMs)), idleRssMb: median(samples.map((sample) => sample.idleRssMb)) };
}

/** A fresh, empty compile-cache directory (a cold start); remove it with `dropCacheDir`. */
export function freshCacheDir(): string {
  return mkdtempSync(join(tmpdir(), 'switchyard-bench-cache-'));
}

export function dropCacheDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Switchyard as `npm start` starts it (bin/switchyard.js, the same V8 flags), one worker. */
export function switchyardStart(node: string, root: string, label: string, configFile: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = root, bin = join(root, 'bin/switchyard.js')): StartCommand {
  return {
    label, command: node, cwd, env, ready: 'readyz',
    args: (port) => ['--max-semi-space-size=16', '--no-allocation-site-pretenuring', bin,
      ...(configFile === undefined ? [] : ['--config', configFile]), '--port', String(port), '--workers', '1'],
  };
}

/** bench/floor/proxy.mjs, as the harness starts it: ready when its port accepts. */
export function floorStart(node: string, root: string, mockPort: number): StartCommand {
  return {
    label: 'Node floor', command: node, cwd: root, ready: 'port',
    args: (port) => ['--max-semi-space-size=16', '--no-allocation-site-pretenuring', join(root, 'bench/floor/proxy.mjs'), String(port), `http://127.0.0.1:${mockPort}`],
  };
}
