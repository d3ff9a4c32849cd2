// A scripted stand-in for an agent-CLI driver (src/agent-clis/driver.ts), for testing the gateway's
// side of the contract without any CLI: each turn plays a script of canonical parts, waits and
// reports, asynchronously, and stops at once when the turn's signal aborts (as a real driver's CLI
// work must). Every turn and every driver built are recorded.
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { ErrorInfo } from '../../src/canonical/errors.ts';
import type {
  AgentCliDriver, AgentCliDriverFactory, AgentCliProtocol, AgentCliSettings, AgentCliState, AgentTurn, AgentTurnReport,
} from '../../src/agent-clis/driver.ts';

export type Step =
  | StreamPart
  | { wait: number }
  | { report: AgentTurnReport }
  /** Never ends on its own: only the signal stops it. */
  | { hang: true };

export type Script = (turn: AgentTurn) => Step[];

export interface RecordedTurn {
  turn: AgentTurn;
  /** The driver (provider) it ran on. */
  provider: string;
  aborted: boolean;
  /** Parts sent to the sink. */
  sent: StreamPart[];
  ended: Promise<void>;
  /** Turns aborted before this one ran whose CLI work had not ended yet (onSettled not called). */
  unsettledAtStart: number;
}

/** A plain answer: start, one text block in `chunks`, usage, end. */
export function textAnswer(text: string, options: { model?: string; chunks?: number; usage?: { inputTokens: number; outputTokens: number }; waitMs?: number } = {}): Step[] {
  const chunks = Math.max(1, options.chunks ?? 3);
  const size = Math.ceil(text.length / chunks);
  const steps: Step[] = [{ type: 'response-start', id: 'msg_fake', model: options.model ?? '', created: 1_700_000_000 }, { type: 'text-start', index: 0 }];
  for (let i = 0; i < text.length; i += size) {
    if (options.waitMs !== undefined && i > 0) steps.push({ wait: options.waitMs });
    steps.push({ type: 'text-delta', index: 0, delta: text.slice(i, i + size) });
  }
  const usage = options.usage ?? { inputTokens: 11, outputTokens: 7 };
  steps.push({ type: 'text-end', index: 0 }, { type: 'usage', usage }, { type: 'response-end', finishReason: 'stop', usage });
  return steps;
}

export function errorPart(error: Partial<ErrorInfo> & { status: number; message: string }): StreamPart {
  return {
    type: 'error',
    error: {
      code: error.code ?? 'SWY_ERR_UPSTREAM_STATUS', status: error.status, message: error.message, origin: 'upstream',
      errorClass: error.errorClass ?? (error.status === 429 ? 'rate-limited' : error.status >= 500 ? 'server-error' : 'client-error'),
      retryable: false, fallbackAllowed: true,
      ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
      ...(error.upstreamStatus !== undefined ? { upstreamStatus: error.upstreamStatus } : {}),
    },
  };
}

class FakeDriver implements AgentCliDriver {
  readonly protocol: AgentCliProtocol;
  readonly settings: AgentCliSettings;
  private readonly cli: FakeAgentCli;
  running = 0;
  closed = false;

  constructor(cli: FakeAgentCli, settings: AgentCliSettings) {
    this.cli = cli;
    this.settings = settings;
    this.protocol = cli.protocol;
  }

  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void {
    const steps = this.cli.script(turn);
    let finish!: () => void;
    const record: RecordedTurn = { turn, provider: this.settings.name, aborted: false, sent: [], ended: new Promise((resolve) => { finish = resolve; }), unsettledAtStart: this.cli.unsettled };
    this.cli.turns.push(record);
    this.running++;
    let index = 0;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      this.running--;
      finish();
    };
    const onAbort = () => {
      record.aborted = true;
      end();
      // the CLI's work ends now, or a while later (settleAfterAbortMs), as a real CLI's interrupt does
      const delay = this.cli.settleAfterAbortMs;
      if (delay === undefined) {
        turn.onSettled?.();
        return;
      }
      this.cli.unsettled++;
      if (delay === Infinity) return;
      setTimeout(() => {
        this.cli.unsettled--;
        turn.onSettled?.();
      }, delay);
    };
    turn.signal.addEventListener('abort', onAbort, { once: true });
    const step = (): void => {
      timer = undefined;
      while (index < steps.length) {
        if (turn.signal.aborted) return;
        const next = steps[index++]!;
        if ('wait' in next) {
          timer = setTimeout(step, next.wait);
          return;
        }
        if ('hang' in next) return;
        if ('report' in next) {
          report(next.report);
          continue;
        }
        record.sent.push(next);
        sink.onPart(next);
        if (next.type === 'response-end' || next.type === 'error') {
          turn.signal.removeEventListener('abort', onAbort);
          end();
          turn.onSettled?.();
          return;
        }
        // one part per tick, as a CLI's output arrives
        timer = setTimeout(step, 0);
        return;
      }
    };
    timer = setTimeout(step, 0);
  }

  listModels(): Promise<readonly string[]> {
    this.cli.listed++;
    return Promise.resolve(this.cli.models);
  }

  describe(): AgentCliState {
    return { protocol: this.protocol, workers: this.closed ? 0 : 1, running: this.running, version: '9.9.9-fake', ...(this.cli.fallbackReason !== undefined ? { fallbackReason: this.cli.fallbackReason } : {}) };
  }

  close(): Promise<void> {
    this.closed = true;
    this.cli.closedDrivers.push(this.settings.name);
    return Promise.resolve();
  }
}

/** One fake CLI type: its factory builds drivers that all play `script`. */
export class FakeAgentCli {
  script: Script = (turn) => textAnswer(`Hello from ${turn.model}.`, { model: turn.model });
  models: string[] = ['fake-large', 'fake-small'];
  protocol: AgentCliProtocol = 'stream-json';
  fallbackReason: string | undefined = undefined;
  readonly turns: RecordedTurn[] = [];
  readonly drivers: FakeDriver[] = [];
  readonly closedDrivers: string[] = [];
  listed = 0;
  /** After an abort, when the driver says the CLI's work has ended: undefined at once, Infinity never. */
  settleAfterAbortMs: number | undefined = undefined;
  /** Aborted turns not settled yet. */
  unsettled = 0;

  readonly factory: AgentCliDriverFactory = (settings) => {
    const driver = new FakeDriver(this, settings);
    this.drivers.push(driver);
    return driver;
  };
}
