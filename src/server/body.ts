// Reads a request body up to a limit. Beyond the limit it answers at once (413) without
// buffering the rest: a declared Content-Length over the limit is refused before reading a byte.
import type { IncomingMessage } from 'node:http';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';

export type BodyCallback = (error: GatewayError | undefined, body: Buffer | undefined) => void;

export function tooLarge(limit: number): GatewayError {
  return new GatewayError(ErrorCode.bodyTooLarge, `Request body larger than the limit of ${limit} bytes (server.body_limit).`, {
    status: 413, origin: 'downstream', errorClass: 'client-error',
  });
}

/** The client left (or reset the connection) before the whole body arrived. */
export function bodyCanceled(): GatewayError {
  return new GatewayError(ErrorCode.canceled, 'The client closed the connection while sending the body.', {
    status: 499, origin: 'downstream', errorClass: 'canceled',
  });
}

class BodyReader {
  private readonly request: IncomingMessage;
  private readonly limit: number;
  private readonly callback: BodyCallback;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private done = false;

  constructor(request: IncomingMessage, limit: number, callback: BodyCallback) {
    this.request = request;
    this.limit = limit;
    this.callback = callback;
    request.on('data', this.onData);
    request.on('end', this.onEnd);
    request.on('error', this.onAbort);
    request.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.finish(tooLarge(this.limit), undefined);
      return;
    }
    this.chunks.push(chunk);
  };

  private readonly onEnd = (): void => {
    if (this.done) return;
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.finish(undefined, body);
  };

  private readonly onAbort = (): void => {
    if (this.done) return;
    this.finish(bodyCanceled(), undefined);
  };

  private readonly onClose = (): void => {
    if (!this.done && !this.request.complete) this.onAbort();
  };

  private finish(error: GatewayError | undefined, body: Buffer | undefined): void {
    this.done = true;
    this.request.off('data', this.onData);
    this.request.off('end', this.onEnd);
    this.chunks.length = 0;
    this.callback(error, body);
  }
}

export function readBody(request: IncomingMessage, limit: number, callback: BodyCallback): void {
  const declared = request.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    callback(tooLarge(limit), undefined);
    return;
  }
  new BodyReader(request, limit, callback);
}
