// The Node floor: the least any Node.js gateway does — node:http in, one undici Pool out, the
// body and answer passed through as bytes with back-pressure, keep-alive both sides, TCP_NODELAY.
// No auth, no JSON parse, no routing, no logging, no timeouts beyond undici's. Measured beside
// nginx and Switchyard, it separates what the runtime costs from what Switchyard's features cost.
// Plain JavaScript, so nothing is type-stripped at start-up.
// Usage: node bench/floor/proxy.mjs <port> <upstream origin>
import http from 'node:http';
import { Pool } from 'undici';

const port = Number(process.argv[2]);
const origin = process.argv[3];
const pool = new Pool(origin, { connections: null, pipelining: 1, keepAliveTimeout: 4000, connect: { noDelay: true, keepAlive: true } });

class Relay {
  constructor(response) {
    this.response = response;
    this.controller = undefined;
  }
  onRequestStart(controller) {
    this.controller = controller;
  }
  onResponseStart(_controller, status, headers) {
    const out = [];
    if (typeof headers['content-type'] === 'string') out.push('content-type', headers['content-type']);
    if (typeof headers['content-length'] === 'string') out.push('content-length', headers['content-length']);
    this.response.writeHead(status, out);
  }
  onResponseData(_controller, chunk) {
    if (!this.response.write(chunk)) {
      this.controller.pause();
      this.response.once('drain', () => this.controller.resume());
    }
  }
  onResponseEnd() {
    this.response.end();
  }
  onResponseError(_controller, error) {
    if (!this.response.headersSent) {
      this.response.writeHead(502, ['content-type', 'text/plain']);
      this.response.end(error.message);
    } else this.response.destroy(error);
  }
}

const server = http.createServer({ keepAliveTimeout: 65_000, noDelay: true }, (request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    pool.dispatch({
      origin, path: request.url ?? '/', method: 'POST',
      headers: ['content-type', 'application/json', 'content-length', String(body.length), 'authorization', String(request.headers.authorization ?? '')],
      body,
    }, new Relay(response));
  });
});
server.listen(port, '127.0.0.1');
