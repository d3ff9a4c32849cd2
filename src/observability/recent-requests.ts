// The last N requests, for the management API (`GET /v0/management/requests`): who asked for what,
// what answered, how it went (status, error class, attempts, fallbacks), how long it took (TTFT
// included), its tokens and cost. A complete-phase observer over a fixed ring of records whose
// slots are reused in place, so a full ring allocates nothing per request; what the request already
// built (its usage, its failed attempts) is kept by reference, not copied. In memory, per process;
// no body (body capture, `logging.bodies`, keeps those). Compiled in only when
// `logging.recent_requests` is above 0.
import type { Usage } from '../canonical/usage.ts';
import type { AttemptRecord, RequestContext, RequestObserver } from '../pipeline/context.ts';

/** One request as the ring keeps it; a slot is overwritten when the ring comes round. */
export class RecentRequest {
  id = '';
  /** Epoch ms when the request arrived. */
  time = 0;
  method = '';
  path = '';
  surface = '';
  keyId = '';
  keyName = '';
  team = '';
  modelAsked = '';
  provider = '';
  upstreamModel = '';
  /** The fallback (or overflow) route that answered, when not the one asked for. */
  fallback = '';
  status = 0;
  upstreamStatus = 0;
  errorCode = '';
  errorClass = '';
  errorMessage = '';
  attempts = 0;
  /** Failed attempts as `provider/model:status` (the context's own list). */
  failures: readonly string[] | undefined = undefined;
  /** Every attempt with its timing, when tracing kept them (the context's own list). */
  attemptLog: readonly AttemptRecord[] | undefined = undefined;
  stream = false;
  aborted = false;
  durationMs = 0;
  upstreamHeadersMs = 0;
  firstByteMs = 0;
  usage: Usage | undefined = undefined;
  costUsd: number | undefined = undefined;
  cached = false;
  cacheStatus = '';
  dropped = '';
}

/** What a list may be narrowed to; every field optional. */
export interface RecentRequestFilter {
  /** A key's id or name. */
  key?: string;
  /** The model asked for, the model that answered, or `provider:model`. */
  model?: string;
  provider?: string;
  /** A status (`429`), a class (`5xx`), `error` (400 and above) or `ok` (below 400). */
  status?: string;
}

export class RecentRequests implements RequestObserver {
  readonly capacity: number;
  private readonly slots: RecentRequest[] = [];
  /** The slot the next request is written to, once the ring is full. */
  private next = 0;
  private readonly skipPrefix: string;

  /** `skipPrefix`: paths not recorded (the management API itself, which would crowd out the traffic it inspects). */
  constructor(capacity: number, skipPrefix: string) {
    this.capacity = capacity;
    this.skipPrefix = skipPrefix;
  }

  requestEnded(context: RequestContext, aborted: boolean): void {
    if (context.path.startsWith(this.skipPrefix)) return;
    const status = context.finalStatus(aborted);
    // the gateway's own endpoints that answered (model lists, probes, metrics) are not traffic
    if (context.modelAsked === '' && status < 400) return;
    let record: RecentRequest;
    if (this.slots.length < this.capacity) {
      record = new RecentRequest();
      this.slots.push(record);
    } else {
      record = this.slots[this.next]!;
      this.next = (this.next + 1) % this.capacity;
    }
    const error = context.error;
    const policy = context.policy;
    const durationMs = context.elapsedMs();
    record.id = context.id;
    record.time = Math.round(performance.timeOrigin + context.startedAt);
    record.method = context.request.method ?? '';
    record.path = context.path;
    record.surface = context.surface?.name ?? '';
    record.keyId = context.keyId;
    record.keyName = policy?.name ?? '';
    record.team = policy?.team ?? '';
    record.modelAsked = context.modelAsked;
    record.provider = context.provider;
    record.upstreamModel = context.upstreamModel;
    record.fallback = context.route;
    record.status = status;
    record.upstreamStatus = context.upstreamStatus;
    record.errorCode = error?.code ?? '';
    record.errorClass = error?.errorClass ?? '';
    record.errorMessage = error?.message ?? '';
    record.attempts = context.attempts;
    record.failures = context.failures;
    record.attemptLog = context.attemptLog;
    record.stream = context.stream;
    record.aborted = aborted;
    record.durationMs = durationMs;
    record.upstreamHeadersMs = context.upstreamHeadersMs;
    record.firstByteMs = context.firstByteMs;
    record.usage = context.usage;
    record.costUsd = context.costUsd;
    record.cached = context.cached;
    record.cacheStatus = context.cacheStatus;
    record.dropped = context.dropped;
  }

  /** Up to `limit` requests that pass `filter`, newest first. */
  list(filter: RecentRequestFilter, limit: number): RecentRequest[] {
    const found: RecentRequest[] = [];
    const matches = compileFilter(filter);
    const count = this.slots.length;
    // the newest is just before `next` once the ring is full, else the last pushed
    const newest = count < this.capacity ? count - 1 : (this.next - 1 + count) % count;
    for (let i = 0; i < count && found.length < limit; i++) {
      const record = this.slots[(newest - i + count) % count]!;
      if (matches(record)) found.push(record);
    }
    return found;
  }

  /** The newest request with this id (ids a client sends in `x-request-id` need not be unique). */
  get(id: string): RecentRequest | undefined {
    return this.list({}, this.capacity).find((record) => record.id === id);
  }

  get size(): number {
    return this.slots.length;
  }
}

function compileFilter(filter: RecentRequestFilter): (record: RecentRequest) => boolean {
  const { key, model, provider } = filter;
  const status = statusTest(filter.status);
  return (record) => {
    if (key !== undefined && record.keyId !== key && record.keyName !== key) return false;
    if (model !== undefined && record.modelAsked !== model && record.upstreamModel !== model && `${record.provider}:${record.upstreamModel}` !== model) return false;
    if (provider !== undefined && record.provider !== provider) return false;
    return status(record.status);
  };
}

/** The status filter as a test; throws a message for one it cannot read. */
export function statusTest(value: string | undefined): (status: number) => boolean {
  if (value === undefined) return () => true;
  if (value === 'ok') return (status) => status < 400;
  if (value === 'error') return (status) => status >= 400;
  const family = /^([1-5])xx$/i.exec(value);
  if (family !== null) {
    const hundred = Number(family[1]) * 100;
    return (status) => status >= hundred && status < hundred + 100;
  }
  if (/^\d{3}$/.test(value)) {
    const exact = Number(value);
    return (status) => status === exact;
  }
  throw new RangeError(`status must be a status code (429), a class (5xx), 'ok' or 'error'; got '${value.slice(0, 40)}'.`);
}
