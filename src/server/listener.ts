// The downstream listener: plain node:http (frameworks lose the benchmark), TCP_NODELAY,
// keep-alive longer than typical client pools, and limits on what a client may hold without
// sending anything useful: headers within headers_timeout_ms, the whole request (headers and body)
// within request_timeout_ms, and at most max_connections sockets (see connection-cap.ts).
//
// Node's requestTimeout counts from the request's first byte until the parser has the whole
// request — the upload only: the response is not part of it, so an answer may stream for as long
// as the model takes (checked in test/integration/listener-limits.test.ts). Both limits are
// enforced by Node's own connection sweep (one timer per server, no timer per socket); its period
// bounds how late a limit fires, so it is kept well under the headers timeout (Node's default of
// 30 s is why headers used to be cut only after 70–89 s).
import type http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { capConnections } from './connection-cap.ts';

// Required, not imported: an ESM import of node:http builds a facade over all its exports, and
// reading its lazy WebSocket/MessageEvent getters loads Node's bundled undici — about 3 MB of the
// gateway's resident memory (13 MB in a bare process) and 20–30 ms of start-up, for classes it never uses.
const { createServer } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export interface ListenerOptions {
  keepAliveTimeoutMs: number;
  /** Longest time to receive a request's headers (a new connection counts from its opening). */
  headersTimeoutMs: number;
  /** Longest time to receive a whole request, headers and body; 0 = none. At least headersTimeoutMs. */
  requestTimeoutMs: number;
  /** Most client connections open at once. */
  maxConnections: number;
}

export function createListener(handler: http.RequestListener, options: ListenerOptions): http.Server {
  const server = createServer({
    noDelay: true,
    keepAlive: true,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    connectionsCheckingInterval: sweepInterval(options.headersTimeoutMs),
    maxHeaderSize: 64 * 1024,
  }, handler);
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  capConnections(server, options.maxConnections);
  return server;
}

/** Half the headers timeout, between 50 ms and 1 s: a limit fires at most that late. */
function sweepInterval(headersTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(headersTimeoutMs / 2)));
}

export function listen(server: http.Server, host: string, port: number, reusePort = false): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ host, port, reusePort, exclusive: reusePort ? true : undefined }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Stops accepting, closes idle keep-alive sockets, waits for in-flight work up to `timeoutMs`. */
export async function drainListener(server: http.Server, whenIdle: () => Promise<void>, timeoutMs: number): Promise<boolean> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); });
  const finished = await Promise.race([whenIdle().then(() => true), timedOut]);
  clearTimeout(timer);
  server.closeAllConnections();
  await closed;
  return finished;
}
