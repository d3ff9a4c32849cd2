// Writing whole responses (errors and small local JSON answers), every response head the gateway
// writes, and the one way a request ends when the gateway itself failed.
import type { ServerResponse } from 'node:http';
import type { WireResponse } from '../canonical/adapters.ts';
import type { ErrorInfo } from '../canonical/errors.ts';
import { GatewayError, ErrorCode } from '../canonical/errors.ts';
import { makeHeadersSafe } from '../util/header-value.ts';
import type { RequestContext } from './context.ts';
import { filterError } from './phases.ts';
import { routeHeader } from './route-decision.ts';

export function baseHeaders(context: RequestContext): string[] {
  return ['x-request-id', context.id];
}

/**
 * Writes a response head. Every head goes out through here, so no value — a client's model name
 * echoed back, an upstream's content type — can make `writeHead` throw.
 */
export function writeHead(response: ServerResponse, status: number, headers: string[]): void {
  response.writeHead(status, makeHeadersSafe(headers));
}

export function sendWire(context: RequestContext, wire: WireResponse, extraHeaders: readonly string[] = []): void {
  const response = context.response;
  if (response.headersSent || response.destroyed) return;
  const headers = baseHeaders(context);
  for (const value of wire.headers) headers.push(value);
  for (const value of extraHeaders) headers.push(value);
  headers.push('server-timing', context.serverTiming(), 'content-length', String(Buffer.byteLength(wire.body)));
  writeHead(response, wire.status, headers);
  response.end(wire.body);
}

export function sendJson(context: RequestContext, status: number, body: string, extraHeaders: readonly string[] = []): void {
  sendWire(context, { status, headers: ['content-type', 'application/json'], body }, extraHeaders);
}

/** Renders an error in the dialect of the surface that was asked (OpenAI's when none matched). */
export function sendError(context: RequestContext, seen: ErrorInfo, extraHeaders: readonly string[] = []): void {
  // the error phase (plugins' onError) may replace it
  const error = context.phases.error.length === 0 ? seen : filterError(context, seen);
  context.error = error;
  const wire = (context.surface ?? context.errorSurface).encodeError(error);
  // an attempt that dropped unsupported tools says so in its error answer too, as in its success
  const dropped = context.dropped !== '' && !extraHeaders.includes('x-switchyard-dropped');
  let extra = dropped ? [...extraHeaders, 'x-switchyard-dropped', context.dropped] : extraHeaders;
  // an auto alias's decision is said on its error answers too (the commit phase says it on the others)
  if (context.routeDecision !== undefined) extra = [...extra, 'x-switchyard-route', routeHeader(context.routeDecision)];
  sendWire(context, wire, extra);
}

export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError(ErrorCode.internal, 'Internal gateway error.', { status: 500, origin: 'gateway', cause: error });
}

/** The last resort when even the dialect's error answer could not be written. */
const PLAIN_ERROR = '{"error":{"message":"Internal gateway error.","type":"server_error","code":"SWY_ERR_GATEWAY_INTERNAL"}}';

/**
 * Ends a response after a failure wherever the request stood, so that no exception leaves a
 * client waiting: before the head, the error answer in the caller's dialect; inside a stream, the
 * dialect's error event; inside a plain body already under way, an aborted connection (the only
 * honest signal left). `context.error` says what happened, for the access log.
 */
export function endWithError(context: RequestContext, error: ErrorInfo): void {
  const response = context.response;
  context.error = error;
  if (response.destroyed || response.writableEnded) return;
  try {
    if (!response.headersSent) {
      sendError(context, error);
      return;
    }
    if (context.streamed) {
      response.end((context.surface ?? context.errorSurface).encodeStreamError(error));
      return;
    }
  } catch {
    // the error answer itself failed: the plainest one that can be written, else the connection
    if (!response.headersSent) {
      try {
        response.writeHead(500, ['x-request-id', context.id, 'content-type', 'application/json', 'content-length', String(PLAIN_ERROR.length)]);
        response.end(PLAIN_ERROR);
        return;
      } catch {
        // fall through
      }
    }
  }
  response.destroy();
}
