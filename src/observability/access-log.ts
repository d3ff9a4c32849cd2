// The per-request access line, written as JSON by a specialised serializer: pino's generic path
// costs ~5 µs per line, this ~0.6 µs (measured: 200k lines each), on a path that runs once per
// request. Same shape as pino's lines (level, time, pid, fields, msg), same batched destination.
import type { Usage } from '../canonical/usage.ts';

export interface AccessRecord {
  id: string;
  method: string;
  path: string;
  surface: string | undefined;
  status: number;
  model: string;
  provider: string;
  upstreamModel: string;
  upstreamStatus: number;
  attempts: number;
  stream: boolean;
  durationMs: number;
  upstreamHeadersMs: number;
  firstByteMs: number;
  key: string;
  error: string | undefined;
  aborted: boolean;
  /** The fallback route that answered, when not the one asked for. */
  fallback: string;
  /** What the unsupported_tools policy left out of the request (comma-separated), '' for nothing. */
  dropped: string;
  /** Attempts that failed before the answer, as `provider/model:status`. */
  failures: readonly string[] | undefined;
  /** Token usage of the answer, when the provider reported it. */
  usage: Usage | undefined;
  /** USD, when the usage and the model's price are known. */
  costUsd: number | undefined;
  /** What the response cache did (`hit`, `miss`, `bypass`), on routes and keys that have one. */
  cache?: string;
  /** What an auto alias decided (`model: auto`), as JSON: alias, tier, by, score, decision µs. */
  route?: string;
}

/** `tokens` as logged: in and out include cached and reasoning tokens, as providers count them. */
export function tokensField(usage: Usage): string {
  return `{"in":${usage.inputTokens},"out":${usage.outputTokens},"cached":${usage.cachedInputTokens ?? 0},"reasoning":${usage.reasoningTokens ?? 0}}`;
}

/** Costs are logged to a billionth of a dollar: enough for one token of the cheapest model. */
export function roundCost(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}

export interface LineSink {
  write(line: string): unknown;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Quotes a string for JSON (escapes included), so client-influenced text cannot break the line. */
const quote = JSON.stringify;

export class JsonAccessLog {
  private readonly sink: LineSink;
  private readonly prefix: string;

  constructor(sink: LineSink) {
    this.sink = sink;
    this.prefix = `,"pid":${process.pid}`;
  }

  record(entry: AccessRecord): void {
    let line = `{"level":30,"time":${Date.now()}${this.prefix},"id":${quote(entry.id)},"method":${quote(entry.method)},"path":${quote(entry.path)}`;
    if (entry.surface !== undefined) line += `,"surface":"${entry.surface}"`;
    line += `,"status":${entry.status}`;
    if (entry.model !== '') line += `,"model":${quote(entry.model)}`;
    if (entry.provider !== '') line += `,"provider":${quote(entry.provider)}`;
    if (entry.upstreamModel !== '') line += `,"upstream_model":${quote(entry.upstreamModel)}`;
    if (entry.upstreamStatus !== 0) line += `,"upstream_status":${entry.upstreamStatus}`;
    if (entry.fallback !== '') line += `,"fallback":${quote(entry.fallback)}`;
    if (entry.failures !== undefined) line += `,"failed_attempts":${quote(entry.failures)}`;
    if (entry.dropped !== '') line += `,"dropped":${quote(entry.dropped)}`;
    line += `,"attempts":${entry.attempts},"stream":${entry.stream},"duration_ms":${round(entry.durationMs)}`;
    if (entry.upstreamHeadersMs > 0) line += `,"upstream_headers_ms":${round(entry.upstreamHeadersMs)}`;
    if (entry.firstByteMs > 0) line += `,"first_byte_ms":${round(entry.firstByteMs)}`;
    if (entry.usage !== undefined) line += `,"tokens":${tokensField(entry.usage)}`;
    if (entry.costUsd !== undefined) line += `,"cost_usd":${roundCost(entry.costUsd)}`;
    if (entry.cache !== undefined && entry.cache !== '') line += `,"cache":"${entry.cache}"`;
    if (entry.route !== undefined) line += `,"route":${entry.route}`;
    if (entry.key !== '') line += `,"key":"${entry.key}"`;
    if (entry.error !== undefined) line += `,"error":${quote(entry.error)}`;
    if (entry.aborted) line += ',"aborted":true';
    this.sink.write(line + ',"msg":"request"}\n');
  }
}
