// The `switchyard` command as a child process, the way a user runs it: its output collected,
// waited on by pattern, and killed at the end of the test file if it is still running.
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';

export const CLI_ENTRY = new URL('../../src/cli/main.ts', import.meta.url).pathname;

const running = new Set<ChildProcess>();
let cleanupRegistered = false;

export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  /** `env` is the whole environment (PATH is added): no variable of the test runner leaks in. */
  constructor(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
    if (!cleanupRegistered) {
      cleanupRegistered = true;
      after(() => {
        for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
    }
    this.child = spawn(process.execPath, [CLI_ENTRY, ...args], { env: { PATH: process.env.PATH, ...options.env }, cwd: options.cwd });
    running.add(this.child);
    this.child.stdout!.on('data', (chunk) => { this.stdout += chunk; });
    this.child.stderr!.on('data', (chunk) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => {
      running.delete(this.child);
      resolve(code);
    }));
  }

  async waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stderr', timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this[stream].match(pattern);
      if (match !== null) return match;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${stream}:\n${this[stream]}\n--- other:\n${stream === 'stdout' ? this.stderr : this.stdout}`);
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${pattern}:\n${this.stderr}\n${this.stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** The JSON log lines (stdout) written so far, parsed. */
  logs(): Record<string, unknown>[] {
    return this.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

/** Polls `check` until it holds (or throws after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
