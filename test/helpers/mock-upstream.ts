// A scriptable OpenAI-compatible upstream on 127.0.0.1, in the spirit of undici's loopback test
// servers: by default it answers like OpenAI, and a script can make any request fail, stall,
// reset or stream slowly, so retry, timeout and cancellation are tested against real sockets.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { defaultAnswer, openAiError, splitIntoDeltas, type SseFrame } from './default-answer.ts';

export interface RecordedRequest {
  method: string;
  /** Path with the query string, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** The parsed JSON body, or undefined when there is none or it is not JSON. */
  body: any;
  /** Requests that share a socketId came over the same (kept-alive) connection. */
  socketId: number;
  /** Date.now() when the whole request body had arrived. */
  receivedAt: number;
  /** Date.now() when the whole response had been written (unset while it streams, stalls, or if it never ends). */
  respondedAt?: number;
}

export type Behavior =
  /** What OpenAI would answer for the path; streams when body.stream is true. */
  | { kind: 'default' }
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string>; delayMs?: number }
  | { kind: 'raw'; status: number; body: string | Buffer; headers?: Record<string, string> }
  /**
   * Each event is an SSE payload without the blank line after it: JSON text or '[DONE]' is sent
   * as `data: <event>`; an entry that already starts with a field (`data:`, `event:`, `id:`,
   * `retry:`) or a comment (`:`) is sent verbatim. After the last event the response ends
   * (default), the socket is reset, or the response stalls until the client or close() ends it.
   */
  | {
      kind: 'stream';
      events: string[];
      intervalMs?: number;
      status?: number;
      headers?: Record<string, string>;
      thenBehavior?: 'end' | 'reset' | 'stall';
    }
  /**
   * Raw body pieces written one write() each (NDJSON lines, a streamed JSON array), with the
   * given content type; for dialects that do not stream SSE.
   */
  | {
      kind: 'chunks';
      chunks: (string | Buffer)[];
      contentType: string;
      intervalMs?: number;
      status?: number;
      thenBehavior?: 'end' | 'reset' | 'stall';
      /** Before chunk #index (from 1) is written, waits for this (e.g. the client having read the earlier ones). */
      gate?: (index: number) => Promise<unknown>;
    }
  /** Waits, then behaves as `then` (default: { kind: 'default' }). */
  | { kind: 'delay'; ms: number; then?: Behavior }
  /** Holds the request until `until` settles (a barrier shared by many requests), then behaves as `then`. */
  | { kind: 'hold'; until: Promise<unknown>; then: Behavior }
  /** Sends a TCP RST before any response byte. */
  | { kind: 'reset' }
  /** Reads the body and never answers. */
  | { kind: 'no-response' }
  /** Sends the status line and SSE headers, flushes them, then nothing. */
  | { kind: 'headers-then-stall'; status?: number };

export interface MockUpstreamOptions {
  script?: (request: RecordedRequest, index: number) => Behavior;
  /** Served by GET /v1/models; default ['mock-gpt', 'mock-embed']. */
  models?: string[];
  /** Streamed text pieces; default: `text` split into words, or ['Hello', ' from', ' the', ' mock.']. */
  streamDeltas?: string[];
  /** Spacing between streamed events; default 0 (all written at once, one write() each). */
  streamIntervalMs?: number;
  /** Non-streamed text; default: the stream deltas joined, or 'Hello from the mock.'. */
  text?: string;
}

export interface MockUpstream {
  /** http://127.0.0.1:PORT, without a trailing slash or /v1. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  setScript(script: (request: RecordedRequest, index: number) => Behavior): void;
  /** Resolves when the socket that carried request #index closes, with Date.now() at that moment. */
  socketClosed(index: number): Promise<number>;
  openSockets(): number;
  /** Resolves once `count` requests have been recorded; rejects after timeoutMs (default 5000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Closes the server and destroys every socket; clears every pending timer. */
  close(): Promise<void>;
}

const defaultDeltas = ['Hello', ' from', ' the', ' mock.'];
const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

class SocketState {
  readonly id: number;
  readonly closed: Promise<number>;
  markClosed!: (at: number) => void;

  constructor(id: number) {
    this.id = id;
    this.closed = new Promise((resolve) => { this.markClosed = resolve; });
  }
}

/** One request/response pair; its timers die with it, so an aborted client stops the script. */
class Exchange {
  readonly response: ServerResponse;
  readonly socket: Socket;
  readonly timers = new Set<NodeJS.Timeout>();
  finished = false;

  constructor(response: ServerResponse, socket: Socket) {
    this.response = response;
    this.socket = socket;
  }

  after(ms: number, action: () => void): void {
    if (this.finished) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.finished) action();
    }, ms);
    this.timers.add(timer);
  }

  dispose(): void {
    this.finished = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Resets once what was written so far has reached the kernel, so the client still reads it. */
  resetAfterFlush(): void {
    this.socket.write('', () => setImmediate(() => this.socket.resetAndDestroy()));
  }
}

interface Waiter {
  count: number;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export function frameText(frame: SseFrame): string {
  return frame.event === undefined ? `data: ${frame.data}\n\n` : `event: ${frame.event}\ndata: ${frame.data}\n\n`;
}

function scriptedFrameText(entry: string): string {
  return /^(?:data:|event:|id:|retry:|:)/.test(entry) ? `${entry}\n\n` : `data: ${entry}\n\n`;
}

export async function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const models = options.models ?? ['mock-gpt', 'mock-embed'];
  const streamDeltas = options.streamDeltas
    ?? (options.text === undefined ? defaultDeltas : splitIntoDeltas(options.text));
  const text = options.text ?? streamDeltas.join('');
  const streamIntervalMs = options.streamIntervalMs ?? 0;
  let script = options.script ?? ((): Behavior => ({ kind: 'default' }));

  const requests: RecordedRequest[] = [];
  const socketStates = new Map<number, SocketState>();
  const stateOfSocket = new WeakMap<Socket, SocketState>();
  const openSocketSet = new Set<Socket>();
  const exchanges = new Set<Exchange>();
  const waiters = new Set<Waiter>();
  let nextSocketId = 0;
  let closing: Promise<void> | undefined;

  const server = createServer({ keepAliveTimeout: 10_000 });
  server.keepAliveTimeout = 10_000;

  server.on('connection', (socket: Socket) => {
    const state = new SocketState(++nextSocketId);
    socketStates.set(state.id, state);
    stateOfSocket.set(socket, state);
    openSocketSet.add(socket);
    socket.once('close', () => {
      openSocketSet.delete(socket);
      state.markClosed(Date.now());
    });
  });
  // A client that resets or sends garbage is part of the tests; never answer it with a 400.
  server.on('clientError', (_error, socket) => socket.destroy());

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => {});
    response.on('error', () => {});
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const socket = request.socket;
      const record: RecordedRequest = {
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        headers: request.headers,
        rawBody,
        body: parseJson(rawBody),
        socketId: stateOfSocket.get(socket)?.id ?? 0,
        receivedAt: Date.now(),
      };
      const index = requests.push(record) - 1;
      for (const waiter of waiters) {
        if (requests.length >= waiter.count) {
          clearTimeout(waiter.timer);
          waiters.delete(waiter);
          waiter.resolve();
        }
      }
      const exchange = new Exchange(response, socket);
      exchanges.add(exchange);
      response.once('finish', () => { record.respondedAt = Date.now(); });
      response.once('close', () => {
        exchange.dispose();
        exchanges.delete(exchange);
      });
      let behavior: Behavior;
      try {
        behavior = script(record, index);
      } catch (error) {
        behavior = { kind: 'json', status: 500, body: openAiError(`mock script threw: ${String(error)}`, 'server_error') };
      }
      run(exchange, record, index, behavior);
    });
  });

  function run(exchange: Exchange, record: RecordedRequest, index: number, behavior: Behavior): void {
    const { response } = exchange;
    switch (behavior.kind) {
      case 'default':
        return answerByDefault(exchange, record, index);
      case 'json': {
        const send = () => sendJson(response, behavior.status, behavior.body, behavior.headers);
        if (behavior.delayMs !== undefined && behavior.delayMs > 0) exchange.after(behavior.delayMs, send);
        else send();
        return;
      }
      case 'raw':
        response.writeHead(behavior.status, behavior.headers ?? {});
        response.end(behavior.body);
        return;
      case 'stream':
        return writeStream(
          exchange,
          behavior.events.map(scriptedFrameText),
          behavior.intervalMs ?? 0,
          behavior.status ?? 200,
          behavior.headers,
          behavior.thenBehavior ?? 'end',
        );
      case 'chunks':
        return writeStream(
          exchange,
          behavior.chunks,
          behavior.intervalMs ?? 0,
          behavior.status ?? 200,
          { 'content-type': behavior.contentType },
          behavior.thenBehavior ?? 'end',
          behavior.gate,
        );
      case 'delay':
        exchange.after(behavior.ms, () => run(exchange, record, index, behavior.then ?? { kind: 'default' }));
        return;
      case 'hold': {
        const proceed = () => {
          if (!exchange.finished) run(exchange, record, index, behavior.then);
        };
        behavior.until.then(proceed, proceed);
        return;
      }
      case 'reset':
        exchange.socket.resetAndDestroy();
        return;
      case 'no-response':
        return;
      case 'headers-then-stall':
        response.writeHead(behavior.status ?? 200, sseHeaders);
        response.flushHeaders();
        return;
      default: {
        const unknown: never = behavior;
        throw new Error(`unknown mock behavior ${JSON.stringify(unknown)}`);
      }
    }
  }

  function answerByDefault(exchange: Exchange, record: RecordedRequest, index: number): void {
    const answer = defaultAnswer({
      method: record.method,
      pathname: record.path.split('?')[0] ?? '/',
      body: record.body,
      malformedBody: record.rawBody.length > 0 && record.body === undefined,
      sequence: index,
      now: Math.floor(record.receivedAt / 1000),
      models,
      text,
      streamDeltas,
    });
    const headers = { 'x-request-id': `req_mock${index}`, 'openai-processing-ms': '0' };
    if (answer.kind === 'json') sendJson(exchange.response, answer.status, answer.body, headers);
    else writeStream(exchange, answer.frames.map(frameText), streamIntervalMs, 200, headers, 'end');
  }

  function writeStream(
    exchange: Exchange,
    frames: (string | Buffer)[],
    intervalMs: number,
    status: number,
    headers: Record<string, string> | undefined,
    then: 'end' | 'reset' | 'stall',
    gate?: (index: number) => Promise<unknown>,
  ): void {
    const { response } = exchange;
    response.writeHead(status, { ...sseHeaders, ...headers });
    response.flushHeaders();
    let next = 0;
    const finish = () => {
      if (then === 'end') response.end();
      else if (then === 'reset') exchange.resetAfterFlush();
    };
    if (gate !== undefined) {
      const gated = (): void => {
        if (exchange.finished) return;
        if (next >= frames.length) {
          finish();
          return;
        }
        if (next === 0) {
          response.write(frames[next++]);
          gated();
          return;
        }
        const index = next;
        void gate(index).then(() => {
          if (exchange.finished) return;
          response.write(frames[next++]);
          gated();
        });
      };
      gated();
      return;
    }
    if (intervalMs <= 0) {
      while (next < frames.length) response.write(frames[next++]);
      finish();
      return;
    }
    const step = () => {
      response.write(frames[next++]);
      if (next < frames.length) exchange.after(intervalMs, step);
      else finish();
    };
    if (frames.length === 0) finish();
    else step();
  }

  function waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    if (requests.length >= count) return Promise.resolve();
    if (closing !== undefined) return Promise.reject(new Error('mock upstream is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`mock upstream: expected ${count} request(s), got ${requests.length} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      waiters.add(waiter);
    });
  }

  async function socketClosed(index: number): Promise<number> {
    await waitForRequests(index + 1);
    const state = socketStates.get(requests[index]!.socketId);
    if (state === undefined) throw new Error(`mock upstream: no socket recorded for request #${index}`);
    return state.closed;
  }

  function close(): Promise<void> {
    closing ??= new Promise<void>((resolve) => {
      for (const waiter of waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error('mock upstream closed'));
      }
      waiters.clear();
      for (const exchange of exchanges) exchange.dispose();
      exchanges.clear();
      const serverClosed = new Promise<void>((done) => server.close(() => done()));
      // The server's close callback can run before the sockets' own 'close' events; wait for
      // those too, so openSockets() is 0 and socketClosed() has settled once close() resolves.
      const socketsClosed = [...openSocketSet].map((socket) => stateOfSocket.get(socket)!.closed);
      for (const socket of openSocketSet) socket.destroy();
      server.closeAllConnections();
      void Promise.all([serverClosed, ...socketsClosed]).then(() => resolve());
    });
    return closing;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setScript(nextScript) { script = nextScript; },
    socketClosed,
    openSockets: () => openSocketSet.size,
    waitForRequests,
    close,
  };
}

/** A recorded multipart/form-data body, parsed (by undici's own FormData parser, not the gateway's). */
export function formOf(record: RecordedRequest): Promise<FormData> {
  const type = record.headers['content-type'];
  return new Response(new Uint8Array(record.rawBody), { headers: { 'content-type': String(type) } }).formData();
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const payload = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(payload.length),
    ...headers,
  });
  response.end(payload);
}

function parseJson(rawBody: Buffer): unknown {
  if (rawBody.length === 0) return undefined;
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    return undefined;
  }
}
