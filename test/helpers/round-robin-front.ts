// A small round-robin front for several gateway instances on loopback, standing in for the
// load balancer of deploy/nginx.conf so the multi-instance tests need no nginx. It behaves as that
// config does where a rolling restart can tell:
// - round robin over the instances, keep-alive connections to each;
// - a request body is read whole before it is sent (nginx buffers request bodies), so the request
//   can go again: a connection refused, reset or closed before the response head sends it to the
//   next instance (`proxy_next_upstream error … non_idempotent`), each instance tried at most once;
// - `maxFails` such failures within `failTimeoutMs` skip an instance for `failTimeoutMs`
//   (`max_fails=3 fail_timeout=2s`); with every instance skipped the answer is nginx's 502;
// - once a response head has come, nothing is retried: the body goes through as it arrives, write
//   by write (`proxy_buffering off`), and a body cut by the instance cuts the client's too.
// Each answer says which instance gave it in `x-front-upstream` (nginx: `$upstream_addr`).
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RoundRobinFrontOptions {
  /** The instances' base URLs (`http://127.0.0.1:PORT`). */
  upstreams: readonly string[];
  /** Failures within `failTimeoutMs` that take an instance out for `failTimeoutMs`; default 3. */
  maxFails?: number;
  /** Default 2000 ms. */
  failTimeoutMs?: number;
}

/** What the front saw of one instance. */
export interface UpstreamStats {
  readonly address: string;
  /** Requests sent to it (retries included). */
  sent: number;
  /** Response heads it answered. */
  answered: number;
  /** Its answers whose body is still going through. */
  active: number;
  /** Requests that failed before a response head and went to the next instance (or got the 502). */
  failed: number;
  /** Times it was taken out of rotation for `failTimeoutMs`. */
  markedDown: number;
}

/** Headers that belong to one connection, not to the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

class Upstream {
  readonly host: string;
  readonly port: number;
  readonly agent = new Agent({ keepAlive: true });
  readonly stats: UpstreamStats;
  private failures: number[] = [];
  private downUntil = 0;

  constructor(url: string) {
    const parsed = new URL(url);
    this.host = parsed.hostname;
    this.port = Number(parsed.port);
    this.stats = { address: `${this.host}:${this.port}`, sent: 0, answered: 0, active: 0, failed: 0, markedDown: 0 };
  }

  up(now: number): boolean {
    return now >= this.downUntil;
  }

  failed(now: number, maxFails: number, failTimeoutMs: number): void {
    this.stats.failed++;
    this.failures = this.failures.filter((at) => now - at < failTimeoutMs);
    this.failures.push(now);
    if (this.failures.length >= maxFails) {
      this.failures = [];
      this.downUntil = now + failTimeoutMs;
      this.stats.markedDown++;
    }
  }

  succeeded(): void {
    this.failures = [];
  }
}

export class RoundRobinFront {
  readonly url: string;
  private readonly server: ReturnType<typeof createServer>;
  private readonly upstreams: Upstream[];
  private readonly sockets: Set<Socket>;
  private readonly maxFails: number;
  private readonly failTimeoutMs: number;
  private next = 0;
  /** Requests answered with the front's own 502 (no instance answered). */
  noLiveUpstreams = 0;

  constructor(server: ReturnType<typeof createServer>, upstreams: Upstream[], sockets: Set<Socket>, options: RoundRobinFrontOptions) {
    this.server = server;
    this.upstreams = upstreams;
    this.sockets = sockets;
    this.maxFails = options.maxFails ?? 3;
    this.failTimeoutMs = options.failTimeoutMs ?? 2000;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Per instance, in the order given. */
  get stats(): readonly UpstreamStats[] {
    return this.upstreams.map((upstream) => upstream.stats);
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => this.forward(request, response, Buffer.concat(chunks), new Set()));
    request.on('error', () => response.destroy());
  }

  /** The next instance in rotation that is up and not yet tried for this request. */
  private pick(tried: ReadonlySet<Upstream>): Upstream | undefined {
    const now = Date.now();
    for (let i = 0; i < this.upstreams.length; i++) {
      const upstream = this.upstreams[(this.next + i) % this.upstreams.length]!;
      if (tried.has(upstream) || !upstream.up(now)) continue;
      this.next = (this.upstreams.indexOf(upstream) + 1) % this.upstreams.length;
      return upstream;
    }
    return undefined;
  }

  private forward(request: IncomingMessage, response: ServerResponse, body: Buffer, tried: Set<Upstream>): void {
    if (response.destroyed) return;
    const upstream = this.pick(tried);
    if (upstream === undefined) {
      this.noLiveUpstreams++;
      response.writeHead(502, { 'content-type': 'text/plain', 'x-front-upstream': 'none' }).end('no live upstreams\n');
      return;
    }
    tried.add(upstream);
    upstream.stats.sent++;
    const headers = endToEnd(request.headers);
    headers['content-length'] = body.length;
    const outgoing = httpRequest({ host: upstream.host, port: upstream.port, method: request.method, path: request.url, headers, agent: upstream.agent });
    let answered = false;
    outgoing.on('response', (incoming) => {
      answered = true;
      upstream.succeeded();
      upstream.stats.answered++;
      upstream.stats.active++;
      const responseHeaders = endToEnd(incoming.headers);
      responseHeaders['x-front-upstream'] = upstream.stats.address;
      response.writeHead(incoming.statusCode ?? 502, responseHeaders);
      response.flushHeaders();
      incoming.pipe(response);
      // a cut body is seen below, at its close
      incoming.on('error', () => {});
      incoming.on('close', () => {
        upstream.stats.active--;
        // the instance cut the body: so is the client's (nginx closes the connection too)
        if (!incoming.complete) response.destroy();
      });
    });
    outgoing.on('error', () => {
      if (answered) return;
      upstream.failed(Date.now(), this.maxFails, this.failTimeoutMs);
      this.forward(request, response, body, tried);
    });
    // a client that leaves takes its request along
    response.on('close', () => {
      if (!response.writableFinished) outgoing.destroy();
    });
    outgoing.end(body);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    for (const upstream of this.upstreams) upstream.agent.destroy();
    await closed;
  }
}

export async function startRoundRobinFront(options: RoundRobinFrontOptions): Promise<RoundRobinFront> {
  const upstreams = options.upstreams.map((url) => new Upstream(url));
  const sockets = new Set<Socket>();
  let front: RoundRobinFront | undefined;
  const server = createServer({ keepAliveTimeout: 65_000 }, (request, response) => front!.handle(request, response));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front = new RoundRobinFront(server, upstreams, sockets, options);
  return front;
}
