// The load client for what wrk cannot measure: one request at a time (added latency) and
// streams (time to first token, gaps between chunks, stalls, up to 1,000 concurrent). Raw
// node:net with keep-alive and a tiny HTTP parser, timed with process.hrtime.bigint(); it runs as
// its own process and prints one JSON line with the figures.
// Usage: node bench/clients/load-client.ts '<ClientSpec as JSON>'
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { distribution, type Distribution } from '../lib/stats.ts';
import { connectParsed, ResponseParser } from './response-parser.ts';

export interface ClientSpec {
  mode: 'sequential' | 'streams';
  port: number;
  path: string;
  headers: [string, string][];
  body: string;
  /** Read the body from this file instead (a command-line argument is limited to 128 KB). */
  bodyFile?: string;
  /** Keep starting requests (streams) until this much time has passed. */
  durationMs: number;
  /** Requests (streams) sent in this first stretch are not timed (connections, JIT warm up). */
  warmupMs: number;
  /** streams: connections, each running one stream at a time. */
  concurrency: number;
  /** streams: connection starts are spread over this long. */
  rampMs: number;
  /** streams: when > 0, each connection runs exactly this many streams (durationMs ignored). */
  streamsPerConnection: number;
  /** streams: the mock's interval between deltas, and the slack above it that counts as a stall. */
  intervalMs: number;
  stallMs: number;
  /** Give up (unfinished work counts as errors) after this long. */
  deadlineMs: number;
}

export interface ClientResult {
  completed: number;
  errors: number;
  errorSamples: string[];
  latencyUs: Distribution;
  ttftUs: Distribution;
  gapUs: Distribution;
  stalledStreams: number;
  peakConcurrent: number;
  elapsedMs: number;
}

const base = process.hrtime.bigint();
const nowUs = () => Number(process.hrtime.bigint() - base) / 1000;

const spec = JSON.parse(process.argv[2] ?? '{}') as ClientSpec;
const headerLines = spec.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
const bodyBytes = spec.bodyFile === undefined ? Buffer.from(spec.body) : readFileSync(spec.bodyFile);
const request = Buffer.concat([
  Buffer.from(`POST ${spec.path} HTTP/1.1\r\nhost: 127.0.0.1:${spec.port}\r\ncontent-type: application/json\r\ncontent-length: ${bodyBytes.length}\r\n${headerLines}\r\n`, 'latin1'),
  bodyBytes,
]);

const latencies: number[] = [];
const ttfts: number[] = [];
const gaps: number[] = [];
const errorSamples: string[] = [];
let completed = 0;
let errors = 0;
let stalledStreams = 0;
let active = 0;
let peakConcurrent = 0;
let connectionsLeft = 0;
const startedAt = nowUs();
const stopAt = startedAt + spec.durationMs * 1000;
const warmEnd = startedAt + spec.warmupMs * 1000;
const stallUs = (spec.intervalMs + spec.stallMs) * 1000;
const done = new Set<Connection>();

function fail(reason: string): void {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(reason);
}

class Connection {
  private socket: net.Socket | undefined = undefined;
  private parser: ResponseParser;
  private sentAt = 0;
  private lastEventAt = 0;
  private maxGap = 0;
  private events = 0;
  private lastByte = 0;
  private tail = '';
  private streamsRun = 0;
  private busy = false;
  private finished = false;
  private failedLast = false;

  constructor() {
    this.parser = this.newParser();
  }

  private newParser(): ResponseParser {
    return new ResponseParser({
      onHead: () => {},
      onPayload: (chunk, start, end) => this.onPayload(chunk, start, end),
      onComplete: () => this.onComplete(),
    });
  }

  start(): void {
    this.parser = this.newParser();
    this.socket = connectParsed(spec.port, this.parser, {
      connected: () => this.send(),
      failed: (reason) => this.abandon(reason),
      closed: () => {
        if (this.busy && !this.failedLast) this.abandon('connection closed mid-response');
        // Reconnect (after a pause if that connection failed) until the work is done.
        if (!this.finished) setTimeout(() => this.start(), this.failedLast ? 100 : 0);
      },
    });
  }

  private send(): void {
    if (!this.wantsMore()) return this.finish();
    this.busy = true;
    this.events = 0;
    this.maxGap = 0;
    this.tail = '';
    this.lastByte = 0;
    if (spec.mode === 'streams') {
      this.streamsRun++;
      if (++active > peakConcurrent) peakConcurrent = active;
    }
    this.failedLast = false;
    this.sentAt = nowUs();
    this.socket!.write(request);
  }

  private wantsMore(): boolean {
    if (spec.mode === 'streams' && spec.streamsPerConnection > 0) return this.streamsRun < spec.streamsPerConnection;
    return nowUs() < stopAt;
  }

  private onPayload(chunk: Buffer, start: number, end: number): void {
    if (spec.mode !== 'streams') return;
    // An event is complete at a blank line ("\n\n"); time the reads that complete events, so a
    // proxy splitting one event over two writes adds no fake gap.
    let completes = 0;
    let previous = this.lastByte;
    for (let i = start; i < end; i++) {
      const byte = chunk[i]!;
      if (byte === 10 && previous === 10) completes++;
      if (byte !== 13) previous = byte;
    }
    this.lastByte = previous;
    this.tail = (this.tail + chunk.toString('latin1', Math.max(start, end - 32), end)).slice(-32);
    if (completes === 0) return;
    const now = nowUs();
    if (this.sentAt < warmEnd) {
      this.events += completes;
      this.lastEventAt = now;
      return;
    }
    if (this.events === 0) ttfts.push(now - this.sentAt);
    else {
      const gap = now - this.lastEventAt;
      gaps.push(gap);
      if (gap > this.maxGap) this.maxGap = gap;
    }
    this.events += completes;
    this.lastEventAt = now;
  }

  private onComplete(): void {
    const now = nowUs();
    this.busy = false;
    if (spec.mode === 'streams') active--;
    if (this.parser.status !== 200) fail(`status ${this.parser.status}`);
    else if (spec.mode === 'streams' && !this.tail.includes('[DONE]')) fail('stream ended without [DONE]');
    else {
      completed++;
      if (spec.mode === 'sequential' && this.sentAt >= warmEnd) latencies.push(now - this.sentAt);
      if (spec.mode === 'streams' && this.maxGap > stallUs) stalledStreams++;
    }
    if (!this.parser.keepAlive) {
      this.socket!.destroy();
      return; // 'close' reconnects
    }
    this.send();
  }

  /** A failed connection: the request in flight (or the attempt to connect) counts as an error. */
  private abandon(reason: string): void {
    this.failedLast = true;
    if (this.busy) {
      this.busy = false;
      if (spec.mode === 'streams') active--;
    }
    fail(reason);
    if (this.finished) return;
    this.socket?.destroy();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.socket?.destroy();
    if (!done.has(this)) {
      done.add(this);
      if (--connectionsLeft === 0) report();
    }
  }

  stop(): void {
    if (this.busy) this.abandon('unfinished at the deadline');
    this.finish();
  }
}

let reported = false;
function report(): void {
  if (reported) return;
  reported = true;
  const result: ClientResult = {
    completed, errors, errorSamples,
    latencyUs: distribution(latencies),
    ttftUs: distribution(ttfts),
    gapUs: distribution(gaps),
    stalledStreams, peakConcurrent,
    elapsedMs: (nowUs() - startedAt) / 1000,
  };
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

const connections: Connection[] = [];
const count = spec.mode === 'sequential' ? 1 : spec.concurrency;
connectionsLeft = count;
for (let i = 0; i < count; i++) {
  const connection = new Connection();
  connections.push(connection);
  const delay = count > 1 ? (spec.rampMs * i) / count : 0;
  if (delay === 0) connection.start();
  else setTimeout(() => connection.start(), delay);
}
setTimeout(() => {
  for (const connection of connections) connection.stop();
  report();
}, spec.deadlineMs).unref();
