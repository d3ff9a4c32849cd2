// The contract between the gateway and one agent CLI used as a provider ("use your
// subscriptions": Claude Code, Codex, Gemini CLI, opencode). Types only.
//
// The gateway decodes the caller's request (any dialect) to the canonical request, refuses what a
// CLI cannot do (the caller's own function tools), resolves the model and the conversation, waits
// for a slot of the provider's concurrency, and hands the turn to the provider's driver. The driver
// talks to its CLI — a persistent machine protocol with long-lived workers where the CLI has one,
// else one process per turn — and reports the answer as canonical stream parts; the gateway renders
// them in the caller's dialect, streamed or whole, and records usage as subscription usage.
import type { PartSink } from '../canonical/adapters.ts';
import type { CanonicalRequest } from '../canonical/request.ts';

export type AgentCliType = 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';

/**
 * `llm` (default): the CLI answers as a model — its tools off, nothing to approve, nothing runs on
 * the host even if the model asks. `agent`: the CLI may use its own tools, in a per-session working
 * directory under the state directory (opt-in per provider; allowed only with client keys).
 */
export type AgentCliMode = 'llm' | 'agent';

/** How a driver talks to its CLI; shown in `/v1/providers`. */
export type AgentCliProtocol =
  /** Claude Code: `--input-format stream-json --output-format stream-json --verbose`. */
  | 'stream-json'
  /** Codex: `codex app-server`, JSON-RPC over stdio. */
  | 'app-server'
  /** Gemini CLI: `gemini --acp`, the Agent Client Protocol (JSON-RPC over stdio). */
  | 'acp'
  /** opencode: its HTTP API (`/session/{id}/message`, SSE `/event`). */
  | 'http'
  /** One process per turn (`claude -p`, `codex exec --json`, `gemini -p -o stream-json`). */
  | 'one-shot';

/** A configured agent-CLI provider, as the driver needs it (resolved at config load). */
export interface AgentCliSettings {
  /** The provider's name (for messages and logs). */
  readonly name: string;
  readonly type: AgentCliType;
  /** The executable, resolved (absolute path, or the name to find on PATH). */
  readonly command: string;
  /** Extra arguments from the config, appended after the driver's own. */
  readonly args: readonly string[];
  /** The environment for the CLI: the gateway's, with the config's `env` merged over it. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly mode: AgentCliMode;
  /**
   * A directory the driver owns (under the state directory): an empty working directory for `llm`
   * mode, the parent of per-session working directories for `agent` mode, and room for anything
   * else the CLI needs written (never the user's own CLI config).
   */
  readonly workDir: string;
  /** opencode: the URL of a server already running; absent = the driver starts and manages one. */
  readonly baseUrl?: string;
  /** Models named in the config; when empty the driver lists them from the CLI. */
  readonly models: readonly string[];
}

/** One turn: what the caller asked, ready for the CLI. */
export interface AgentTurn {
  /** The caller's request, decoded; it carries no caller function tools (refused before). */
  readonly request: CanonicalRequest;
  /** The model to pass to the CLI — always passed, never left to the CLI's default. */
  readonly model: string;
  /**
   * A stable id of the conversation this turn continues (from a session header, or derived from
   * the conversation's first messages), for the CLI's own session (`--session-id`/`--resume`, a
   * Codex thread, an opencode session). Undefined: a one-off turn, the history flattened.
   */
  readonly conversation: string | undefined;
  /** Aborted when the client leaves or a deadline passes: the CLI's work ends within 250 ms. */
  readonly signal: AbortSignal;
  /**
   * The driver calls it once the CLI no longer works on the turn: answered, failed, or after an
   * abort the interrupt done or the process gone. The gateway holds the turn's concurrency slot
   * after an abort until then (at most the 250 ms an abort may take), so the CLI never runs more
   * turns at once than the provider's `concurrency`.
   */
  readonly onSettled?: () => void;
}

/** What a CLI reported of its cost for a turn, besides tokens (Claude's `total_cost_usd`). */
export interface AgentTurnReport {
  /** The CLI's own figure, in USD, when it gives one. */
  reportedCostUsd?: number;
  /** The CLI's session or thread id used for this turn. */
  session?: string;
}

/**
 * A driver runs turns on its CLI. Parts follow the canonical stream contract
 * (src/canonical/stream.ts): one `response-start` first, sequential text/reasoning blocks, `usage`
 * when known, and exactly one `response-end` or `error` last.
 *
 * Errors: an `error` part with the gateway's error info — before any content part the gateway may
 * still answer with a status (or try another target); after it, the caller gets its dialect's error
 * event. Never an empty success: `is_error` results, failed turns, a non-zero exit (with the tail
 * of stderr, secrets redacted), a protocol the driver cannot read are all errors. A rate-limit
 * report is `status: 429, errorClass: 'rate-limited'` with `retryAfterSeconds` when the CLI says
 * when the window resets. The client leaving (the signal) ends the turn without any part.
 */
export interface AgentCliDriver {
  readonly protocol: AgentCliProtocol;
  /** Starts a turn; parts go to `sink` as they come. Returns at once. */
  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void;
  /** The models the CLI offers (Claude's `initialize`, Codex `model/list`, ACP `availableModels`, opencode `/config/providers`). */
  listModels(signal: AbortSignal): Promise<readonly string[]>;
  /** For `/v1/providers` and the status page: protocol, workers, what is running. */
  describe(): AgentCliState;
  /** Ends every worker (kills their process groups); turns in flight end with an error part. */
  close(): Promise<void>;
}

export interface AgentCliState {
  protocol: AgentCliProtocol;
  /** Long-lived workers running now (0 for one-shot). */
  workers: number;
  /** Turns running now. */
  running: number;
  /** The CLI's version, once known. */
  version?: string;
  /** Why the persistent protocol is not used, when the driver fell back to one-shot. */
  fallbackReason?: string;
}

/** Builds a driver for one configured provider. */
export type AgentCliDriverFactory = (settings: AgentCliSettings) => AgentCliDriver;
