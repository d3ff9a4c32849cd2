// The dashboard's sessions (/ui): an admin key, checked once at login, is exchanged for a random
// session id held in an HttpOnly, SameSite=Strict cookie, so the page never keeps the key. Each
// session carries a CSRF token the page must echo (`x-switchyard-csrf`) on every mutating call
// the cookie authenticates. Sessions live in this process's memory: bounded (the oldest goes
// first), ended by logout, idle expiry or their absolute lifetime; a restart logs everyone out.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'switchyard_session';
export const CSRF_HEADER = 'x-switchyard-csrf';
/** Sessions kept at once; a new login past this ends the oldest. */
export const SESSIONS_MAX = 256;
/** A session unused this long ends. */
export const SESSION_IDLE_MS = 2 * 3600_000;
/** A session ends this long after login, used or not. */
export const SESSION_LIFETIME_MS = 12 * 3600_000;

export interface UiSession {
  readonly id: string;
  readonly csrf: string;
  /** Who logged in: the admin key's id (`admin-xxxxxxxx`), or `loopback` without admin keys. */
  readonly adminId: string;
  readonly createdAt: number;
  lastSeen: number;
}

export class UiSessions {
  private readonly sessions = new Map<string, UiSession>();
  private readonly max: number;

  constructor(max = SESSIONS_MAX) {
    this.max = max;
  }

  get size(): number {
    return this.sessions.size;
  }

  create(adminId: string, now = Date.now()): UiSession {
    if (this.sessions.size >= this.max) {
      for (const [id, session] of this.sessions) if (!live(session, now)) this.sessions.delete(id);
      // Map order is insertion order: the first is the oldest login
      if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    }
    const session: UiSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), adminId, createdAt: now, lastSeen: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session the request's cookie names, its idle clock restarted; undefined otherwise. */
  find(headers: IncomingHttpHeaders, now = Date.now()): UiSession | undefined {
    const id = sessionIdOf(headers.cookie);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (!live(session, now)) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Whether the request carries the session's CSRF token (compared in constant time). */
  static csrfMatches(session: UiSession, headers: IncomingHttpHeaders): boolean {
    const presented = headers[CSRF_HEADER];
    if (typeof presented !== 'string' || presented.length !== session.csrf.length) return false;
    return timingSafeEqual(Buffer.from(presented), Buffer.from(session.csrf));
  }
}

function live(session: UiSession, now: number): boolean {
  return now - session.lastSeen < SESSION_IDLE_MS && now - session.createdAt < SESSION_LIFETIME_MS;
}

/** The session id in a Cookie header, if it has one of the right shape (43 base64url characters). */
export function sessionIdOf(cookie: string | undefined): string | undefined {
  if (cookie === undefined) return undefined;
  const at = cookie.indexOf(`${SESSION_COOKIE}=`);
  if (at < 0 || (at > 0 && cookie[at - 1] !== ' ' && cookie[at - 1] !== ';')) return undefined;
  const start = at + SESSION_COOKIE.length + 1;
  let end = cookie.indexOf(';', start);
  if (end < 0) end = cookie.length;
  const value = cookie.slice(start, end).trim();
  return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
}

/** The Set-Cookie value of a session (or, with `undefined`, the one that deletes it). */
export function sessionCookie(session: UiSession | undefined, secure: boolean): string {
  const attributes = `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  if (session === undefined) return `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`;
  return `${SESSION_COOKIE}=${session.id}; ${attributes}; Max-Age=${Math.floor(SESSION_LIFETIME_MS / 1000)}`;
}
