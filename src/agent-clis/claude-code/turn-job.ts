// One turn as the driver runs it: the decoder that turns the CLI's lines into the caller's parts,
// the process it runs on (a persistent worker, or a one-shot child), and its end — once, whichever
// way it comes: the result, the process ending, the client leaving, the driver closing.
import type { PartSink } from '../../canonical/adapters.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import type { CliChild } from '../child.ts';
import type { AgentTurn, AgentTurnReport } from '../driver.ts';
import { ClaudeTurnDecoder } from './turn-decoder.ts';
import type { ClaudeWorker, WorkerTurn } from './worker.ts';

export interface JobHost {
  readonly provider: string;
  readonly interruptGraceMs: number;
  /**
   * Between SIGTERM and SIGKILL when an aborted turn's process is ended: 0 in `llm` mode (nothing
   * of a discarded process is worth keeping, and Claude Code takes 80–230 ms to exit on SIGTERM,
   * past the 250 ms an abort may take), the usual grace in `agent` mode (its session is on disk).
   */
  readonly abortKillGraceMs: number;
  /** The result came on a persistent worker. */
  turnEnded(job: TurnJob): void;
  /** The worker's process ended while the job was on it. */
  workerExited(job: TurnJob, worker: ClaudeWorker, error: Error | undefined): void;
  /** The job is over, whatever way it ended. */
  jobFinished(job: TurnJob): void;
}

export class TurnJob implements WorkerTurn {
  readonly turn: AgentTurn;
  decoder: ClaudeTurnDecoder;
  /** The persistent worker the turn runs on. */
  worker: ClaudeWorker | undefined = undefined;
  /** One-shot mode: the turn's own process. */
  child: CliChild | undefined = undefined;
  /** On abort, ask the CLI to stop and keep the process (it holds a conversation) rather than kill it. */
  keepOnAbort = false;
  aborted = false;
  finished = false;
  private readonly host: JobHost;
  private readonly sink: PartSink;
  private readonly report: (report: AgentTurnReport) => void;
  private abortTimer: NodeJS.Timeout | undefined = undefined;
  /** Bound once per turn: the signal's listener. */
  readonly onAbort: () => void;

  constructor(host: JobHost, turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void) {
    this.host = host;
    this.turn = turn;
    this.sink = sink;
    this.report = report;
    this.decoder = new ClaudeTurnDecoder(sink, report, host.provider, turn.model);
    this.onAbort = () => this.abort();
  }

  /** A new decoder, for a turn that starts over on another process before anything went out. */
  restart(previousTotalCostUsd: number): void {
    this.decoder = new ClaudeTurnDecoder(this.sink, this.report, this.host.provider, this.turn.model, previousTotalCostUsd);
  }

  /** WorkerTurn: the result came. */
  onEnd(): void {
    this.clearAbortTimer();
    this.host.turnEnded(this);
  }

  /** WorkerTurn: the process ended mid-turn. */
  onExit(worker: ClaudeWorker, error: Error | undefined): void {
    if (this.finished || worker !== this.worker) return;
    this.clearAbortTimer();
    if (this.aborted) {
      this.finish();
      return;
    }
    this.host.workerExited(this, worker, error);
  }

  /** Ends the turn with an error part (nothing after it). */
  fail(error: GatewayError): void {
    this.decoder.fail(error);
    this.finish();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.clearAbortTimer();
    this.turn.signal.removeEventListener('abort', this.onAbort);
    this.host.jobFinished(this);
    this.turn.onSettled?.();
  }

  /**
   * The client left: no part goes out any more, and the CLI's work ends — by the protocol's
   * interrupt when the process is worth keeping (it holds a conversation) and answers within the
   * grace period, else by killing its process group.
   */
  private abort(): void {
    if (this.finished || this.aborted) return;
    this.aborted = true;
    this.decoder.silence();
    if (this.child !== undefined) {
      void this.child.kill(this.host.abortKillGraceMs);
      return;
    }
    const worker = this.worker;
    if (worker === undefined) {
      this.finish();
      return;
    }
    if (this.keepOnAbort && worker.ready) {
      worker.interrupt();
      this.abortTimer = setTimeout(() => {
        this.abortTimer = undefined;
        // no result within the grace period: the process has stopped answering, it gets SIGKILL
        if (!this.finished) void worker.kill(0);
      }, this.host.interruptGraceMs);
      return;
    }
    void worker.kill(this.host.abortKillGraceMs);
  }

  private clearAbortTimer(): void {
    if (this.abortTimer === undefined) return;
    clearTimeout(this.abortTimer);
    this.abortTimer = undefined;
  }
}
