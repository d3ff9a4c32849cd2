// Child processes of the harness: each one leads its own process group so it (and whatever it
// forks: Switchyard workers, nginx workers) is stopped by id, on normal exit and on SIGINT.
// Also /proc readers for CPU and RSS of a process tree, and port ownership checks (ss -ltnp).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  running: boolean;
}

const managed = new Set<Managed>();

export interface StartOptions {
  /** File for stdout (appended), or 'pipe' to read it, or nothing to discard it. */
  stdout?: string | 'pipe';
  stderr?: string | 'pipe';
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function startProcess(name: string, command: string, args: readonly string[], options: StartOptions = {}): Managed {
  const open = (target: string | undefined) => target === undefined ? 'ignore' as const : target === 'pipe' ? 'pipe' as const : openSync(target, 'a');
  const stdout = open(options.stdout);
  const stderr = open(options.stderr);
  const child = spawn(command, [...args], { detached: true, stdio: ['ignore', stdout, stderr], env: options.env ?? process.env, cwd: options.cwd });
  for (const fd of [stdout, stderr]) if (typeof fd === 'number') closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const entry: Managed = {
    name, pid: child.pid, child, running: true,
    exited: new Promise((resolve) => child.once('exit', (code) => {
      entry.running = false;
      managed.delete(entry);
      resolve(code);
    })),
  };
  child.once('error', () => { entry.running = false; managed.delete(entry); });
  managed.add(entry);
  return entry;
}

function signalGroup(entry: Managed, signal: NodeJS.Signals): void {
  try {
    process.kill(-entry.pid, signal);
  } catch {
    try { process.kill(entry.pid, signal); } catch { /* already gone */ }
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`. */
export async function stopProcess(entry: Managed, graceMs = 5000): Promise<void> {
  if (!entry.running) return;
  signalGroup(entry, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => { signalGroup(entry, 'SIGKILL'); resolve(); }, graceMs);
  });
  await Promise.race([entry.exited, killed]);
  clearTimeout(timer);
  // The group may outlive its leader (e.g. cluster workers still draining).
  signalGroup(entry, 'SIGKILL');
}

export async function stopAll(): Promise<void> {
  await Promise.all([...managed].map((entry) => stopProcess(entry)));
}

function killAllSync(): void {
  for (const entry of managed) signalGroup(entry, 'SIGKILL');
}

/** Stops every child on exit, Ctrl-C and SIGTERM. */
export function installCleanup(): void {
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping ${managed.size} child process(es)\n`);
      killAllSync();
      process.exit(130);
    });
  }
}

export async function runToEnd(name: string, command: string, args: readonly string[], timeoutMs: number, options: StartOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const entry = startProcess(name, command, args, { stdout: 'pipe', stderr: 'pipe', ...options });
  let stdout = '';
  let stderr = '';
  entry.child.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text; });
  entry.child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
  const timer = setTimeout(() => { stderr += `\n(killed after ${timeoutMs} ms)`; signalGroup(entry, 'SIGKILL'); }, timeoutMs);
  const code = await entry.exited;
  clearTimeout(timer);
  return { code, stdout, stderr };
}

// ----- /proc ------------------------------------------------------------------------------------

const clockTicks = 100; // getconf CLK_TCK on Linux
const statFieldsAfterComm = (pid: number): string[] | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
};

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const child = Number(name);
    if (!Number.isInteger(child)) continue;
    const fields = statFieldsAfterComm(child);
    if (fields === undefined) continue;
    const parent = Number(fields[1]);
    let list = children.get(parent);
    if (list === undefined) children.set(parent, list = []);
    list.push(child);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** User + system CPU of the processes, in microseconds. */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFieldsAfterComm(pid);
    if (fields !== undefined) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * (1_000_000 / clockTicks);
}

function statusKb(pid: number, key: string): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const at = text.indexOf(key + ':');
    return at < 0 ? 0 : Number.parseInt(text.slice(at + key.length + 1), 10);
  } catch {
    return 0;
  }
}

/** Summed resident set size (VmRSS), in MB. */
export function rssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) kb += statusKb(pid, 'VmRSS');
  return kb / 1024;
}

/** Summed peak resident set size (VmHWM) over each process's life, in MB. */
export function hwmMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) kb += statusKb(pid, 'VmHWM');
  return kb / 1024;
}

// ----- ports ------------------------------------------------------------------------------------

/** A port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Pids listening on 127.0.0.1:port according to `ss -ltnp`, and whether anything listens elsewhere on it. */
export function portOwners(port: number): { pids: number[]; addresses: string[] } {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const pids: number[] = [];
  const addresses: string[] = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    addresses.push(line.trim().split(/\s+/)[3] ?? '?');
    for (const match of line.matchAll(/pid=(\d+)/g)) pids.push(Number(match[1]));
  }
  return { pids, addresses };
}

/** Throws unless 127.0.0.1:port is owned by a process of `tree` and by nothing else. */
export function assertPortOwner(port: number, tree: readonly number[], label: string): void {
  const { pids, addresses } = portOwners(port);
  const foreign = pids.filter((pid) => !tree.includes(pid));
  if (pids.length === 0) throw new Error(`${label}: nothing listens on port ${port}`);
  if (foreign.length > 0) throw new Error(`${label}: port ${port} is also owned by pid ${foreign.join(', ')} (not ours)`);
  const wrong = addresses.filter((address) => address !== `127.0.0.1:${port}`);
  if (wrong.length > 0) throw new Error(`${label}: listens on ${wrong.join(', ')}, not only 127.0.0.1:${port}`);
}

export async function waitForPort(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('the process exited before listening');
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
