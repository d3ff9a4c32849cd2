// One `codex app-server` process: JSON-RPC over its stdio (Codex omits the "jsonrpc" member), the
// initialize handshake, and the end of the process reported once. What the messages mean is the
// driver's business (codex-driver.ts); this file only carries them.
import { CliChild } from '../child.ts';
import { JsonRpcError, JsonRpcPeer, type JsonRpcHandlers } from '../json-rpc.ts';
import type { GatewayError } from '../../canonical/errors.ts';
import { objectFrom, stringFrom } from '../../util/json-value.ts';
import type { CodexLaunch } from './codex-launch.ts';
import { exitError, protocolError, secretsOf, startError } from './codex-errors.ts';

/** A worker that has not answered `initialize` by then is taken for broken. */
const INITIALIZE_TIMEOUT_MS = 30_000;

/**
 * Notifications the driver never reads: opting out spares a JSON line per event (command output
 * deltas of an agent turn, diffs, plans, status changes).
 */
const OPT_OUT: readonly string[] = [
  'thread/started', 'thread/status/changed', 'thread/name/updated', 'thread/settings/updated',
  'item/started', 'item/plan/delta', 'turn/plan/updated', 'turn/diff/updated',
  'item/commandExecution/outputDelta', 'item/commandExecution/terminalInteraction', 'item/fileChange/outputDelta',
  'item/fileChange/patchUpdated', 'item/mcpToolCall/progress', 'hook/started', 'hook/completed',
  'serverRequest/resolved', 'remoteControl/status/changed', 'mcpServer/startupStatus/updated', 'skills/changed',
];

export interface WorkerOwner {
  onNotification(worker: AppServerWorker, method: string, params: unknown): void;
  /** A request from Codex to the client (approvals, questions): the answer, or a JsonRpcError. */
  onServerRequest(method: string, params: unknown): unknown;
  /** The process ended (crash, kill, close): every request waiting on it has failed already. */
  onExit(worker: AppServerWorker, error: GatewayError): void;
}

/** Why a worker never became ready, and whether the app-server is there at all. */
export class WorkerStartError extends Error {
  readonly error: GatewayError;
  /** The CLI has no usable app-server (an unknown subcommand, a refused handshake): fall back to one-shot. */
  readonly unsupported: boolean;
  /** The command itself could not be run: no fallback helps. */
  readonly missing: boolean;

  constructor(error: GatewayError, unsupported: boolean, missing: boolean) {
    super(error.message);
    this.error = error;
    this.unsupported = unsupported;
    this.missing = missing;
  }
}

export class AppServerWorker implements JsonRpcHandlers {
  readonly generation: number;
  private readonly owner: WorkerOwner;
  private readonly provider: string;
  private readonly command: string;
  private readonly child: CliChild;
  private readonly peer: JsonRpcPeer;
  private readonly secrets: readonly string[];
  ready = false;
  exited = false;
  version: string | undefined = undefined;
  private spawnError: Error | undefined = undefined;
  private exitCode: number | null = null;

  constructor(launch: CodexLaunch, provider: string, generation: number, owner: WorkerOwner) {
    this.generation = generation;
    this.owner = owner;
    this.provider = provider;
    this.command = launch.command;
    this.secrets = secretsOf(launch.appServerEnv);
    this.peer = new JsonRpcPeer((line) => this.child.write(line), this, { tagged: false });
    this.child = new CliChild({
      command: launch.command,
      args: launch.appServerArgs,
      env: launch.appServerEnv,
      cwd: launch.mode === 'llm' ? launch.llmDirectory : launch.sessionsDirectory,
      onLine: (line) => this.peer.receive(line),
      onExit: (code, signal, error) => this.onChildExit(code, signal, error),
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The initialize handshake; rejects with a WorkerStartError. */
  async start(clientVersion: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to initialize within ${INITIALIZE_TIMEOUT_MS / 1000} s`)), INITIALIZE_TIMEOUT_MS);
    });
    try {
      const result = await Promise.race([
        this.peer.request('initialize', {
          clientInfo: { name: 'switchyard', title: 'Switchyard', version: clientVersion },
          // experimentalApi: a thread without an execution environment (`environments: []`) is an experimental field
          capabilities: { experimentalApi: true, optOutNotificationMethods: OPT_OUT },
        }),
        timeout,
      ]);
      this.peer.notify('initialized');
      // "switchyard/0.171.0 (Debian 12; x86_64) …": the client's name, then Codex's version
      this.version = /^[^/\s]+\/(\S+)/.exec(stringFrom(objectFrom(result)?.userAgent) ?? '')?.[1];
      this.ready = true;
    } catch (failure) {
      await this.child.kill();
      if (this.spawnError !== undefined) throw new WorkerStartError(startError(this.provider, this.command, this.spawnError), false, true);
      // clap's usage errors exit 2: a Codex without `app-server`, or without one of the flags given
      const refused = failure instanceof JsonRpcError;
      const error = refused
        ? protocolError(this.provider, 'initialize', failure)
        : exitError(this.provider, this.exitCode, null, this.child.stderrTail() || (failure as Error).message, this.secrets);
      throw new WorkerStartError(error, refused || this.exitCode === 2, false);
    } finally {
      clearTimeout(timer);
    }
  }

  request(method: string, params: unknown): Promise<unknown> {
    return this.peer.request(method, params);
  }

  notify(method: string, params: unknown): void {
    this.peer.notify(method, params);
  }

  /** Ends the process group (SIGTERM, then SIGKILL; `graceMs` 0: SIGKILL at once); resolves once it has exited. */
  kill(graceMs?: number): Promise<void> {
    return this.child.kill(graceMs);
  }

  onNotification(method: string, params: unknown): void {
    this.owner.onNotification(this, method, params);
  }

  onRequest(method: string, params: unknown): unknown {
    return this.owner.onServerRequest(method, params);
  }

  private onChildExit(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    this.exited = true;
    this.exitCode = code;
    if (error !== undefined) this.spawnError = error;
    const failure = error !== undefined
      ? startError(this.provider, this.command, error)
      : exitError(this.provider, code, signal, this.child.stderrTail(), this.secrets);
    this.peer.close(failure);
    this.owner.onExit(this, failure);
  }
}
