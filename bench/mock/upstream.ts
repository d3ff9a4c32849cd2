// The benchmark's mock upstream: one process, every profile addressed by a path prefix,
//   /p/<latency ms>/<deltas>/<interval ms>/v1/chat/completions   (OpenAI dialect)
//   /p/<latency ms>/<deltas>/<interval ms>/v1/messages           (Anthropic dialect)
//   /p/<latency ms>/<deltas>/<interval ms>/v1/responses          (OpenAI Responses dialect)
// so the direct path, nginx, Portkey (custom host) and Switchyard (one provider per profile)
// all reach the same server. A non-streaming answer (~600 bytes) is sent after the latency; a
// stream sends its first delta after the latency, then one delta per interval, then the tail.
// Usage: node bench/mock/upstream.ts --port N
import http from 'node:http';
import { parseArgs } from 'node:util';
import { anthropicMessage, anthropicStream, openaiCompletion, openaiStream, responsesMessage, responsesStream, type StreamScript } from './dialects.ts';

interface Route {
  latencyMs: number;
  intervalMs: number;
  json: Buffer;
  stream: StreamScript;
}

const routes = new Map<string, Route | null>();
const pathPattern = /^\/p\/(\d+)\/(\d+)\/(\d+)\/v1\/(chat\/completions|messages|responses)$/;
const streamPattern = /"stream"\s*:\s*true/;

function routeFor(url: string): Route | undefined {
  let route = routes.get(url);
  if (route === undefined) {
    const match = pathPattern.exec(url);
    route = match === null ? null : {
      latencyMs: Number(match[1]),
      intervalMs: Number(match[3]),
      json: match[4] === 'messages' ? anthropicMessage : match[4] === 'responses' ? responsesMessage : openaiCompletion,
      stream: (match[4] === 'messages' ? anthropicStream : match[4] === 'responses' ? responsesStream : openaiStream)(Number(match[2])),
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

function handle(request: http.IncomingMessage, response: http.ServerResponse): void {
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
  request.on('end', () => {
    if (streamPattern.test(text)) new StreamWriter(response, route);
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
