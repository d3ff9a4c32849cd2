// The downstream listener: plain node:http (frameworks lose the benchmark), TCP_NODELAY, no
// request timeout (streams run for minutes), keep-alive longer than typical client pools.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ListenerOptions {
  keepAliveTimeoutMs: number;
}

export function createListener(handler: http.RequestListener, options: ListenerOptions): http.Server {
  const server = http.createServer({
    noDelay: true,
    keepAlive: true,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // The whole request may take as long as the model does; per-phase timeouts live upstream.
    requestTimeout: 0,
    headersTimeout: 60_000,
    maxHeaderSize: 64 * 1024,
  }, handler);
  server.keepAliveTimeout = options.keepAliveTimeoutMs;
  // Slightly above keepAliveTimeout, so the server never drops a socket while a request is due.
  server.headersTimeout = Math.max(60_000, options.keepAliveTimeoutMs + 1000);
  return server;
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
