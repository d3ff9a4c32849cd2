// One CLI process: spawned in its own process group (so everything it starts can be ended with
// it), prompts written to stdin (never argv: Linux caps one argument at 128 KiB), stdout read as
// lines (bounded), the tail of stderr kept for error messages, and an end that is prompt — a
// SIGTERM to the group, then SIGKILL to the group if it has not exited within the grace period.
import { spawn, type ChildProcess } from 'node:child_process';

/** A stdout line longer than this ends the process: a CLI's protocol lines are far smaller. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How much of stderr is kept for error messages. */
const STDERR_TAIL_BYTES = 4096;
/** Between SIGTERM and SIGKILL to the group. */
export const KILL_GRACE_MS = 150;

export interface ChildOptions {
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Each whole stdout line (without its newline), as it arrives. */
  onLine(line: string): void;
  /** The process exited (or could not start: `error` set); called once. */
  onExit(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void;
}

export class CliChild {
  private readonly child: ChildProcess;
  private readonly options: ChildOptions;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stderr: Buffer[] = [];
  private stderrBytes = 0;
  private exited = false;
  private killTimer: NodeJS.Timeout | undefined = undefined;
  private readonly exitWaiters: (() => void)[] = [];

  constructor(options: ChildOptions) {
    this.options = options;
    this.child = spawn(options.command, options.args as string[], {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      // its own process group: kill(-pid) reaches everything the CLI started
      detached: true,
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => this.onStderr(chunk));
    // a CLI that exits while we write gets EPIPE: reported through the exit, not thrown
    this.child.stdin!.on('error', () => {});
    this.child.once('error', (error) => this.finish(null, null, error));
    // 'close' rather than 'exit': stdout has been read to its end by then
    this.child.once('close', (code, signal) => {
      // flush a last line without its newline
      if (this.pendingBytes > 0) this.flushPending();
      this.finish(code, signal, undefined);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** Writes to stdin; false when the process is gone. */
  write(data: string): boolean {
    if (this.exited || this.child.stdin!.destroyed) return false;
    this.child.stdin!.write(data);
    return true;
  }

  /** Closes stdin (end of input for one-shot modes). */
  endInput(): void {
    if (!this.child.stdin!.destroyed) this.child.stdin!.end();
  }

  /** The last bytes the CLI wrote to stderr, as text (for error messages; redact before showing). */
  stderrTail(): string {
    return Buffer.concat(this.stderr).toString('utf8').trim();
  }

  /**
   * Ends the process group: SIGTERM now, SIGKILL after the grace period if it is still alive
   * (`graceMs` 0: SIGKILL at once, for a process that has stopped answering). Resolves once the
   * process has exited.
   */
  kill(graceMs = KILL_GRACE_MS): Promise<void> {
    if (this.exited) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    if (graceMs <= 0) {
      clearTimeout(this.killTimer);
      this.signalGroup('SIGKILL');
    } else if (this.killTimer === undefined) {
      this.signalGroup('SIGTERM');
      this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
      this.killTimer.unref();
    }
    return done;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.exited) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already; the process itself may still need it
      try {
        this.child.kill(signal);
      } catch {
        // exited meanwhile
      }
    }
  }

  private onStdout(chunk: Buffer): void {
    let start = 0;
    let newline = chunk.indexOf(10);
    while (newline >= 0) {
      const piece = chunk.subarray(start, newline);
      if (this.pendingBytes > 0) {
        this.pending.push(piece);
        this.flushPending();
      } else {
        this.emit(piece);
      }
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > MAX_LINE_BYTES) {
        this.pending = [];
        this.pendingBytes = 0;
        void this.kill();
      }
    }
  }

  private flushPending(): void {
    const line = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.emit(line);
  }

  private emit(line: Buffer): void {
    let end = line.length;
    if (end > 0 && line[end - 1] === 13) end--;
    if (end === 0) return;
    this.options.onLine(line.toString('utf8', 0, end));
  }

  private onStderr(chunk: Buffer): void {
    this.stderr.push(chunk);
    this.stderrBytes += chunk.length;
    while (this.stderrBytes - this.stderr[0]!.length >= STDERR_TAIL_BYTES) this.stderrBytes -= this.stderr.shift()!.length;
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    if (this.exited) return;
    this.exited = true;
    if (this.killTimer !== undefined) clearTimeout(this.killTimer);
    // anything the CLI left running in its group goes with it
    const pid = this.child.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // no group left
      }
    }
    this.options.onExit(code, signal, error);
    for (const resolve of this.exitWaiters.splice(0)) resolve();
  }
}
