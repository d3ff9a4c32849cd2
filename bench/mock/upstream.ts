// The benchmark's mock upstream: one process, every profile addressed by a path prefix,
//   /p/<latency ms>/<deltas>/<interval ms>/v1/chat/completions   (OpenAI dialect)
//   /p/<latency ms>/<deltas>/<interval ms>/v1/messages           (Anthropic dialect)
//   /p/<latency ms>/<deltas>/<interval ms>/v1/responses          (OpenAI Responses dialect)
// so the direct path, nginx, Portkey (custom host) and Switchyard (one provider per profile)
// all reach the same server. A non-streaming answer (~600 bytes) is sent after the latency; a
// stream sends its first delta after the latency, then one delta per interval, then the tail.
// An optional failure segment makes a provider that fails now and then (the agent-fleet soak):
//   /p/<latency ms>/<deltas>/<interval ms>/fail/<per mille>/v1/…
// fails that share of requests, chosen at random per request once the request body is read:
// half of them a 503 with an OpenAI error body, half a connection reset (TCP RST) before any
// byte of the answer. GET /stats answers the counts as JSON, so a report can set what the mock
// injected beside what the gateway retried.
// Usage: node bench/mock/upstream.ts --port N
import http from 'node:http';
import { parseArgs } from 'node:util';
import { anthropicMessage, anthropicStream, openaiCompletion, openaiStream, responsesMessage, responsesStream, type StreamScript } from './dialects.ts';

interface Route {
  latencyMs: number;
  /** Share of requests failed on purpose (0–1). */
  failShare: number;
  intervalMs: number;
  json: Buffer;
  stream: StreamScript;
}

const routes = new Map<string, Route | null>();
const pathPattern = /^\/p\/(\d+)\/(\d+)\/(\d+)(?:\/fail\/(\d+))?\/v1\/(chat\/completions|messages|responses)$/;
const streamPattern = /"stream"\s*:\s*true/;

function routeFor(url: string): Route | undefined {
  let route = routes.get(url);
  if (route === undefined) {
    const match = pathPattern.exec(url);
    const api = match?.[5];
    route = match === null ? null : {
      latencyMs: Number(match[1]),
      failShare: match[4] === undefined ? 0 : Number(match[4]) / 1000,
      intervalMs: Number(match[3]),
      json: api === 'messages' ? anthropicMessage : api === 'responses' ? responsesMessage : openaiCompletion,
      stream: (api === 'messages' ? anthropicStream : api === 'responses' ? responsesStream : openaiStream)(Number(match[2])),
    };
    if (routes.size < 1000) routes.set(url, route);
  }
  return route ?? undefined;
}

const jsonHeaders = (length: number) => ['content-type', 'application/json', 'content-length', String(length)];
const sseHeaders = ['content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-cache'];

function answerJson(response: http.ServerResponse, body: Buffer): void {
  if (response.destroyed) return;
  response.writeHead(200, jsonHeaders(body.length));
  response.end(body);
}

class StreamWriter {
  private readonly response: http.ServerResponse;
  private readonly script: StreamScript;
  private next = 0;
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(response: http.ServerResponse, route: Route) {
    this.response = response;
    this.script = route.stream;
    response.once('close', () => this.stop());
    if (route.latencyMs > 0) this.timer = setTimeout(() => this.begin(route.intervalMs), route.latencyMs);
    else this.begin(route.intervalMs);
  }

  private begin(intervalMs: number): void {
    this.timer = undefined;
    if (this.response.destroyed) return;
    this.response.writeHead(200, sseHeaders);
    this.response.write(this.script.first);
    if (intervalMs <= 0) {
      for (const delta of this.script.deltas) this.response.write(delta);
      this.response.end(this.script.tail);
      return;
    }
    this.timer = setInterval(() => this.tick(), intervalMs);
  }

  /** One write per interval: the remaining deltas, then the tail (finish reason, usage, end). */
  private tick(): void {
    const deltas = this.script.deltas;
    if (this.next < deltas.length) {
      this.response.write(deltas[this.next++]!);
      return;
    }
    this.stop();
    this.response.end(this.script.tail);
  }

  private stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

const stats = { requests: 0, failingRouteRequests: 0, injected503: 0, injectedResets: 0 };
const injected503 = Buffer.from(JSON.stringify({ error: { message: 'mock: injected failure (503)', type: 'server_error', code: 'injected' } }));

/** A failing route's bad luck: a 503, or a reset before the first byte of the answer. */
function injectFailure(request: http.IncomingMessage, response: http.ServerResponse): void {
  if (Math.random() < 0.5) {
    stats.injected503++;
    response.writeHead(503, jsonHeaders(injected503.length));
    response.end(injected503);
  } else {
    stats.injectedResets++;
    request.socket.resetAndDestroy();
  }
}

function handle(request: http.IncomingMessage, response: http.ServerResponse): void {
  if (request.method === 'GET' && request.url === '/stats') {
    const body = Buffer.from(JSON.stringify(stats));
    response.writeHead(200, jsonHeaders(body.length));
    response.end(body);
    return;
  }
  const route = request.method === 'POST' ? routeFor(request.url ?? '') : undefined;
  if (route === undefined) {
    request.resume();
    const body = Buffer.from(JSON.stringify({ error: { message: `mock: no route for ${request.method} ${request.url}`, type: 'invalid_request_error' } }));
    response.writeHead(404, jsonHeaders(body.length));
    response.end(body);
    return;
  }
  let text = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => { text += chunk; });
  stats.requests++;
  if (route.failShare > 0) stats.failingRouteRequests++;
  request.on('end', () => {
    if (route.failShare > 0 && Math.random() < route.failShare) injectFailure(request, response);
    else if (streamPattern.test(text)) new StreamWriter(response, route);
    else if (route.latencyMs > 0) setTimeout(answerJson, route.latencyMs, response, route.json);
    else answerJson(response, route.json);
  });
}

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = Number(values.port ?? '0');
const server = http.createServer({ keepAlive: true, noDelay: true, requestTimeout: 0 }, handle);
// Longer than every proxy's upstream idle timeout, so the proxy always closes first.
server.keepAliveTimeout = 300_000;
server.headersTimeout = 301_000;
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  const address = server.address();
  process.stdout.write(`mock listening on 127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
