// Loopback ports for tests: a free one for a real process to bind, and a test's own HTTP server
// listening on one until the test ends.
import type { TestContext } from 'node:test';
import type { Server } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `server` on a free loopback port and closes it when the test ends, its open connections
 * cut (a keep-alive client would hold it open), then runs `onClosed`. Returns its base URL.
 */
export async function listenOnLoopback(t: Pick<TestContext, 'after'>, server: Server, onClosed?: () => void): Promise<string> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => {
      onClosed?.();
      resolve();
    });
  }));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
