// Writing whole responses (errors and small local JSON answers).
import type { WireResponse } from '../canonical/adapters.ts';
import type { ErrorInfo } from '../canonical/errors.ts';
import { GatewayError, ErrorCode } from '../canonical/errors.ts';
import type { RequestContext } from './context.ts';

export function baseHeaders(context: RequestContext): string[] {
  return ['x-request-id', context.id];
}

export function sendWire(context: RequestContext, wire: WireResponse, extraHeaders: readonly string[] = []): void {
  const response = context.response;
  if (response.headersSent || response.destroyed) return;
  const headers = baseHeaders(context);
  for (const value of wire.headers) headers.push(value);
  for (const value of extraHeaders) headers.push(value);
  headers.push('server-timing', context.serverTiming(), 'content-length', String(Buffer.byteLength(wire.body)));
  response.writeHead(wire.status, headers);
  response.end(wire.body);
}

export function sendJson(context: RequestContext, status: number, body: string, extraHeaders: readonly string[] = []): void {
  sendWire(context, { status, headers: ['content-type', 'application/json'], body }, extraHeaders);
}

/** Renders an error in the dialect of the surface that was asked (OpenAI's when none matched). */
export function sendError(context: RequestContext, error: ErrorInfo, extraHeaders: readonly string[] = []): void {
  context.error = error;
  const wire = (context.surface ?? context.errorSurface).encodeError(error);
  sendWire(context, wire, extraHeaders);
}

export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError(ErrorCode.internal, 'Internal gateway error.', { status: 500, origin: 'gateway', cause: error });
}
