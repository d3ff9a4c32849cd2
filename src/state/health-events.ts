// What one instance tells the others about a target's health (shared state, redis-health.ts): a
// cooldown or an ejection started or extended — with the time left, not a point in time, so the
// instances' clocks need not agree — or the target back in rotation. One small JSON text, the
// same as the pub/sub message and as the value of the hash field that keeps it for instances that
// (re)connect later. Decoding checks every field: a message from another version, or garbage on
// the channel, is dropped, never applied half.
import type { ErrorClass, ErrorInfo, ErrorOrigin } from '../canonical/errors.ts';
import type { CooldownReason, EjectionCause } from './interfaces.ts';

export interface HealthEvent {
  /** The instance that published it (its own messages come back to it, and are ignored). */
  readonly from: string;
  readonly provider: string;
  readonly keyIndex: number;
  /** The key's fingerprint: the same on every instance holding the same key. */
  readonly keyId: string;
  readonly model: string;
  /** What took the target out; undefined: it is back in rotation. */
  readonly reason: CooldownReason | undefined;
  /** Ms it stays out, from when the event was written. */
  readonly ms: number;
  readonly cause?: EjectionCause;
  /** The ejection's length (a failed probe doubles it). */
  readonly ejectionMs?: number;
  /** The error that took it out, already redacted (replayed for a refused key or an unknown model). */
  readonly error?: ErrorInfo;
}

const VERSION = 1;
const REASONS: ReadonlySet<string> = new Set<CooldownReason>(['auth', 'not-found', 'rate-limited', 'ejected']);
const CAUSES: ReadonlySet<string> = new Set<EjectionCause>(['consecutive-failures', 'success-rate', 'probe', 'health-check']);
/** An error message longer than this is cut (it only explains a replayed refusal). */
const MESSAGE_KEPT = 1000;

interface WireError {
  c: string;
  s: number;
  m: string;
  o: string;
  k: string;
  r: boolean;
  f: boolean;
  u?: number;
  p?: string;
  a?: number;
  q?: string;
}

interface WireEvent {
  v: number;
  f: string;
  p: string;
  i: number;
  k: string;
  m: string;
  r: string | null;
  t: number;
  c?: string;
  l?: number;
  e?: WireError;
}

export function encodeHealthEvent(event: HealthEvent): string {
  const wire: WireEvent = { v: VERSION, f: event.from, p: event.provider, i: event.keyIndex, k: event.keyId, m: event.model, r: event.reason ?? null, t: Math.max(0, Math.round(event.ms)) };
  if (event.cause !== undefined) wire.c = event.cause;
  if (event.ejectionMs !== undefined) wire.l = event.ejectionMs;
  const error = event.error;
  if (error !== undefined) {
    const sent: WireError = { c: error.code, s: error.status, m: error.message.slice(0, MESSAGE_KEPT), o: error.origin, k: error.errorClass, r: error.retryable, f: error.fallbackAllowed };
    if (error.upstreamStatus !== undefined) sent.u = error.upstreamStatus;
    if (error.provider !== undefined) sent.p = error.provider;
    if (error.retryAfterSeconds !== undefined) sent.a = error.retryAfterSeconds;
    if (error.param !== undefined) sent.q = error.param;
    wire.e = sent;
  }
  return JSON.stringify(wire);
}

/** The event in `text`, or undefined when it is not one this version reads. */
export function decodeHealthEvent(text: string): HealthEvent | undefined {
  let wire: Partial<WireEvent>;
  try {
    wire = JSON.parse(text) as Partial<WireEvent>;
  } catch {
    return undefined;
  }
  if (wire === null || typeof wire !== 'object' || wire.v !== VERSION) return undefined;
  const { f: from, p: provider, i: keyIndex, k: keyId, m: model, r: reason, t: ms } = wire;
  if (typeof from !== 'string' || typeof provider !== 'string' || typeof keyId !== 'string' || typeof model !== 'string') return undefined;
  if (!Number.isInteger(keyIndex) || keyIndex! < 0 || typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return undefined;
  if (reason !== null && (typeof reason !== 'string' || !REASONS.has(reason))) return undefined;
  const event: { -readonly [K in keyof HealthEvent]: HealthEvent[K] } = { from, provider, keyIndex: keyIndex!, keyId, model, reason: (reason ?? undefined) as CooldownReason | undefined, ms };
  if (wire.c !== undefined) {
    if (typeof wire.c !== 'string' || !CAUSES.has(wire.c)) return undefined;
    event.cause = wire.c as EjectionCause;
  }
  if (wire.l !== undefined) {
    if (typeof wire.l !== 'number' || !Number.isFinite(wire.l) || wire.l < 0) return undefined;
    event.ejectionMs = wire.l;
  }
  if (wire.e !== undefined) {
    const error = decodeError(wire.e);
    if (error === undefined) return undefined;
    event.error = error;
  }
  return event;
}

function decodeError(wire: Partial<WireError> | null): ErrorInfo | undefined {
  if (wire === null || typeof wire !== 'object') return undefined;
  const { c: code, s: status, m: message, o: origin, k: errorClass, r: retryable, f: fallbackAllowed } = wire;
  if (typeof code !== 'string' || typeof status !== 'number' || typeof message !== 'string' || typeof origin !== 'string' || typeof errorClass !== 'string') return undefined;
  if (typeof retryable !== 'boolean' || typeof fallbackAllowed !== 'boolean') return undefined;
  const error: ErrorInfo = { code, status, message, origin: origin as ErrorOrigin, errorClass: errorClass as ErrorClass, retryable, fallbackAllowed };
  if (typeof wire.u === 'number') error.upstreamStatus = wire.u;
  if (typeof wire.p === 'string') error.provider = wire.p;
  if (typeof wire.a === 'number') error.retryAfterSeconds = wire.a;
  if (typeof wire.q === 'string') error.param = wire.q;
  return error;
}
