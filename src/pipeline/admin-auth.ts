// Who may use the management API (/v0/management/…): the admin keys (`auth.admin_keys`), never a
// client key. Without admin keys it answers only a caller on loopback, and only when the listener
// itself is bound to loopback (otherwise anyone reaching the port could mint keys). Wrong admin
// keys are counted per client address; past MAX_FAILURES in a window, that address is refused
// (429) until the window ends, whatever it sends — guessing is throttled, not just logged.
// The dashboard's session cookie (pipeline/ui-sessions.ts) stands for the admin key it was given
// for, as long as that key is configured; a mutating call it authenticates must carry the
// session's CSRF token.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { ClientAuth, digest } from './auth.ts';
import { isLoopbackHost } from '../util/loopback.ts';
import { UiSessions, type UiSession } from './ui-sessions.ts';

export const MANAGEMENT_PREFIX = '/v0/management/';
/** Failed attempts allowed per address within a window. */
export const MAX_FAILURES = 5;
const WINDOW_MS = 60_000;
/** Addresses tracked; when full, spent windows are dropped, else the oldest address. */
const ADDRESSES_MAX = 4096;

interface Failures {
  count: number;
  /** Epoch ms when the window ends. */
  resetAt: number;
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}


export class AdminAuth {
  private readonly digests: Buffer[];
  private readonly ids: string[];
  private readonly loopbackListener: boolean;
  private readonly failures = new Map<string, Failures>();
  /** The dashboard's sessions (process-wide, outliving reloads); none: cookies are ignored. */
  readonly sessions: UiSessions | undefined;

  constructor(adminKeys: readonly string[], listenerHost: string, sessions?: UiSessions) {
    this.digests = adminKeys.map(digest);
    this.ids = this.digests.map((value) => `admin-${value.subarray(0, 4).toString('hex')}`);
    this.loopbackListener = isLoopbackHost(listenerHost);
    this.sessions = sessions;
  }

  /** Whether a login is needed (admin keys are configured); without, only the loopback rule applies. */
  get keyed(): boolean {
    return this.digests.length > 0;
  }

  /** The caller's id for the audit log (`admin-xxxxxxxx`, or `loopback` without admin keys); throws 401/403/429. */
  authenticate(request: IncomingMessage, query: string, now = Date.now()): string {
    const address = request.socket.remoteAddress ?? '';
    if (this.digests.length === 0) return this.loopback(address);
    this.throttle(address, now);
    const key = ClientAuth.presentedKey(request.headers, query);
    if (key === undefined) {
      const session = this.session(request, now);
      if (session !== undefined) {
        const method = request.method;
        if (method !== 'GET' && method !== 'HEAD' && !UiSessions.csrfMatches(session, request.headers)) {
          throw forbidden('This change was sent with the dashboard\'s session cookie but without its CSRF token (x-switchyard-csrf): reload the page.');
        }
        return session.adminId;
      }
      throw new GatewayError(ErrorCode.missingKey, 'Missing admin key: send one of auth.admin_keys as "Authorization: Bearer <key>" (client keys are not accepted here).', {
        status: 401, origin: 'downstream', errorClass: 'client-error',
      });
    }
    return this.check(key, address, now);
  }

  /** The dashboard's login: the admin key's id, or throws 401/403/429 (failures counted as for every admin call). */
  login(request: IncomingMessage, key: string, now = Date.now()): string {
    const address = request.socket.remoteAddress ?? '';
    if (this.digests.length === 0) return this.loopback(address);
    this.throttle(address, now);
    return this.check(key, address, now);
  }

  /**
   * The live session the request's cookie names, while the admin key it stands for is configured
   * (without admin keys: a `loopback` session, for a caller the loopback rule lets in).
   */
  session(request: IncomingMessage, now = Date.now()): UiSession | undefined {
    const session = this.sessions?.find(request.headers, now);
    if (session === undefined) return undefined;
    if (this.digests.length > 0) return this.ids.includes(session.adminId) ? session : undefined;
    return session.adminId === 'loopback' && this.loopbackListener && isLoopbackAddress(request.socket.remoteAddress) ? session : undefined;
  }

  /** Without admin keys: `loopback` for a loopback caller on a loopback listener; throws 403 otherwise. */
  loopback(address: string): string {
    if (this.loopbackListener && isLoopbackAddress(address)) return 'loopback';
    throw forbidden(this.loopbackListener
      ? 'The management API answers only on loopback when no admin keys are configured (auth.admin_keys).'
      : 'The management API is off: the gateway listens beyond loopback and no admin keys are configured (auth.admin_keys).');
  }

  private throttle(address: string, now: number): void {
    const throttled = this.failures.get(address);
    if (throttled !== undefined && throttled.count >= MAX_FAILURES && throttled.resetAt > now) {
      throw new GatewayError(ErrorCode.authThrottled, `Too many failed admin attempts from this address; try again in ${Math.ceil((throttled.resetAt - now) / 1000)} s.`, {
        status: 429, origin: 'downstream', errorClass: 'client-error', retryAfterSeconds: Math.ceil((throttled.resetAt - now) / 1000),
      });
    }
  }

  private check(key: string, address: string, now: number): string {
    const presented = digest(key);
    let match = -1;
    for (let i = 0; i < this.digests.length; i++) {
      if (timingSafeEqual(presented, this.digests[i]!) && match < 0) match = i;
    }
    if (match < 0) {
      this.fail(address, now);
      throw new GatewayError(ErrorCode.invalidKey, 'Invalid admin key: the management API takes only auth.admin_keys, never client keys.', {
        status: 401, origin: 'downstream', errorClass: 'client-error',
      });
    }
    return this.ids[match]!;
  }

  private fail(address: string, now: number): void {
    const current = this.failures.get(address);
    if (current !== undefined && current.resetAt > now) {
      current.count++;
      return;
    }
    if (current === undefined && this.failures.size >= ADDRESSES_MAX) {
      for (const [known, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(known);
      if (this.failures.size >= ADDRESSES_MAX) this.failures.delete(this.failures.keys().next().value!);
    }
    this.failures.set(address, { count: 1, resetAt: now + WINDOW_MS });
  }
}

function forbidden(message: string): GatewayError {
  return new GatewayError(ErrorCode.forbidden, message, { status: 403, origin: 'downstream', errorClass: 'client-error' });
}
