// The connection to the shared state store (Redis or Valkey, `state.redis`) and what every shared
// store needs from it: the scripts, key names under `state.key_prefix`, whether the server answers
// now, and the leases of holds in flight.
//
// Availability. Commands are never queued while the server is away (no offline queue, no retry
// of a command), and each has `state.timeout_ms`: a request never waits longer for Redis than
// that. A command that fails for the connection's sake (refused, reset, timed out) puts the link
// down: the stores answer from their in-process state from then on without asking the server,
// the outage is logged once and counted. The client reconnects by itself; a server that is up but
// silent (paused) is probed once a second. When it answers again, the stores send what they
// counted meanwhile, then the `onReturn` listeners run (the budget ledger reads spend again).
//
// Cost. A request sends few commands: one script takes all of its limits, one settles them, and
// a session's pin is one read (redis-limit-batches.ts, redis-sessions.ts).
//
// Leases. A slot (`max_concurrent`) or a budget hold is a member of a sorted set scored by its
// expiry on the server's clock. This process renews the leases of its requests in flight every
// LEASE_MS / 3; an instance that dies stops renewing, and its holds expire within LEASE_MS.
import { Redis } from 'ioredis';
import { passwordOf } from '../util/url-password.ts';
import type { SharedStateLink } from './interfaces.ts';
import { BUDGET_ADD, BUDGET_RECORD, HEALTH_PUT, HEALTH_READ, LEASE_RENEW, LIMITS_SETTLE, LIMITS_TAKE, PIN_GET, PIN_RAISE, PROBE_CLAIM, PROBE_RELEASE, RATE_ADD } from './redis-scripts.ts';

/** How long a hold outlives the last renewal of the instance that took it. */
export const LEASE_MS = 30_000;
const PROBE_MS = 1000;
/** Keys kept per kind (`key`): past it they are built anew. */
const MAX_KEYS_KEPT = 10_000;

/** What the link logs through (the gateway's logger). */
export interface StateLogger {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
}

export interface RedisLinkOptions {
  readonly url: string;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly logger: StateLogger;
  /** Lease length (tests shorten it). */
  readonly leaseMs?: number;
}

// a script without `numberOfKeys` is given the number of its keys first
const SCRIPTS = {
  swyLimitsTake: { lua: LIMITS_TAKE },
  swyLimitsSettle: { lua: LIMITS_SETTLE },
  swyRateAdd: { numberOfKeys: 1, lua: RATE_ADD },
  swyLeaseRenew: { numberOfKeys: 1, lua: LEASE_RENEW },
  swyBudgetRecord: { numberOfKeys: 1, lua: BUDGET_RECORD },
  swyBudgetAdd: { numberOfKeys: 1, lua: BUDGET_ADD },
  swyHealthPut: { numberOfKeys: 1, lua: HEALTH_PUT },
  swyHealthRead: { numberOfKeys: 1, lua: HEALTH_READ },
  swyProbeClaim: { numberOfKeys: 1, lua: PROBE_CLAIM },
  swyProbeRelease: { numberOfKeys: 1, lua: PROBE_RELEASE },
  swyPinGet: { numberOfKeys: 1, lua: PIN_GET },
  swyPinRaise: { numberOfKeys: 1, lua: PIN_RAISE },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
type ScriptCall = (...keysAndArgs: (string | number)[]) => Promise<unknown>;

export class RedisLink implements SharedStateLink {
  readonly client: Redis;
  readonly prefix: string;
  readonly leaseMs: number;
  available = false;
  outages = 0;
  private outage = false;
  private closed = false;
  private probe: NodeJS.Timeout | undefined = undefined;
  private readonly renewal: NodeJS.Timeout;
  private readonly logger: StateLogger;
  private readonly secret: string | undefined;
  /** Sent the counts of an outage, in order, before the listeners. */
  private readonly catchUps: (() => void)[] = [];
  private readonly listeners: (() => void)[] = [];
  /** Run each time the server answers, the first time included (after the catch-ups). */
  private readonly connectedListeners: (() => void)[] = [];
  /** Lease set → holders in flight in this process. */
  private readonly leases = new Map<string, Set<string>>();
  private connected: (() => void) | undefined = undefined;
  /** The connection in subscriber mode (pub/sub), made on the first `subscribe`. */
  private subscriber: Redis | undefined = undefined;
  private readonly channels = new Map<string, { readonly onMessage: (message: string) => void; readonly onSubscribed: () => void }>();
  /** Keys built, by kind and name. */
  private readonly keys = new Map<string, Map<string, string>>();

  constructor(options: RedisLinkOptions) {
    this.prefix = options.keyPrefix;
    this.logger = options.logger;
    this.leaseMs = options.leaseMs ?? LEASE_MS;
    this.secret = passwordOf(options.url);
    this.client = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(1000, options.timeoutMs),
      retryStrategy: (times) => Math.min(50 * times, 1000),
      scripts: SCRIPTS,
      // no automatic pipelining: a request sends three commands (its limits taken, its pin read,
      // its limits settled), and batching them with other requests' cost the gateway more CPU
      // (a pipeline per event-loop turn) than the writes it saved (docs/performance.md, scenario 9)
    });
    this.client.on('ready', () => this.up());
    this.client.on('error', (error: Error) => this.failed(error));
    this.client.on('close', () => {
      if (this.available) this.down(new Error('connection closed'));
    });
    this.renewal = setInterval(() => this.renew(), Math.max(10, Math.floor(this.leaseMs / 3)));
    this.renewal.unref();
  }

  /** Resolves once connected, or after `ms` (the gateway does not wait longer to start). */
  whenConnected(ms: number): Promise<void> {
    if (this.available) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.connected = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * `<prefix><kind>:{<name>}` — the braces keep one counter's keys in one cluster slot (though a
   * request's limits, several counters, go in one script: the link speaks to one server, not to a
   * Redis Cluster). Kept once built: the same few names (a key's counters, a session's pin) come
   * back request after request.
   */
  key(kind: string, name: string): string {
    let names = this.keys.get(kind);
    if (names === undefined) this.keys.set(kind, (names = new Map()));
    let key = names.get(name);
    if (key === undefined) {
      if (names.size >= MAX_KEYS_KEPT) names.clear();
      names.set(name, (key = `${this.prefix}${kind}:{${name.replaceAll('\0', ':')}}`));
    }
    return key;
  }

  /** Runs a script (atomic on the server). */
  run(script: ScriptName, keysAndArgs: (string | number)[]): Promise<unknown> {
    return (this.client as unknown as Record<ScriptName, ScriptCall>)[script](...keysAndArgs);
  }

  /**
   * A command failed. A refused, lost or silent connection puts the link down; an error the
   * server answered (a script's) does not.
   */
  failed(error: unknown): void {
    if ((error as { name?: string } | undefined)?.name === 'ReplyError') {
      this.logger.warn({ err: this.redact(error) }, 'the shared state store refused a command');
      return;
    }
    this.down(error);
  }

  onReturn(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Called each time the server answers — at the first connection and after each outage, once
   * the catch-ups are sent (health and pins read the fleet's state then).
   */
  onConnected(listener: () => void): void {
    this.connectedListeners.push(listener);
  }

  /** Sends what a store counted during an outage (before the `onReturn` listeners run). */
  onCatchUp(send: () => void): void {
    this.catchUps.push(send);
  }

  /**
   * Receives the messages published on `channel` (a second connection, in subscriber mode). The
   * client subscribes again by itself after a reconnection; messages sent while it was away are
   * lost: `onSubscribed` runs each time the subscription is (again) in place, for the caller to
   * read the state the messages summarise.
   */
  subscribe(channel: string, onMessage: (message: string) => void, onSubscribed: () => void): void {
    this.channels.set(channel, { onMessage, onSubscribed });
    let subscriber = this.subscriber;
    if (subscriber === undefined) {
      const connection = this.subscriber = this.client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
      connection.on('message', (from: string, message: string) => this.channels.get(from)?.onMessage(message));
      // (again) on each connection: subscribing twice to a channel changes nothing
      connection.on('ready', () => {
        for (const [name, listener] of this.channels) connection.subscribe(name).then(() => listener.onSubscribed(), () => {});
      });
      // the command connection counts outages and logs them; this one only reconnects
      connection.on('error', () => {});
      subscriber = connection;
    }
    if (subscriber.status === 'ready') subscriber.subscribe(channel).then(onSubscribed, () => {});
  }

  lease(set: string, holder: string): void {
    let holders = this.leases.get(set);
    if (holders === undefined) this.leases.set(set, (holders = new Set()));
    holders.add(holder);
  }

  unlease(set: string, holder: string): void {
    const holders = this.leases.get(set);
    if (holders === undefined) return;
    holders.delete(holder);
    if (holders.size === 0) this.leases.delete(set);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.available = false;
    clearInterval(this.renewal);
    this.stopProbe();
    this.client.disconnect();
    this.subscriber?.disconnect();
  }

  private down(error: unknown): void {
    if (this.closed) return;
    this.available = false;
    if (!this.outage) {
      this.outage = true;
      this.outages++;
      this.logger.warn({ err: this.redact(error) },
        'the shared state store (state.redis) cannot be reached: limits, budgets, the cache, provider health and session pins are kept in this process until it returns (auth.on_store_failure)');
    }
    this.startProbe();
  }

  private up(): void {
    if (this.closed) return;
    const returning = this.outage;
    this.outage = false;
    this.available = true;
    this.stopProbe();
    if (this.connected !== undefined) {
      this.connected();
      this.connected = undefined;
    }
    if (returning) {
      this.logger.info({}, 'the shared state store (state.redis) answers again: sending what this process counted meanwhile');
      for (const send of this.catchUps) send();
    }
    for (const listener of this.connectedListeners) listener();
    if (returning) for (const listener of this.listeners) listener();
  }

  /** While down: a server that is connected but silent (paused) is asked once a second. */
  private startProbe(): void {
    if (this.probe !== undefined || this.closed) return;
    this.probe = setInterval(() => {
      if (this.client.status !== 'ready') return; // reconnecting: 'ready' will say when it is back
      this.client.ping().then(() => this.up(), () => {});
    }, PROBE_MS);
    this.probe.unref();
  }

  private stopProbe(): void {
    if (this.probe === undefined) return;
    clearInterval(this.probe);
    this.probe = undefined;
  }

  private renew(): void {
    if (!this.available || this.leases.size === 0) return;
    for (const [set, holders] of this.leases) {
      this.run('swyLeaseRenew', [set, this.leaseMs, ...holders]).catch((error: unknown) => this.failed(error));
    }
  }

  private redact(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return this.secret === undefined ? message : message.replaceAll(this.secret, '***');
  }
}
