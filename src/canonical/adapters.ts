// The contracts between the pipeline and the dialect adapters (types only).
import type { ErrorInfo } from './errors.ts';
import type { Operation } from './request.ts';

/** What the pipeline needs to know of a request before routing it. */
export interface RequestSummary {
  model: string;
  stream: boolean;
}

/** A response rendered for the wire. */
export interface WireResponse {
  status: number;
  /** Flat name/value list. */
  headers: string[];
  body: string;
}

/** An inbound API dialect for one operation (e.g. OpenAI Chat Completions). */
export interface SurfaceAdapter {
  readonly name: string;
  readonly dialect: string;
  readonly operation: Operation;
  /** Validates a parsed JSON body; throws a GatewayError (400) naming the field at fault. */
  inspect(body: unknown): RequestSummary;
  /** True when this batch of whole SSE events holds the stream's terminal event. */
  isStreamTerminal(events: Buffer): boolean;
  encodeError(error: ErrorInfo): WireResponse;
  /** A terminal SSE error event in this dialect, for failures after the stream started. */
  encodeStreamError(error: ErrorInfo): Buffer;
}

/** An outbound dialect (OpenAI-compatible, …). */
export interface ProviderAdapter {
  readonly dialect: string;
  /** Upstream path for an operation, relative to the endpoint's base URL. */
  operationPath(operation: Operation): string;
  /** Model ids from a discovery response (`GET {base}/models`). */
  decodeModelList(body: unknown): string[];
  /** The human message in an upstream error body, if it has one. */
  decodeErrorMessage(body: Buffer): string | undefined;
}
