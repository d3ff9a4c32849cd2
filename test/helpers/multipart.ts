// A loopback server that reads every request with readMultipart (into a spool of the test's own),
// and raw multipart bodies written by hand — malformed ones included — for tests of the module.
import type { TestContext } from 'node:test';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayError } from '../../src/canonical/errors.ts';
import { readMultipart, type MultipartLimits } from '../../src/server/multipart.ts';
import type { SpooledForm } from '../../src/server/spooled-form.ts';
import { UploadSpool } from '../../src/server/upload-spool.ts';
import { listenOnLoopback } from './ports.ts';

export interface FormServer {
  url: string;
  spool: UploadSpool;
  /** What each request came to, in order. */
  outcomes: Promise<SpooledForm | GatewayError>[];
  /** Files in the spool directory now. */
  spooled(): string[];
}

/**
 * `handle` answers a form that was read whole; a rejection is answered with its status and
 * message, the rest of the body discarded (as the gateway's refuseBody does).
 */
export async function startFormServer(
  t: TestContext,
  options: { limit?: number; limits?: Partial<MultipartLimits>; handle?: (form: SpooledForm, response: ServerResponse) => void } = {},
): Promise<FormServer> {
  const parent = mkdtempSync(join(tmpdir(), 'switchyard-multipart-test-'));
  const spool = UploadSpool.open(parent);
  const outcomes: Promise<SpooledForm | GatewayError>[] = [];
  const handle = options.handle ?? ((_form: SpooledForm, response: ServerResponse) => response.end('ok'));
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const read = readMultipart(request, { limit: options.limit ?? 64 * 1024 * 1024, response, spool, ...(options.limits !== undefined ? { limits: options.limits } : {}) });
    outcomes.push(read.catch((error: GatewayError) => error));
    read.then((form) => handle(form, response), (error: GatewayError) => {
      response.writeHead(error.status, { 'content-type': 'text/plain' });
      response.end(error.message);
      if (!request.complete) request.resume();
    });
  });
  const url = await listenOnLoopback(t, server, () => {
    spool.close();
    rmSync(parent, { recursive: true, force: true });
  });
  return {
    url,
    spool,
    outcomes,
    spooled: () => readdirSync(spool.directory),
  };
}

export type RawPart = { name: string; value: string; contentType?: string } | { name: string; filename: string; contentType?: string; content: Buffer | string };

/** A multipart/form-data body written by hand, as a client would send it. */
export function rawForm(boundary: string, parts: RawPart[]): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if ('filename' in part) head += `; filename="${part.filename}"\r\nContent-Type: ${part.contentType ?? 'application/octet-stream'}`;
    else if (part.contentType !== undefined) head += `\r\nContent-Type: ${part.contentType}`;
    pieces.push(Buffer.from(`${head}\r\n\r\n`), Buffer.from('filename' in part ? part.content : part.value), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

/** Everything a readable gives, as one buffer (test sizes only). */
export async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Polls `check` until it holds (cleanup runs after the response, on its own schedule). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
