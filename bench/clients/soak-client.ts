// The agent-fleet soak's load: `agents` simulated coding agents, each one keep-alive connection
// running a loop of 256 KB OpenAI chat requests, alternating non-streamed and streamed (so half of
// all requests are streamed), for the soak's duration. Every answer is classified
// (bench/clients/soak-outcome.ts); latencies go into HDR histograms (node:perf_hooks), per bucket
// only for the first window and the newest buckets (bench/lib/soak-windows.ts `keepsBucket`), so
// the client's memory stays flat over hours. Runs as its own process and prints one JSON line
// (SoakClientResult) at the end. Every minute it also writes its result so far to the spec's
// checkpoint file (a temporary file renamed over it): a session can end with a SIGKILL that no
// handler sees, and the harness renders the report from the last checkpoint.
// Usage: node bench/clients/soak-client.ts '<SoakClientSpec as JSON>'
import { readFileSync } from 'node:fs';
import type net from 'node:net';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { writeFileAtomic } from '../lib/atomic-write.ts';
import { comparedWindows, RollingBuckets, soakWindows, type BucketRange } from '../lib/soak-windows.ts';
import { connectParsed, ResponseParser } from './response-parser.ts';
import { allowedOutcomes, classifyAnswer, outcomes, type Outcome } from './soak-outcome.ts';

export interface SoakClientSpec {
  port: number;
  path: string;
  headers: [string, string][];
  /** The same conversation, `stream: false` and `stream: true`. */
  plainBodyFile: string;
  streamBodyFile: string;
  agents: number;
  durationMs: number;
  /** Agent starts are spread over this long. */
  rampMs: number;
  /** A request without a whole answer after this long is a hang (its connection is dropped). */
  hangMs: number;
  /** Where the result so far is written every `checkpointMs` (default 60 s), and the final result at the end. */
  checkpointFile?: string;
  checkpointMs?: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface WindowFigures {
  /** Non-streamed: request sent to the answer's last byte, µs. */
  latencyUs: Percentiles;
  /** Streamed: request sent to the first byte of the stream's body, µs. */
  ttftUs: Percentiles;
  /** Streamed: request sent to the stream's last byte, µs. */
  streamUs: Percentiles;
}

export interface SoakClientResult {
  agents: number;
  bucketMs: number;
  windowBuckets: number;
  requests: number;
  streamed: number;
  outcomes: Record<Outcome, number>;
  /** Up to three examples of each outcome but `ok`. */
  samples: Partial<Record<Outcome, string[]>>;
  /** x-switchyard-error-code (or the stream event's code) of the failures passed on. */
  passedOnCodes: Record<string, number>;
  /** Requests and errors (outcomes not allowed) per bucket, by the time they were sent. */
  requestsPerBucket: number[];
  errorsPerBucket: number[];
  /** The buckets the compared windows cover: at a checkpoint complete buckets only (see `comparedWindows`). */
  firstWindow: BucketRange;
  lastWindow: BucketRange;
  first: WindowFigures;
  last: WindowFigures;
  whole: WindowFigures;
  /** Since the client started (the last bucket may hold requests finished after the duration). */
  elapsedMs: number;
  /** false: a checkpoint, written while the soak still ran. */
  final: boolean;
  /** Date.now() when it was written. */
  writtenAt: number;
}

const base = process.hrtime.bigint();
const nowUs = () => Number(process.hrtime.bigint() - base) / 1000;

const spec = JSON.parse(process.argv[2] ?? '{}') as SoakClientSpec;
const windows = soakWindows(spec.durationMs);
const headerLines = spec.headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
function requestBytes(file: string): Buffer {
  const body = readFileSync(file);
  return Buffer.concat([
    Buffer.from(`POST ${spec.path} HTTP/1.1\r\nhost: 127.0.0.1:${spec.port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${headerLines}\r\n`, 'latin1'),
    body,
  ]);
}
const plainRequest = requestBytes(spec.plainBodyFile);
const streamRequest = requestBytes(spec.streamBodyFile);

class Figures {
  readonly latency = newHistogram();
  readonly ttft = newHistogram();
  readonly stream = newHistogram();

  add(other: Figures): void {
    this.latency.add(other.latency);
    this.ttft.add(other.ttft);
    this.stream.add(other.stream);
  }

  reset(): void {
    this.latency.reset();
    this.ttft.reset();
    this.stream.reset();
  }

  /** A whole answer, sent at `sentAt`, first byte at `firstByteAt` (streamed), last byte at `now` (µs). */
  record(streamedAnswer: boolean, sentAt: number, firstByteAt: number, now: number): void {
    if (streamedAnswer) {
      recordUs(this.ttft, firstByteAt - sentAt);
      recordUs(this.stream, now - sentAt);
    } else recordUs(this.latency, now - sentAt);
  }

  summary(): WindowFigures {
    return { latencyUs: percentiles(this.latency), ttftUs: percentiles(this.ttft), streamUs: percentiles(this.stream) };
  }
}

function newHistogram(): RecordableHistogram {
  return createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 3 });
}

function percentiles(histogram: RecordableHistogram): Percentiles {
  return histogram.count === 0 ? { count: 0, p50: 0, p99: 0, max: 0 }
    : { count: histogram.count, p50: histogram.percentile(50), p99: histogram.percentile(99), max: histogram.max };
}

const recordUs = (histogram: RecordableHistogram, us: number) => histogram.record(Math.max(1, Math.min(3_600_000_000, Math.round(us))));

const whole = new Figures();
/** Histograms per bucket, for the first window and the newest buckets only; the others are counted, not kept. */
const windowFigures = new RollingBuckets(windows, () => new Figures());
/** Reused to merge the buckets of each compared window at every checkpoint. */
const firstMerged = new Figures();
const lastMerged = new Figures();
const requestsPerBucket = new Array<number>(windows.buckets).fill(0);
const errorsPerBucket = new Array<number>(windows.buckets).fill(0);
const outcomeCounts = Object.fromEntries(outcomes.map((outcome) => [outcome, 0])) as Record<Outcome, number>;
const samples: Partial<Record<Outcome, string[]>> = {};
const passedOnCodes: Record<string, number> = {};
let requests = 0;
let streamed = 0;
const startedAt = nowUs();
const stopAt = startedAt + spec.durationMs * 1000;
const bodyCap = 16 * 1024;

/** The bucket a moment (µs on this client's clock) falls in; the run's last bucket after its end. */
function bucketOf(atUs: number): number {
  return Math.min(windows.buckets - 1, Math.floor((atUs - startedAt) / 1000 / windows.bucketMs));
}

function count(outcome: Outcome, sentAt: number, detail: () => string): void {
  const bucket = bucketOf(sentAt);
  requests++;
  requestsPerBucket[bucket]!++;
  outcomeCounts[outcome]++;
  if (!allowedOutcomes.has(outcome)) errorsPerBucket[bucket]!++;
  if (outcome !== 'ok') {
    const list = samples[outcome] ?? (samples[outcome] = []);
    if (list.length < 3) list.push(detail().slice(0, 400));
  }
}

let agentsLeft = 0;

class Agent {
  private socket: net.Socket | undefined = undefined;
  private parser: ResponseParser;
  private streamedNext: boolean;
  private streamedNow = false;
  private busy = false;
  private finished = false;
  private pauseBeforeReconnect = false;
  private sentAt = 0;
  private firstByteAt = 0;
  private status = 0;
  private errorCode: string | undefined = undefined;
  private body = '';
  private tail = '';
  private errorEvent: string | undefined = undefined;
  private hangTimer: NodeJS.Timeout | undefined = undefined;

  constructor(index: number) {
    this.streamedNext = index % 2 === 1;
    this.parser = this.newParser();
  }

  private newParser(): ResponseParser {
    return new ResponseParser({
      onHead: (status, head) => this.onHead(status, head),
      onPayload: (chunk, start, end) => this.onPayload(chunk, start, end),
      onComplete: () => this.onComplete(),
    });
  }

  start(): void {
    this.parser = this.newParser();
    this.socket = connectParsed(spec.port, this.parser, {
      connected: () => this.send(),
      failed: (reason) => this.broken('connection-broken', reason),
      closed: () => {
        if (this.busy) this.broken('connection-broken', 'connection closed before the answer was whole');
        if (this.finished) return;
        const pause = this.pauseBeforeReconnect;
        this.pauseBeforeReconnect = false;
        setTimeout(() => this.start(), pause ? 100 : 0);
      },
    });
  }

  private send(): void {
    if (this.finished) return;
    if (nowUs() >= stopAt) return this.finish();
    this.busy = true;
    this.streamedNow = this.streamedNext;
    this.streamedNext = !this.streamedNext;
    this.firstByteAt = 0;
    this.status = 0;
    this.errorCode = undefined;
    this.body = '';
    this.tail = '';
    this.errorEvent = undefined;
    this.sentAt = nowUs();
    this.hangTimer = setTimeout(() => this.broken('hang', `no whole answer after ${spec.hangMs} ms (${this.streamedNow ? 'streamed' : 'non-streamed'}, status ${this.status || 'none yet'})`), spec.hangMs);
    this.socket!.write(this.streamedNow ? streamRequest : plainRequest);
  }

  private onHead(status: number, head: string): void {
    this.status = status;
    const match = /\r\nx-switchyard-error-code:\s*([^\r]*)/.exec(head);
    this.errorCode = match === null ? undefined : match[1]!.trim().toUpperCase();
  }

  private onPayload(chunk: Buffer, start: number, end: number): void {
    if (this.firstByteAt === 0) this.firstByteAt = nowUs();
    if (!this.streamedNow || this.status !== 200) {
      if (this.body.length < bodyCap) this.body += chunk.toString('utf8', start, Math.min(end, start + bodyCap - this.body.length));
      return;
    }
    const text = chunk.toString('latin1', start, end);
    if (this.errorEvent === undefined) {
      const at = text.indexOf('data: {"error"');
      if (at >= 0) {
        const lineEnd = text.indexOf('\n', at);
        this.errorEvent = text.slice(at + 6, lineEnd < 0 ? undefined : lineEnd);
      }
    }
    this.tail = (this.tail + text.slice(-64)).slice(-64);
  }

  private onComplete(): void {
    if (!this.busy) return;
    this.busy = false;
    clearTimeout(this.hangTimer);
    const now = nowUs();
    const outcome = classifyAnswer({
      status: this.status, streamed: this.streamedNow, errorCode: this.errorCode,
      body: this.streamedNow && this.status === 200 ? undefined : this.body, tail: this.tail, errorEvent: this.errorEvent,
    });
    count(outcome, this.sentAt, () => `${this.streamedNow ? 'streamed' : 'non-streamed'}, status ${this.status}${this.errorCode === undefined ? '' : ` ${this.errorCode}`}: ` +
      (this.errorEvent ?? (this.streamedNow && this.status === 200 ? `…${JSON.stringify(this.tail)}` : this.body.slice(0, 300))));
    if (outcome === 'upstream-failure-passed-on') {
      const code = this.errorCode ?? (/"code":"([^"]*)"/.exec(this.errorEvent ?? '')?.[1] ?? 'unknown');
      passedOnCodes[code] = (passedOnCodes[code] ?? 0) + 1;
    }
    if (this.streamedNow) streamed++;
    if (outcome === 'ok') {
      whole.record(this.streamedNow, this.sentAt, this.firstByteAt, now);
      windowFigures.at(bucketOf(this.sentAt), bucketOf(now))?.record(this.streamedNow, this.sentAt, this.firstByteAt, now);
    }
    if (!this.parser.keepAlive) {
      this.socket!.destroy();
      return; // 'close' reconnects
    }
    this.send();
  }

  /** The request in flight failed without a whole answer: count it, drop the connection, reconnect. */
  private broken(outcome: Outcome, reason: string): void {
    if (this.busy) {
      this.busy = false;
      clearTimeout(this.hangTimer);
      if (this.streamedNow) streamed++;
      count(outcome, this.sentAt, () => `${this.streamedNow ? 'streamed' : 'non-streamed'}: ${reason}`);
    }
    this.pauseBeforeReconnect = true;
    this.socket?.destroy();
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.hangTimer);
    this.socket?.destroy();
    if (--agentsLeft === 0) report();
  }

  stop(): void {
    if (this.busy) this.broken('hang', 'unfinished when the soak ended');
    this.finish();
  }
}

/** The result so far: at a checkpoint the compared windows hold complete buckets only. */
function resultSoFar(final: boolean): SoakClientResult {
  const elapsedMs = (nowUs() - startedAt) / 1000;
  const complete = final ? windows.buckets : Math.floor(elapsedMs / windows.bucketMs);
  const ranges = comparedWindows(windows, complete);
  windowFigures.forget(bucketOf(nowUs()));
  firstMerged.reset();
  lastMerged.reset();
  for (const figures of windowFigures.within(ranges.first)) firstMerged.add(figures);
  for (const figures of windowFigures.within(ranges.last)) lastMerged.add(figures);
  return {
    agents: spec.agents, bucketMs: windows.bucketMs, windowBuckets: windows.windowBuckets,
    requests, streamed, outcomes: outcomeCounts, samples, passedOnCodes, requestsPerBucket, errorsPerBucket,
    firstWindow: ranges.first, lastWindow: ranges.last,
    first: firstMerged.summary(), last: lastMerged.summary(), whole: whole.summary(),
    elapsedMs, final, writtenAt: Date.now(),
  };
}

function checkpoint(result: SoakClientResult): void {
  if (spec.checkpointFile === undefined) return;
  try {
    writeFileAtomic(spec.checkpointFile, JSON.stringify(result) + '\n');
  } catch (error) {
    process.stderr.write(`soak client: checkpoint not written: ${(error as Error).message}\n`);
  }
}

let reported = false;
function report(): void {
  if (reported) return;
  reported = true;
  clearInterval(checkpointTimer);
  const result = resultSoFar(true);
  checkpoint(result);
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

const checkpointTimer = setInterval(() => checkpoint(resultSoFar(false)), spec.checkpointMs ?? 60_000);
checkpointTimer.unref();

const agents: Agent[] = [];
agentsLeft = spec.agents;
for (let i = 0; i < spec.agents; i++) {
  const agent = new Agent(i);
  agents.push(agent);
  setTimeout(() => agent.start(), (spec.rampMs * i) / spec.agents);
}
setTimeout(() => {
  for (const agent of agents) agent.stop();
  report();
}, spec.durationMs + spec.rampMs + spec.hangMs + 30_000).unref();
