// The JSON body of a request the gateway answers itself (the management API): the same rules as
// for a proxied JSON request — a JSON content type (so a page's "simple" cross-origin post is
// never read), a size limit, malformed JSON a 400 — for handlers outside the pipeline.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { readBody } from '../server/body.ts';
import { BrowserGuard } from '../server/browser-guard.ts';
import type { RequestContext } from './context.ts';

/** Calls back with the parsed body (`{}` when empty) or the refusal to answer; nothing when the client left. */
export function readLocalJson(context: RequestContext, limit: number, callback: (error: GatewayError | undefined, body: unknown) => void): void {
  const request = context.request;
  const notJson = BrowserGuard.requireJson(request);
  if (notJson !== undefined) {
    request.resume();
    callback(notJson, undefined);
    return;
  }
  readBody(request, limit, (error, bytes) => {
    if (error !== undefined) {
      if (error.code === ErrorCode.canceled) return;
      request.resume();
      callback(error, undefined);
      return;
    }
    let body: unknown;
    try {
      body = bytes!.length === 0 ? {} : JSON.parse(bytes!.toString('utf8'));
    } catch (parseError) {
      callback(new GatewayError(ErrorCode.malformedJson, `The body is not valid JSON: ${(parseError as Error).message}`, { status: 400, origin: 'downstream', errorClass: 'client-error' }), undefined);
      return;
    }
    callback(undefined, body);
  });
}

/** Calls back with the raw body (within `limit`) or the refusal; nothing when the client left. The caller checks the content type. */
export function readLocalBytes(context: RequestContext, limit: number, callback: (error: GatewayError | undefined, body: Buffer | undefined) => void): void {
  readBody(context.request, limit, (error, bytes) => {
    if (error !== undefined) {
      if (error.code === ErrorCode.canceled) return;
      context.request.resume();
      callback(error, undefined);
      return;
    }
    callback(undefined, bytes!);
  });
}
