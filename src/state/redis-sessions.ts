// Session pins shared by every instance through Redis/Valkey (`state.redis`): the in-process LRU
// (sessions.ts) stays the planner's synchronous copy, and the server holds the fleet's. The lookup
// phase reads a session's pin (`fetch`, one script that also keeps it for another session TTL: a
// read is a use) before the planner looks for it, so a session whose last request went through
// another instance keeps its target. A pin the planner sets is written in the background
// (`SET …pin:{<route>:<session>} "<target> <key>" PX <ttl>`) unless the read just found it on the
// server — the usual case, a session staying on its target costs one command a request, not two.
// While the server is away the local copy answers alone, and the pins made meanwhile are written
// when it returns. A pin that only goes up (`raise`: an auto alias's tier of a session) is raised
// on the server by a script (the higher of the two), never overwritten. A pin names a target by
// its place in the route: instances must run the same config (a pin that does not fit the route
// is ignored, as in process).
import type { RedisLink } from './redis-link.ts';
import { SessionPins } from './sessions.ts';

/** Pins made during an outage, written when the server returns: at most this many. */
const MAX_PENDING = 10_000;
/** Pins found on the server remembered at once, at most (past it, the oldest go: they are written again). */
const MAX_FOUND = 10_000;
/**
 * A pin set as the read found it is not written again when the server's copy then lapses at most
 * this share of a TTL before the local one (the request's time between the read and its commit).
 */
const LAPSE_SHARE = 0.1;

/** A pin as `fetch` found it on the server, and when the server's copy lapses (its TTL renewed then). */
interface Found {
  value: string;
  expires: number;
}

export class RedisSessionPins extends SessionPins {
  private readonly link: RedisLink;
  /** Sessions pinned while the server was away. */
  private readonly pending = new Set<string>();

  constructor(link: RedisLink, max?: number) {
    super(max);
    this.link = link;
  }

  /** Sessions raised (`raise`) while the server was away. */
  private readonly pendingRaised = new Set<string>();
  /** Pins read from the server lately, by session. */
  private readonly found = new Map<string, Found>();

  override set(id: string, target: number, key: number, expires: number): void {
    super.set(id, target, key, expires);
    const found = this.found.get(id);
    // the read that found this pin on the server kept it there for a TTL from then
    if (found !== undefined && expires - found.expires <= LAPSE_SHARE * (expires - Date.now()) && found.value === `${target} ${key}`) return;
    this.share(id, target, key, expires);
  }

  override raise(id: string, target: number, now: number, expires: number): number {
    const raised = super.raise(id, target, now, expires);
    this.shareRaised(id, raised, expires);
    return raised;
  }

  /**
   * Reads the fleet's pin of `id` into the local copy (the planner then finds it), and keeps it on
   * the server for `ttlMs` more. Undefined — no wait — while the server is away. A session the
   * server does not know keeps its local pin.
   */
  fetch(id: string, now: number, ttlMs: number): Promise<undefined> | undefined {
    if (!this.link.available) return undefined;
    return this.link.run('swyPinGet', [this.link.key('pin', id), Math.ceil(ttlMs)]).then((answer) => {
      if (typeof answer !== 'string') return undefined;
      const space = answer.indexOf(' ');
      const target = Number(answer.slice(0, space));
      const key = Number(answer.slice(space + 1));
      if (space <= 0 || !Number.isInteger(target) || !Number.isInteger(key)) return undefined;
      super.set(id, target, key, now + ttlMs);
      this.remember(id, answer, now + ttlMs);
      return undefined;
    }, (error: unknown) => {
      this.link.failed(error);
      return undefined;
    });
  }

  private remember(id: string, value: string, expires: number): void {
    const found = this.found.get(id);
    if (found !== undefined) {
      found.value = value;
      found.expires = expires;
      return;
    }
    if (this.found.size >= MAX_FOUND) {
      const oldest = this.found.keys().next().value;
      if (oldest !== undefined) this.found.delete(oldest);
    }
    this.found.set(id, { value, expires });
  }

  /** The server is back: the pins made while it was away go to it. */
  catchUp(now: number): void {
    for (const id of this.pending) {
      const pin = this.get(id, now);
      if (pin !== undefined) this.share(id, pin.target, pin.key, pin.expires);
    }
    this.pending.clear();
    // raised while away: raised on the server too, never set over a higher value another instance wrote
    for (const id of this.pendingRaised) {
      const pin = this.get(id, now);
      if (pin !== undefined) this.shareRaised(id, pin.target, pin.expires);
    }
    this.pendingRaised.clear();
  }

  private shareRaised(id: string, target: number, expires: number): void {
    const ms = Math.ceil(expires - Date.now());
    if (ms <= 0) return;
    if (!this.link.available) {
      if (this.pendingRaised.size < MAX_PENDING) this.pendingRaised.add(id);
      return;
    }
    this.link.run('swyPinRaise', [this.link.key('pin', id), target, 0, ms]).catch((error: unknown) => {
      this.link.failed(error);
      if (this.pendingRaised.size < MAX_PENDING) this.pendingRaised.add(id);
    });
  }

  private share(id: string, target: number, key: number, expires: number): void {
    const ms = Math.ceil(expires - Date.now());
    if (ms <= 0) return;
    if (!this.link.available) {
      if (this.pending.size < MAX_PENDING) this.pending.add(id);
      return;
    }
    this.link.client.set(this.link.key('pin', id), `${target} ${key}`, 'PX', ms).catch((error: unknown) => {
      this.link.failed(error);
      if (this.pending.size < MAX_PENDING) this.pending.add(id);
    });
  }
}
