// The ACP workers of one provider: one active worker takes new sessions; it is recycled after a
// number of sessions (ACP has no way to close one, and each keeps ~2 MB in the process), with a
// standby started ahead so no turn waits for a cold start; a recycled worker drains (its running
// turns finish) and is then ended. Workers idle for long are ended too. Bounded: at most
// MAX_WORKERS processes (active, standby, draining).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentCliSettings } from '../driver.ts';
import { AcpWorker } from './acp-worker.ts';
import { acpArgs, cliEnv, NEUTRAL_SYSTEM_PROMPT } from './settings.ts';

/** Sessions one worker takes before it is recycled (~2 MB each on top of ~230 MB for the process). */
export const SESSIONS_PER_WORKER = 64;
/** Past this many sessions the next worker is started, to be ready when the active one is full. */
const STANDBY_AT = 48;
/** Active, standby and one draining. */
const MAX_WORKERS = 3;
/** A worker with nothing to do for this long is ended (the next turn starts one). */
const IDLE_WORKER_MS = 15 * 60_000;

/** The CLI could not serve ACP at all (it exited or refused before `initialize` was answered). */
export class AcpUnavailableError extends Error {}

export class WorkerPool {
  private readonly settings: AgentCliSettings;
  private readonly workers = new Set<AcpWorker>();
  private active: AcpWorker | undefined = undefined;
  private standby: AcpWorker | undefined = undefined;
  private idleTimer: NodeJS.Timeout | undefined = undefined;
  private picking: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The CLI's version, from the first worker that answered `initialize`. */
  version: string | undefined = undefined;

  constructor(settings: AgentCliSettings) {
    this.settings = settings;
  }

  get size(): number {
    return this.workers.size;
  }

  /** The worker for a new session, started if needed; throws AcpUnavailableError when the CLI cannot serve ACP. */
  forNewSession(): Promise<AcpWorker> {
    this.cancelIdle();
    // one pick at a time: two turns arriving together must not both start a worker for the same slot
    const picked = this.picking.then(() => this.pick());
    this.picking = picked.catch(() => {});
    return picked.then((worker) => this.started(worker));
  }

  private async pick(): Promise<AcpWorker> {
    let worker = this.active;
    if (worker === undefined || worker.draining || worker.sessionsCreated >= SESSIONS_PER_WORKER) {
      // a full worker keeps serving past its quota only while too many others are still draining
      if (worker !== undefined && !worker.draining && this.standby === undefined && this.workers.size >= MAX_WORKERS) return worker;
      if (worker !== undefined) this.retire(worker);
      worker = this.standby ?? (await this.spawn());
      this.standby = undefined;
      this.active = worker;
    } else if (worker.sessionsCreated >= STANDBY_AT && this.standby === undefined && this.workers.size < MAX_WORKERS) {
      this.standby = await this.spawn();
    }
    return worker;
  }

  /** A turn of `worker` ended (each forNewSession, and each turn on a kept session, ends with one call): a draining worker with none left is ended; an idle pool starts its idle clock. */
  turnEnded(worker: AcpWorker): void {
    worker.turns--;
    if (worker.draining && worker.turns === 0 && worker !== this.active) void worker.kill();
    let turns = 0;
    for (const each of this.workers) turns += each.turns;
    if (turns === 0) this.startIdle();
  }

  /**
   * Takes a worker out of service: no new sessions; ended at once when it runs nothing, else when
   * its last turn ends (turnEnded).
   */
  retire(worker: AcpWorker): void {
    worker.draining = true;
    if (this.active === worker) this.active = undefined;
    if (this.standby === worker) this.standby = undefined;
    if (worker.turns === 0) void worker.kill();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelIdle();
    await Promise.all([...this.workers].map((worker) => worker.kill()));
  }

  private async started(worker: AcpWorker): Promise<AcpWorker> {
    try {
      await worker.ready;
    } catch (failure) {
      this.retire(worker);
      const tail = worker.stderrTail();
      throw new AcpUnavailableError(`${worker.exited ? worker.exitReason : (failure as Error).message}${tail.length > 0 ? `; stderr: ${tail.slice(-500)}` : ''}`);
    }
    this.version ??= worker.version;
    // bound to the turn that asked for it until that turn's turnEnded
    worker.turns++;
    return worker;
  }

  private async spawn(): Promise<AcpWorker> {
    if (this.closed) throw new AcpUnavailableError('the provider is closed');
    const settings = this.settings;
    let systemPromptFile: string | undefined;
    if (settings.mode === 'llm') {
      // the file must exist before the CLI starts: it refuses to run when GEMINI_SYSTEM_MD names none
      systemPromptFile = join(settings.workDir, '.gemini', `system-${process.pid}-${this.workers.size}-${Date.now()}.md`);
      await mkdir(join(settings.workDir, '.gemini'), { recursive: true });
      await writeFile(systemPromptFile, NEUTRAL_SYSTEM_PROMPT);
    }
    const worker = new AcpWorker({
      command: settings.command,
      args: acpArgs(settings),
      env: cliEnv(settings, systemPromptFile),
      cwd: settings.workDir,
      systemPromptFile,
      onExit: (ended) => this.onExit(ended),
    });
    this.workers.add(worker);
    return worker;
  }

  private onExit(worker: AcpWorker): void {
    this.workers.delete(worker);
    if (worker.systemPromptFile !== undefined) void rm(worker.systemPromptFile, { force: true });
    if (this.active === worker) this.active = undefined;
    if (this.standby === worker) this.standby = undefined;
  }

  private startIdle(): void {
    if (this.idleTimer !== undefined || this.workers.size === 0 || this.closed) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      for (const worker of [...this.workers]) {
        if (worker.turns === 0) this.retire(worker);
      }
    }, IDLE_WORKER_MS);
    this.idleTimer.unref();
  }

  private cancelIdle(): void {
    if (this.idleTimer === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}
