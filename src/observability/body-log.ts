// Optional body capture for inspecting single requests: the request body as received and the
// response as the client received it (stream events included), each cut at `maxBytes`, for the
// last `keep` requests, in memory only. Keys are redacted from what is kept and credential
// headers are never kept. Off by default; when off, nothing here runs.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { BodyLogSettings } from '../config/types.ts';
import type { RequestContext, RequestObserver } from '../pipeline/context.ts';
import { redactText } from '../util/redact.ts';

/** Headers never kept (credentials and cookies). */
const HIDDEN = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie', 'set-cookie', 'proxy-authorization']);

/** A capped copy of a body as it streams past. */
export class BodyCapture {
  private readonly limit: number;
  private readonly chunks: Buffer[] = [];
  kept = 0;
  /** Every byte seen, kept or not. */
  size = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  push(chunk: unknown, encoding?: unknown): void {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const buffer = Buffer.isBuffer(chunk) ? chunk
      : typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
      : chunk instanceof Uint8Array ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : undefined;
    if (buffer === undefined) return;
    this.size += buffer.length;
    const room = this.limit - this.kept;
    if (room <= 0) return;
    const part = buffer.length <= room ? buffer : buffer.subarray(0, room);
    this.chunks.push(Buffer.from(part)); // a copy: never pin the caller's (possibly large) buffer
    this.kept += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** What a request carries while capture is on (`RequestContext.bodies`). */
export interface CapturedBodies {
  request: BodyCapture;
  response: BodyCapture;
  /** The response head as written (writeHead takes them directly, so getHeaders() misses them). */
  responseHeaders: Record<string, string>;
}

interface Entry {
  id: string;
  time: string;
  method: string;
  path: string;
  model: string;
  provider: string;
  upstream_model: string;
  status: number;
  attempts: number;
  request: { headers: Record<string, string>; body: string; bytes: number; truncated: boolean };
  response: { headers: Record<string, string>; body: string; bytes: number; truncated: boolean };
}

export class BodyLog implements RequestObserver {
  readonly settings: BodyLogSettings;
  private readonly entries = new Map<string, Entry>();
  /** Secrets to redact (the current runtime's); replaced on reload. */
  secrets: readonly string[];

  constructor(settings: BodyLogSettings, secrets: readonly string[]) {
    this.settings = settings;
    this.secrets = secrets;
  }

  /** Starts capturing one request: its response's writes are copied (capped) as they go out. */
  begin(context: RequestContext): void {
    const bodies: CapturedBodies = { request: new BodyCapture(this.settings.maxBytes), response: new BodyCapture(this.settings.maxBytes), responseHeaders: {} };
    context.bodies = bodies;
    const response: ServerResponse = context.response;
    const write = response.write;
    const end = response.end;
    const writeHead = response.writeHead;
    response.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]): ServerResponse {
      const headers = rest.find((value) => typeof value === 'object' && value !== null);
      if (Array.isArray(headers)) for (let i = 0; i + 1 < headers.length; i += 2) bodies.responseHeaders[String(headers[i]).toLowerCase()] = String(headers[i + 1]);
      else if (headers !== undefined) for (const [name, value] of Object.entries(headers)) bodies.responseHeaders[name.toLowerCase()] = String(value);
      return (writeHead as (...args: unknown[]) => ServerResponse).call(this, status, ...rest);
    } as ServerResponse['writeHead'];
    response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
      bodies.response.push(chunk, rest[0]);
      return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    response.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]): ServerResponse {
      bodies.response.push(chunk, rest[0]);
      return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];
  }

  requestEnded(context: RequestContext, aborted: boolean): void {
    const bodies = context.bodies;
    if (bodies === undefined) return;
    const secrets = this.secrets;
    const entry: Entry = {
      id: context.id,
      time: new Date(performance.timeOrigin + context.startedAt).toISOString(),
      method: context.request.method ?? '',
      path: context.path,
      model: context.modelAsked,
      provider: context.provider,
      upstream_model: context.upstreamModel,
      status: context.finalStatus(aborted),
      attempts: context.attempts,
      request: { headers: visibleHeaders(context.request.headers, secrets), body: redactText(bodies.request.text(), secrets), bytes: bodies.request.size, truncated: bodies.request.size > bodies.request.kept },
      response: {
        headers: visibleHeaders({ ...(context.response.getHeaders() as IncomingHttpHeaders), ...bodies.responseHeaders }, secrets),
        body: redactText(bodies.response.text(), secrets), bytes: bodies.response.size, truncated: bodies.response.size > bodies.response.kept,
      },
    };
    this.entries.delete(entry.id);
    this.entries.set(entry.id, entry);
    while (this.entries.size > this.settings.keep) this.entries.delete(this.entries.keys().next().value!);
  }

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  /** The kept requests, newest first, without bodies. */
  list(): { id: string; time: string; path: string; model: string; provider: string; status: number }[] {
    return [...this.entries.values()].reverse().map(({ id, time, path, model, provider, status }) => ({ id, time, path, model, provider, status }));
  }
}

function visibleHeaders(headers: IncomingHttpHeaders, secrets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HIDDEN.has(name)) continue;
    out[name] = redactText(Array.isArray(value) ? value.join(', ') : String(value), secrets);
  }
  return out;
}
