// One opencode HTTP server, as the driver uses it: either a server the gateway starts and manages
// (`opencode serve` on 127.0.0.1, a fresh password per start, killed with its process group when
// the driver closes, started again when it dies), or one the user runs (`base_url`), used and never
// stopped. The driver talks to it over one keep-alive pool: API calls with Basic auth, and one
// long-lived SSE stream (`GET /global/event`: the events of every directory the server works in,
// so `agent` mode's per-conversation working directories are seen too) whose events are handed to
// the turn that owns their session.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import type { ErrorInfo } from '../../canonical/errors.ts';
import { SseDecoder, type SseEventSink } from '../../streaming/sse-decoder.ts';
import { isObject, stringFrom, textFrom, type JsonObject } from '../../util/json-value.ts';
import { Pool } from '../../util/undici.ts';
import { CliChild } from '../child.ts';
import type { AgentCliSettings } from '../driver.ts';
import { DEFAULT_USERNAME, LLM_AGENT, serverEnv } from './config.ts';
import { serverLost, serverRefused, serverUnavailable, stderrShown } from './errors.ts';

/** A server that has not said where it listens by then is given up (it loads a lot at start). */
const START_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 30_000;
/** Keep-alive connections to the server: one holds the event stream, the rest carry API calls. */
const CONNECTIONS = 16;
const LISTENING = /listening on (https?:\/\/\S+)/;
/**
 * The largest event taken from the server: opencode echoes each prompt's parts (a whole prompt,
 * inline images included) in its events, so this is above the gateway's body limit (32 MB by
 * default), not the upstream frame limit.
 */
const MAX_EVENT_BYTES = 64 * 1024 * 1024;
/** In the work directory: the managed server's process id, so a gateway that died without closing can end it at its next start. */
const PID_FILE = 'opencode-serve.pid';

/** Events the driver acts on; everything else on the stream (plugin, catalog, diff, heartbeat …) is skipped unparsed. */
const HANDLED_EVENTS = new Set([
  'server.connected', 'message.updated', 'message.part.updated', 'message.part.delta',
  'session.status', 'session.idle', 'session.error', 'permission.asked', 'question.asked',
]);

/** The turn that owns a session gets its events. */
export interface SessionListener {
  onEvent(type: string, properties: JsonObject): void;
  /** The server went away (exited, or its event stream ended) while the session was in use. */
  onServerLost(error: ErrorInfo): void;
}

export interface CallResult {
  status: number;
  text: string;
}

type State = 'stopped' | 'starting' | 'ready' | 'closed';

/** A free TCP port on 127.0.0.1, for `--port` (opencode's own `--port 0` tries 4096 first: the user's own server's port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Ends a server a previous gateway process left running (it was killed before it could close
 * it: the server has its own process group, so nothing else ends it). Only a process that is
 * `opencode serve` by its command line and works in this directory (read from /proc, so Linux
 * only) is ended, never a process that merely got the same id.
 */
function reapStale(workDir: string): void {
  const file = join(workDir, PID_FILE);
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return;
  }
  rmSync(file, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!commandLine.includes('serve') || !commandLine.some((part) => /opencode/.test(part))) return;
    if (readlinkSync(`/proc/${pid}/cwd`) !== resolve(workDir)) return;
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone, not ours, or no /proc: nothing to end
  }
}

/** Secrets in the provider's environment, kept out of every message built from the server's stderr. */
function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= 8 && /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i.test(name)) secrets.push(value);
  }
  return secrets;
}

export class OpencodeServer implements SseEventSink {
  private readonly settings: AgentCliSettings;
  private readonly managed: boolean;
  private state: State = 'stopped';
  private starting: Promise<void> | undefined = undefined;
  private child: CliChild | undefined = undefined;
  private pool: Pool | undefined = undefined;
  private pathPrefix = '';
  private origin: string | undefined = undefined;
  private authorization = '';
  private secrets: string[] = [];
  private events: SseDecoder | undefined = undefined;
  private eventStream: AbortController | undefined = undefined;
  private connected: (() => void) | undefined = undefined;
  private readonly listeners = new Map<string, SessionListener>();
  /** The server's version (`GET /global/health`), once connected. */
  version: string | undefined = undefined;
  /** Whether the gateway's `llm` agent exists on this server (a managed one; a user's server lacks it). */
  hasLlmAgent = false;

  constructor(settings: AgentCliSettings) {
    this.settings = settings;
    this.managed = settings.baseUrl === undefined;
  }

  /** A process the gateway started is running. */
  get running(): boolean {
    return this.managed && this.state === 'ready';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Where the server listens, once connected (for the status page and tests). */
  get url(): string | undefined {
    return this.state === 'ready' && this.origin !== undefined ? this.origin + this.pathPrefix : undefined;
  }

  /** The managed server's process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts (or connects to) the server once; concurrent callers share the attempt. Rejects with an ErrorInfo. */
  ensure(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(serverUnavailable(this.settings.name, 'the provider is closed'));
    if (this.starting === undefined) {
      this.state = 'starting';
      this.starting = (this.managed ? this.startManaged() : this.connect(new URL(this.settings.baseUrl!), this.externalAuthorization())).then(
        () => {
          this.starting = undefined;
          if (this.state === 'starting') {
            this.state = 'ready';
            return;
          }
          // closed while it started: what the start opened goes too
          this.teardown();
          const child = this.child;
          this.child = undefined;
          if (child !== undefined) void child.kill();
          throw serverUnavailable(this.settings.name, 'the provider is closed');
        },
        (error: unknown) => {
          this.starting = undefined;
          this.teardown();
          if (this.state === 'starting') this.state = 'stopped';
          throw isObject(error) && typeof error.status === 'number' ? error : serverUnavailable(this.settings.name, (error as Error).message ?? String(error));
        },
      );
    }
    return this.starting;
  }

  subscribe(session: string, listener: SessionListener): void {
    this.listeners.set(session, listener);
  }

  unsubscribe(session: string, listener: SessionListener): void {
    if (this.listeners.get(session) === listener) this.listeners.delete(session);
  }

  /** One API call; resolves with the status and body text, rejects (ErrorInfo) when the server cannot be reached. */
  async call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<CallResult> {
    const pool = this.pool;
    if (pool === undefined) throw serverUnavailable(this.settings.name, 'not connected');
    try {
      const response = await pool.request({
        method,
        path: this.pathPrefix + path,
        headers: body === undefined
          ? { authorization: this.authorization, accept: 'application/json' }
          : { authorization: this.authorization, accept: 'application/json', 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headersTimeout: CALL_TIMEOUT_MS,
        bodyTimeout: CALL_TIMEOUT_MS,
      });
      return { status: response.statusCode, text: await response.body.text() };
    } catch (error) {
      throw serverUnavailable(this.settings.name, (error as Error).message);
    }
  }

  /** An API call whose answer must be 2xx JSON; rejects with an ErrorInfo otherwise. */
  async json(method: 'GET' | 'POST', path: string, what: string, body?: unknown): Promise<unknown> {
    const result = await this.call(method, path, body);
    if (result.status < 200 || result.status > 299) throw serverRefused(this.settings.name, what, result.status, result.text);
    if (result.text === '') return undefined;
    try {
      return JSON.parse(result.text) as unknown;
    } catch {
      throw serverRefused(this.settings.name, what, result.status, `not JSON: ${result.text.slice(0, 100)}`);
    }
  }

  /**
   * After a call could not reach the server: whether it is gone (its process exited, or it does
   * not answer a health check), in which case it is let go and the next ensure() starts or
   * connects to it again. False when it is fine (the failure was the call's own).
   */
  async recover(): Promise<boolean> {
    if (this.state !== 'ready') return this.state === 'stopped';
    if (this.child === undefined || !this.child.hasExited) {
      try {
        // any answer (even a refusal of the credentials) means it is there
        await this.call('GET', '/global/health');
        return false;
      } catch {
        // unreachable: gone
      }
    }
    this.lost('it stopped answering');
    return true;
  }

  /** Ends the event stream and, for a managed server, the process group. A user's server keeps running. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    const child = this.child;
    this.teardown();
    this.loseAll('the provider is closing');
    if (child !== undefined) {
      await child.kill();
      rmSync(join(this.settings.workDir, PID_FILE), { force: true });
    }
  }

  // --- SSE sink ---------------------------------------------------------------------------------

  onEvent(_event: string, data: string): void {
    // skip the stream's noise unparsed: an event's type comes before its properties
    // (`{"directory":…,"payload":{"id":…,"type":"…","properties":{…}}}`)
    const at = data.indexOf('"type":"');
    const properties = data.indexOf('"properties":');
    if (at >= 0 && (properties < 0 || at < properties)) {
      const end = data.indexOf('"', at + 8);
      if (end > 0 && !HANDLED_EVENTS.has(data.slice(at + 8, end))) return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    const event = isObject(parsed) && isObject(parsed.payload) ? parsed.payload : parsed;
    if (!isObject(event)) return;
    const type = textFrom(event.type);
    if (type === 'server.connected') {
      this.connected?.();
      return;
    }
    const eventProperties = event.properties;
    if (!isObject(eventProperties)) return;
    const session = stringFrom(eventProperties.sessionID);
    if (session === undefined) return;
    this.listeners.get(session)?.onEvent(type, eventProperties);
  }

  onOversized(limit: number): void {
    this.lost(`an event passed ${limit} bytes`);
  }

  // --- starting -----------------------------------------------------------------------------

  private externalAuthorization(): string {
    const env = this.settings.env;
    const password = env.OPENCODE_SERVER_PASSWORD;
    if (password === undefined || password === '') return '';
    this.secrets = [password, ...secretsOf(env)];
    return `Basic ${Buffer.from(`${env.OPENCODE_SERVER_USERNAME ?? DEFAULT_USERNAME}:${password}`).toString('base64')}`;
  }

  private async startManaged(): Promise<void> {
    const { settings } = this;
    mkdirSync(settings.workDir, { recursive: true });
    reapStale(settings.workDir);
    const port = await freePort();
    // closed meanwhile: close() found no process to end, so none may start now
    if (this.state === 'closed') throw new Error('the provider is closed');
    const password = randomBytes(24).toString('base64url');
    const username = DEFAULT_USERNAME;
    const env = serverEnv(settings.env, settings.mode, username, password);
    this.secrets = [password, ...secretsOf(settings.env)];
    const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    let announced: (url: string) => void = () => {};
    let failed: (error: Error) => void = () => {};
    const listening = new Promise<string>((resolve, reject) => {
      announced = resolve;
      failed = reject;
    });
    // logs at WARN and above go to stderr, whose tail explains a failure
    const args = ['serve', '--hostname', '127.0.0.1', '--port', String(port), '--print-logs', '--log-level', 'WARN', ...settings.args];
    const child = new CliChild({
      command: settings.command,
      args,
      env,
      cwd: settings.workDir,
      onLine: (line) => {
        const match = LISTENING.exec(line);
        if (match !== null) announced(match[1]!);
      },
      onExit: (code, signal, error) => {
        const tail = stderrShown(child.stderrTail(), this.secrets);
        const why = error !== undefined
          ? `could not run '${settings.command}': ${error.message}`
          : `exited (${signal ?? `code ${code}`})${tail !== '' ? `: ${tail}` : ''}`;
        failed(new Error(`opencode serve ${why}`));
        if (this.child === child) {
          this.child = undefined;
          this.lost(`opencode serve ${why}`);
        }
      },
    });
    this.child = child;
    if (child.pid !== undefined) writeFileSync(join(settings.workDir, PID_FILE), `${child.pid}\n`);
    const timer = setTimeout(() => failed(new Error(`opencode serve did not start listening within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    try {
      const url = await listening;
      await this.connect(new URL(url), authorization);
    } catch (error) {
      await child.kill();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Opens the pool and the event stream, and reads what the driver needs to know once. */
  private async connect(url: URL, authorization: string): Promise<void> {
    this.authorization = authorization;
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
    this.pool = new Pool(url.origin, { connections: CONNECTIONS, keepAliveTimeout: 60_000 });
    const health = await this.json('GET', '/global/health', 'health check');
    this.version = isObject(health) ? stringFrom(health.version) : undefined;
    await this.openEvents();
    if (this.settings.mode === 'llm') {
      const agents = await this.json('GET', '/agent', 'agent list');
      this.hasLlmAgent = Array.isArray(agents) && agents.some((agent) => isObject(agent) && agent.name === LLM_AGENT);
    }
  }

  private async openEvents(): Promise<void> {
    const pool = this.pool!;
    const controller = new AbortController();
    this.eventStream = controller;
    const decoder = new SseDecoder(MAX_EVENT_BYTES);
    this.events = decoder;
    const connected = new Promise<void>((resolve) => { this.connected = resolve; });
    let response;
    try {
      response = await pool.request({
        method: 'GET',
        path: `${this.pathPrefix}/global/event`,
        headers: { authorization: this.authorization, accept: 'text/event-stream' },
        signal: controller.signal,
        headersTimeout: CALL_TIMEOUT_MS,
        // the stream is quiet between turns (a heartbeat comes every few seconds)
        bodyTimeout: 0,
      });
    } catch (error) {
      throw serverUnavailable(this.settings.name, `event stream: ${(error as Error).message}`);
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '');
      throw serverRefused(this.settings.name, 'event stream', response.statusCode, text);
    }
    const body = response.body;
    body.on('data', (chunk: Buffer) => {
      if (this.events === decoder) decoder.push(chunk, this);
    });
    const ended = (): void => {
      if (this.events === decoder) this.lost('its event stream ended');
    };
    body.once('end', ended);
    body.once('error', ended);
    await connected;
  }

  // --- losing it ----------------------------------------------------------------------------

  /** The server is gone or unusable: every session in use fails, and the next turn starts or connects again. */
  private lost(reason: string): void {
    if (this.state === 'closed') return;
    const child = this.child;
    this.child = undefined;
    this.teardown();
    if (this.state === 'ready') this.state = 'stopped';
    this.loseAll(reason);
    // a managed server that lost its stream is of no use: end it, a new one starts on demand
    if (child !== undefined) void child.kill();
  }

  private loseAll(reason: string): void {
    const error = serverLost(this.settings.name, reason);
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    for (const listener of listeners) listener.onServerLost(error);
  }

  private teardown(): void {
    this.events = undefined;
    this.connected = undefined;
    this.eventStream?.abort();
    this.eventStream = undefined;
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) void pool.destroy().catch(() => {});
  }
}
