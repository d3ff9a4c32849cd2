// Chaos: 1,000 concurrent streams against one target whose upstream resets 10 % of its connections
// at random points (before the response head, or after any number of frames), on the byte
// pass-through (OpenAI client → OpenAI provider) and translated (Anthropic client → OpenAI
// provider). Every client result is classified: a complete stream (its terminal event last), an
// error event in the caller's dialect as the last event, or an error answer in the caller's
// dialect. None may hang, none may end without either (a "200 + truncated" answer), the partial
// failure must not eject the only target for long (no doubling by doomed streams), and the next
// request to the same model is answered by the provider, not refused as "cooling down".
import { mulberry32 } from '../../src/util/mulberry32.ts';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { TestGateway } from '../helpers/gateway.ts';
import type { Behavior } from '../helpers/mock-upstream.ts';
import { parseSse, type SseEvent } from '../helpers/sse.ts';
import { ANTHROPIC_HEADERS, chunk, finishChunk, openaiProvider, startGatewayFor, startMocks } from '../helpers/resilience.ts';

const STREAMS = 1_000;
const RESET_SHARE = 0.1;
/** Generous: a deadline that fails the test when a stream hangs, not a timing assertion. */
const DEADLINE_MS = 120_000;
const PIECES = ['Hel', 'lo', ' from', ' the', ' chaos', ' monkey.'];
const TEXT = PIECES.join('');
const FRAMES = [...PIECES.map(chunk), finishChunk(), '[DONE]'];
/** Frames spaced so a reset can fall between any two of them. */
const SPACING_MS = 10;
/** Longest a streamed request is held at the upstream waiting for the rest of the burst (under the first-byte timeout). */
const HOLD_MS = 5_000;

/** A small seeded generator: the same faults, in the same proportions, every run. */
const random = mulberry32;

interface Chaos {
  resets: number;
  /** No more resets from now on (for the requests after the burst). */
  calm: boolean;
  script: (request: { body?: { stream?: boolean } }) => Behavior;
  /** Lets every held stream go (also when the burst is fully in). */
  release(): void;
}

/**
 * Streams the frames; one request in ten is reset, at a random point from before the head to after
 * the last frame. Streamed requests are held at the upstream until `STREAMS` of them have arrived
 * (or `HOLD_MS` passed), so the streams really run side by side, however slowly the burst arrives.
 */
function chaos(seed: number): Chaos {
  const next = random(seed);
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  const timer = setTimeout(() => open(), HOLD_MS);
  const state: Chaos = {
    resets: 0,
    calm: false,
    release: () => {
      clearTimeout(timer);
      open();
    },
    script: (incoming) => {
      if (incoming.body?.stream !== true) return { kind: 'default' };
      if (++arrived === STREAMS) state.release();
      if (state.calm || next() >= RESET_SHARE) return { kind: 'hold', until: opened, then: { kind: 'stream', events: FRAMES, intervalMs: SPACING_MS } };
      state.resets++;
      const point = Math.floor(next() * (FRAMES.length + 2)) - 1;
      if (point < 0) return { kind: 'hold', until: opened, then: { kind: 'reset' } };
      return { kind: 'hold', until: opened, then: { kind: 'stream', events: FRAMES.slice(0, point), intervalMs: SPACING_MS, thenBehavior: 'reset' } };
    },
  };
  return state;
}

type Outcome = 'complete' | 'stream-error' | 'error-answer' | 'truncated' | 'wrong-text' | 'not-in-dialect' | 'transport-error';

interface Dialect {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: (stream: boolean) => string;
  /** A 200 event stream: complete, ended by an error event, or neither. */
  classifyStream(events: SseEvent[]): Outcome;
  /** A non-200 answer in this dialect's error shape. */
  isErrorAnswer(body: any): boolean;
}

const openaiDialect: Dialect = {
  name: 'pass-through (OpenAI chat → OpenAI provider)',
  path: '/v1/chat/completions',
  headers: {},
  body: (stream) => JSON.stringify({ model: 'chaos', stream, messages: [{ role: 'user', content: 'hi' }] }),
  classifyStream(events) {
    const last = events.at(-1);
    if (last === undefined) return 'truncated';
    const payloads = events.filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data) as Record<string, any>);
    const errors = payloads.filter((payload) => payload.error !== undefined);
    if (last.data === '[DONE]') {
      if (errors.length > 0 || events.slice(0, -1).some((event) => event.data === '[DONE]')) return 'not-in-dialect';
      const text = payloads.map((payload) => payload.choices?.[0]?.delta?.content ?? '').join('');
      return text === TEXT ? 'complete' : 'wrong-text';
    }
    const error = JSON.parse(last.data) as Record<string, any>;
    if (error.error === undefined) return 'truncated';
    if (errors.length !== 1 || typeof error.error.message !== 'string' || typeof error.error.type !== 'string') return 'not-in-dialect';
    return 'stream-error';
  },
  isErrorAnswer: (body) => typeof body?.error?.message === 'string' && Object.keys(body).length === 1,
};

const anthropicDialect: Dialect = {
  name: 'translated (Anthropic Messages → OpenAI provider)',
  path: '/v1/messages',
  headers: ANTHROPIC_HEADERS,
  body: (stream) => JSON.stringify({ model: 'chaos', stream, max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
  classifyStream(events) {
    const last = events.at(-1);
    if (last === undefined) return 'truncated';
    const errors = events.filter((event) => event.event === 'error');
    if (last.event === 'message_stop') {
      if (errors.length > 0 || events[0]?.event !== 'message_start') return 'not-in-dialect';
      const text = events
        .filter((event) => event.event === 'content_block_delta')
        .map((event) => (JSON.parse(event.data) as Record<string, any>).delta?.text ?? '')
        .join('');
      return text === TEXT ? 'complete' : 'wrong-text';
    }
    if (last.event !== 'error') return 'truncated';
    const payload = JSON.parse(last.data) as Record<string, any>;
    if (errors.length !== 1 || payload.type !== 'error' || typeof payload.error?.type !== 'string' || typeof payload.error?.message !== 'string') return 'not-in-dialect';
    return 'stream-error';
  },
  isErrorAnswer: (body) => body?.type === 'error' && typeof body.error?.type === 'string' && typeof body.error?.message === 'string',
};

async function send(gateway: TestGateway, agent: Agent, dialect: Dialect, stream: boolean): Promise<{ outcome: Outcome; status: number; text: string }> {
  let status = 0;
  let text = '';
  try {
    const response = await request(`${gateway.url}${dialect.path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', ...dialect.headers },
      body: dialect.body(stream),
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    status = response.statusCode;
    text = await response.body.text();
    const contentType = String(response.headers['content-type'] ?? '');
    if (status === 200 && contentType.startsWith('text/event-stream')) {
      // an event cut in half is a truncated answer, whatever came before it
      if (!text.endsWith('\n\n')) return { outcome: 'truncated', status, text };
      return { outcome: dialect.classifyStream(parseSse(text)), status, text };
    }
    if (status === 200) return { outcome: stream ? 'not-in-dialect' : 'complete', status, text };
    return { outcome: contentType.startsWith('application/json') && dialect.isErrorAnswer(JSON.parse(text)) ? 'error-answer' : 'not-in-dialect', status, text };
  } catch (error) {
    return { outcome: 'transport-error', status, text: `${text}${String(error)}` };
  }
}

async function burst(t: TestContext, dialect: Dialect, seed: number): Promise<void> {
  assertEnoughDescriptors();
  const monkey = chaos(seed);
  t.after(() => monkey.release());
  const { up } = await startMocks(t, { up: monkey.script });
  const gateway = await startGatewayFor(t, {
    // timeouts far above anything a loaded machine needs: only resets may fail a stream here
    providers: [openaiProvider('p', up, { timeouts: { connectMs: 30_000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 0 } })],
    models: [{ name: 'chaos', targets: [{ provider: 'p', model: 'm' }], retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 100 } }],
  });
  // one client with room for every stream at once (undici's default would queue them)
  const agent = new Agent({ connections: STREAMS + 10, pipelining: 1, keepAliveTimeout: 30_000 });
  t.after(() => agent.destroy());

  // how many were in flight together at most, sampled (for the diagnostic line)
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, gateway.gateway.inflight); }, 5);
  t.after(() => clearInterval(sampler));
  const outcomes: (Awaited<ReturnType<typeof send>> | undefined)[] = new Array(STREAMS).fill(undefined);
  const all = Promise.all(outcomes.map(async (_unused, index) => {
    outcomes[index] = await send(gateway, agent, dialect, true);
  }));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => { timer = setTimeout(() => resolve('deadline'), DEADLINE_MS); });
  const ended = await Promise.race([all.then(() => 'done' as const), deadline]);
  clearTimeout(timer);
  clearInterval(sampler);

  const counts = new Map<string, number>();
  const examples = new Map<string, string>();
  for (const result of outcomes) {
    const outcome = result?.outcome ?? 'hung';
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
    if (!examples.has(outcome) && result !== undefined) examples.set(outcome, `${result.status} …${result.text.slice(-240)}`);
  }
  const summary = `${JSON.stringify(Object.fromEntries(counts))}; upstream resets: ${monkey.resets}; examples: ${JSON.stringify(Object.fromEntries(examples))}`;
  t.diagnostic(`${JSON.stringify(Object.fromEntries(counts))}; upstream resets: ${monkey.resets}; at most ${peak} requests in flight at once`);
  if (ended === 'deadline') await agent.destroy(); // unblock what hung, so the gateway can close
  assert.equal(counts.get('hung') ?? 0, 0, `no stream may hang: ${summary}`);
  for (const outcome of ['truncated', 'wrong-text', 'not-in-dialect', 'transport-error']) {
    assert.equal(counts.get(outcome) ?? 0, 0, `${outcome}: ${summary}`);
  }
  const complete = counts.get('complete') ?? 0;
  const failed = (counts.get('stream-error') ?? 0) + (counts.get('error-answer') ?? 0);
  assert.equal(complete + failed, STREAMS, summary);
  assert.ok(monkey.resets >= STREAMS * RESET_SHARE * 0.7, `the chaos happened: ${summary}`);
  assert.ok(failed > 0 && failed <= monkey.resets, `every failure is a reset the client heard about: ${summary}`);

  // a partial failure is not an outage: the only target answers the next request at once, and
  // the streams that were doomed together did not eject it for long
  const [entry] = [...gateway.gateway.runtime.health.all()];
  const ejections = entry!.ejections;
  const ejectedFor = entry!.until - Date.now();
  const before = up.requests.length;
  monkey.calm = true;
  for (const stream of [true, false]) {
    const next = await send(gateway, agent, dialect, stream);
    assert.notEqual(next.status, 429, `the next request is not refused as "cooling down": ${next.text}`);
    assert.equal(next.outcome, 'complete', `${next.status} ${next.text.slice(0, 400)}`);
  }
  assert.ok(up.requests.length > before, 'answered by the provider');
  assert.ok(ejections <= 1, `doomed streams never double an ejection: ${ejections} ejections; ${summary}`);
  assert.ok(ejectedFor <= gateway.gateway.runtime.config.routing.cooldowns.ejectMs, `not ejected beyond eject_s: ${ejectedFor} ms`);
}

/** The burst holds about four sockets per stream in this one process (client, gateway both ways, mock). */
function assertEnoughDescriptors(): void {
  let limits: string;
  try {
    limits = readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return; // not Linux: let the burst say so if it runs out
  }
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Infinity);
  assert.ok(soft >= STREAMS * 4 + 1_000, `the chaos suite needs about ${STREAMS * 4 + 1_000} file descriptors (ulimit -n is ${soft})`);
}

describe('chaos: 1,000 concurrent streams, 10 % of upstream connections reset at random points', () => {
  test(openaiDialect.name, { timeout: DEADLINE_MS + 30_000 }, (t) => burst(t, openaiDialect, 12));
  test(anthropicDialect.name, { timeout: DEADLINE_MS + 30_000 }, (t) => burst(t, anthropicDialect, 34));
});
