// Driver-level measurements kept beside the standard benchmark (bench/agent-clis/claude-code.ts, `npm run bench:agent-clis`):
// the driver called in-process, without the gateway.
// Time to first token through the Claude Code driver against Claude Code's own protocol driven
// directly, in the same run, interleaved round by round (issue #14's "Numbers": the driver may
// add at most 5 ms), plus what each way of running the CLI costs: a process per turn versus
// persistent workers, and the memory of one worker. Claude Code runs against a loopback mock of
// the Messages API that streams a short answer at once, so every millisecond is the CLI's or the
// driver's. Needs the CLI in .tools/ (bash scripts/install-test-tools.sh).
//
// Pairs (the difference is the driver's cost):
// - hot turn: a conversation's next turn on its live worker, vs a user line written to a warm
//   stream-json process that holds the same session shape;
// - new session: a turn claiming a spare (initialize + the turn), vs initialize + user line written
//   to an idle process started earlier;
// And per-turn process costs: a cold stream-json process (spawn + initialize + turn), and `claude
// -p` one-shot (the driver's fallback), each from spawn to first token and to exit.
//
// `npx node bench/agent-clis/driver/claude-code.ts [--rounds 12] [--history-kb 0]`
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Message } from '../../../src/canonical/request.ts';
import type { StreamPart } from '../../../src/canonical/stream.ts';
import type { AgentCliDriver } from '../../../src/agent-clis/driver.ts';
import { createClaudeCodeDriver } from '../../../src/agent-clis/claude-code/index.ts';
import { ClaudeTurnDecoder } from '../../../src/agent-clis/claude-code/turn-decoder.ts';
import { distribution, median } from '../../lib/stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '12' }, 'history-kb': { type: 'string', default: '0' } } });
const rounds = Number(values.rounds);
const historyBytes = Number(values['history-kb']) * 1024;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const claude = join(root, '.tools/node_modules', `@anthropic-ai/claude-code-${process.platform}-${process.arch}`, 'claude');
const MODEL = 'claude-bench-model';

// --- the mock: a short streamed answer, at once ---------------------------------------------

function sse(type: string, data: object): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}
const answer = [
  sse('message_start', { message: { id: 'msg_bench', type: 'message', role: 'assistant', model: MODEL, content: [], stop_reason: null, usage: { input_tokens: 10, output_tokens: 1 } } }),
  sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' there.' } }),
  sse('content_block_stop', { index: 0 }),
  sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } }),
  sse('message_stop', {}),
].join('');

/** For the abort timings: an answer that streams for ten seconds unless the client goes. */
const slowHead = answer.slice(0, answer.indexOf('event: content_block_delta'));
const slowDelta = sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: ' more' } });

function startMock(): Promise<Server> {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
    request.on('end', () => {
      if (request.url?.startsWith('/v1/messages/count_tokens')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"input_tokens":10}');
        return;
      }
      if (!body.includes('talk slowly')) {
        response.writeHead(200, { 'content-type': 'text/event-stream' }).end(answer);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(slowHead);
      const timer = setInterval(() => response.write(slowDelta), 50);
      const stop = setTimeout(() => { clearInterval(timer); response.end(answer.slice(answer.indexOf('event: content_block_stop'))); }, 10_000);
      response.on('close', () => { clearInterval(timer); clearTimeout(stop); });
    });
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

// --- the environment: a throw-away HOME, the mock, no way out --------------------------------

const base = mkdtempSync(join(tmpdir(), 'switchyard-bench-claude-'));
const home = join(base, 'home');
const work = join(base, 'work');
mkdirSync(join(home, 'tmp'), { recursive: true });
mkdirSync(work, { recursive: true });

function environment(mockUrl: string): Record<string, string | undefined> {
  const dead = 'http://127.0.0.1:9';
  return {
    PATH: process.env.PATH, HOME: home, TMPDIR: join(home, 'tmp'), LANG: 'C.UTF-8', TERM: 'dumb', NO_COLOR: '1',
    CLAUDE_CONFIG_DIR: join(home, '.claude'), ANTHROPIC_BASE_URL: mockUrl, ANTHROPIC_API_KEY: 'sk-ant-bench-not-a-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_AUTOUPDATER: '1', DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', CLAUDE_CODE_MAX_RETRIES: '0',
    HTTPS_PROXY: dead, HTTP_PROXY: dead, NO_PROXY: '127.0.0.1,localhost',
  };
}

const LLM_FLAGS = ['--output-format', 'stream-json', '--verbose', '--include-partial-messages', `--model=${MODEL}`, '--tools', '', '--strict-mcp-config', '--disable-slash-commands', '--setting-sources', '', '--no-session-persistence', '--permission-mode', 'default', '--permission-prompts', 'none'];

// --- Claude Code driven directly -------------------------------------------------------------

/** A stream-json process read the way any client would: lines, each parsed. */
class DirectProcess {
  readonly child: ChildProcess;
  private buffered = '';
  private waiters: { predicate: (line: Record<string, any>) => boolean; resolve: () => void }[] = [];

  constructor(env: Record<string, string | undefined>) {
    this.child = spawn(claude, ['-p', '--input-format', 'stream-json', ...LLM_FLAGS], { cwd: work, env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffered += chunk;
      let newline: number;
      while ((newline = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, newline);
        this.buffered = this.buffered.slice(newline + 1);
        let message: Record<string, any>;
        try {
          message = JSON.parse(line);
        } catch {
          continue;
        }
        for (const waiter of this.waiters.filter((each) => each.predicate(message))) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  }

  until(predicate: (line: Record<string, any>) => boolean): Promise<void> {
    return new Promise((done) => { this.waiters.push({ predicate, resolve: done }); });
  }

  write(message: object): void {
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

const isFirstToken = (line: Record<string, any>) => line.type === 'stream_event' && line.event?.delta?.type === 'text_delta';
const isResult = (line: Record<string, any>) => line.type === 'result';
const userLine = (text: string) => ({ type: 'user', message: { role: 'user', content: [{ type: 'text', text }] } });
const initialize = (id: string) => ({ type: 'control_request', request_id: id, request: { subtype: 'initialize', systemPrompt: ['You are terse.'] } });

// --- through the driver ----------------------------------------------------------------------

/** A turn through the driver; `handOver` is its time in run(): what it does before the CLI has the turn (content, digest, the write). */
function driverTurn(driver: AgentCliDriver, messages: Message[], conversation: string | undefined): Promise<{ firstToken: number; end: number; handOver: number }> {
  const started = performance.now();
  let firstToken = 0;
  let handOver = 0;
  return new Promise((done, fail) => {
    driver.run(
      { request: { model: MODEL, messages, sampling: {}, stream: true }, model: MODEL, conversation, signal: new AbortController().signal },
      {
        onPart(part: StreamPart) {
          if (part.type === 'text-delta' && firstToken === 0) firstToken = performance.now() - started;
          if (part.type === 'response-end') done({ firstToken, end: performance.now() - started, handOver });
          if (part.type === 'error') fail(new Error(part.error.message));
        },
      },
      () => {},
    );
    handOver = performance.now() - started;
  });
}

const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const assistant = (text: string): Message => ({ role: 'assistant', content: [{ type: 'text', text }] });
const system: Message = { role: 'system', content: [{ type: 'text', text: 'You are terse.' }] };
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Resident memory of a process and everything in its process group, in MB (Linux). */
function groupRssMb(pid: number): number {
  let kb = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pid) continue; // pgrp
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

function show(label: string, samples: number[]): string {
  const stats = distribution(samples);
  return `${label.padEnd(58)} median ${stats.p50.toFixed(1).padStart(7)} ms   p90 ${stats.p90.toFixed(1).padStart(7)} ms   (n=${stats.count})`;
}

/** Microseconds per line to parse and decode a 2,000-delta turn as the worker does. */
function decoderCost(): number {
  const event = (inner: object) => JSON.stringify({ type: 'stream_event', event: inner, session_id: 's', parent_tool_use_id: null, uuid: '0f5e3a4e-1d57-4a61-9c31-5b0a3f1d2c11', api_message_id: 'msg_bench' });
  const lines = [
    event({ type: 'message_start', message: { id: 'msg_bench', model: MODEL, content: [], usage: { input_tokens: 10, output_tokens: 1 } } }),
    event({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ...Array.from({ length: 2000 }, (_, index) => event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ` word${index}` } })),
    event({ type: 'content_block_stop', index: 0 }),
    JSON.stringify({ type: 'result', subtype: 'success', is_error: false, stop_reason: 'end_turn', session_id: 's', total_cost_usd: 0.001, usage: { input_tokens: 10, output_tokens: 2000 } }),
  ];
  const sink = { onPart: () => {} };
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 30; round++) {
    const started = performance.now();
    const decoder = new ClaudeTurnDecoder(sink, () => {}, 'bench', MODEL);
    for (const line of lines) decoder.onMessage(JSON.parse(line));
    best = Math.min(best, performance.now() - started);
  }
  return (best * 1000) / lines.length;
}

async function main(): Promise<void> {
  const mock = await startMock();
  const mockUrl = `http://127.0.0.1:${(mock.address() as AddressInfo).port}`;
  const env = environment(mockUrl);
  const history = historyBytes > 0 ? `${'history '.repeat(Math.ceil(historyBytes / 8))}` : 'My name is Ada.';

  const hot = { direct: [] as number[], driver: [] as number[], driverTurn: [] as number[], handOver: [] as number[] };
  const fresh = { direct: [] as number[], driver: [] as number[] };
  const cold = { firstToken: [] as number[], exit: [] as number[] };
  const oneShot = { firstToken: [] as number[], exit: [] as number[] };
  const rss = { idle: [] as number[], afterTurn: [] as number[] };

  // hot-turn baseline: one warm direct process holding a session
  const direct = new DirectProcess(env);
  const warmed = direct.until(isResult);
  direct.write(initialize('warm'));
  direct.write(userLine(history));
  await warmed;

  // the driver: a conversation kept live, spares for new sessions
  const driver = createClaudeCodeDriver({
    name: 'bench', type: 'claude-code', command: claude, args: [], env, mode: 'llm', workDir: join(work, 'driver'), models: [],
  }, { spares: 1, idleSessions: 2, idleMs: 600_000 });
  const conversation: Message[] = [system, user(history)];
  await driverTurn(driver, conversation, 'bench-conversation');
  conversation.push(assistant('Hello there.'));
  await sleep(3000); // the spare started after that turn has settled

  for (let round = 0; round < rounds; round++) {
    // hot turn, alternating who goes first
    const hotPair = [
      async () => {
        const started = performance.now();
        const token = direct.until(isFirstToken);
        const done = direct.until(isResult);
        direct.write(userLine(`turn ${round}`));
        await token;
        hot.direct.push(performance.now() - started);
        await done;
      },
      async () => {
        conversation.push(user(`turn ${round}`));
        const { firstToken, end, handOver } = await driverTurn(driver, conversation, 'bench-conversation');
        conversation.push(assistant('Hello there.'));
        hot.driver.push(firstToken);
        hot.driverTurn.push(end);
        hot.handOver.push(handOver);
      },
    ];
    for (const run of round % 2 === 0 ? hotPair : hotPair.reverse()) await run();
    process.stdout.write('.');
  }

  // abort mid-answer: how long until the CLI's work has ended (the driver's turn is over: the
  // interrupt answered, or the process group gone)
  const aborts = { interrupt: [] as number[], kill: [] as number[] };
  for (let round = 0; round < Math.min(rounds, 10); round++) {
    for (const conversationId of [`bench-abort-${round}`, undefined]) {
      const controller = new AbortController();
      let abortedAt = 0;
      await new Promise<void>((done) => {
        driver.run(
          { request: { model: MODEL, messages: [system, user('talk slowly')], sampling: {}, stream: true }, model: MODEL, conversation: conversationId, signal: controller.signal },
          { onPart(part: StreamPart) { if (part.type === 'text-delta' && abortedAt === 0) { abortedAt = performance.now(); controller.abort(); done(); } } },
          () => {},
        );
      });
      while (driver.describe().running > 0) await sleep(1);
      (conversationId === undefined ? aborts.kill : aborts.interrupt).push(performance.now() - abortedAt);
      await sleep(1500);
    }
  }

  // each section on its own, so one's process starts do not land in another's timings
  for (let round = 0; round < rounds; round++) {
    // new session on an idle process: direct (started a while ago) vs the driver's spare
    const idle = new DirectProcess(env);
    await sleep(2500); // both the direct idle process and the driver's spare have settled
    rss.idle.push(groupRssMb(idle.child.pid!));
    const freshPair = [
      async () => {
        const started = performance.now();
        const done = idle.until(isResult);
        const token = idle.until(isFirstToken);
        idle.write(initialize('fresh'));
        idle.write(userLine('hi'));
        await token;
        fresh.direct.push(performance.now() - started);
        await done;
        rss.afterTurn.push(groupRssMb(idle.child.pid!));
      },
      async () => {
        const { firstToken } = await driverTurn(driver, [system, user('hi')], undefined);
        fresh.driver.push(firstToken);
      },
    ];
    for (const run of round % 2 === 0 ? freshPair : freshPair.reverse()) await run();
    idle.kill();
    process.stdout.write('.');
  }

  for (let round = 0; round < rounds; round++) {
    // a cold stream-json process per turn, and the one-shot fallback
    {
      const started = performance.now();
      const once = new DirectProcess(env);
      const done = once.until(isResult);
      const token = once.until(isFirstToken);
      once.write(initialize('cold'));
      once.write(userLine('hi'));
      await token;
      cold.firstToken.push(performance.now() - started);
      await done;
      once.child.stdin!.end();
      await new Promise((exited) => once.child.once('close', exited));
      cold.exit.push(performance.now() - started);
    }
    {
      const started = performance.now();
      const child = spawn(claude, ['-p', ...LLM_FLAGS], { cwd: work, env, stdio: ['pipe', 'pipe', 'ignore'], detached: true });
      let first = 0;
      let buffered = '';
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        buffered += chunk;
        if (first === 0 && buffered.includes('"text_delta"')) first = performance.now() - started;
      });
      child.stdin!.end('hi');
      await new Promise((exited) => child.once('close', exited));
      oneShot.firstToken.push(first);
      oneShot.exit.push(performance.now() - started);
    }
    process.stdout.write('.');
  }
  process.stdout.write('\n');

  // paired: each round's two runs were back to back, so their difference is the least noisy figure
  const hotDelta = median(hot.driver.map((value, index) => value - hot.direct[index]!));
  const freshDelta = median(fresh.driver.map((value, index) => value - fresh.direct[index]!));
  const decode = decoderCost();
  const lines = [
    `Claude Code ${JSON.stringify(driver.describe())}`,
    `history of the hot conversation: ${history.length} characters`,
    '',
    'time to first token (from the turn being handed over to the first text delta)',
    show('hot turn, Claude Code directly (user line on a live session)', hot.direct),
    show('hot turn, through the driver (conversation worker)', hot.driver),
    `  driver's added time, hot turn: ${hotDelta >= 0 ? '+' : ''}${hotDelta.toFixed(1)} ms (median of the paired differences)`,
    show('new session, Claude Code directly (initialize + user line)', fresh.direct),
    show('new session, through the driver (a spare claimed)', fresh.driver),
    `  driver's added time, new session: ${freshDelta >= 0 ? '+' : ''}${freshDelta.toFixed(1)} ms (median of the paired differences)`,
    show('a process per turn, stream-json (spawn → first token)', cold.firstToken),
    show('a process per turn, stream-json (spawn → exit)', cold.exit),
    show('one-shot claude -p, the fallback (spawn → first token)', oneShot.firstToken),
    show('one-shot claude -p, the fallback (spawn → exit)', oneShot.exit),
    '',
    `the driver's synchronous work in run() on a hot turn (history digest, content, the stdin write): median ${median(hot.handOver).toFixed(2)} ms`,
    show('abort → turn over, conversation (interrupt, worker kept)', aborts.interrupt),
    show('abort → turn over, one-off (process group killed)', aborts.kill),
    `reading Claude Code's output (JSON.parse + decoder), per stream_event line: ${decode.toFixed(2)} µs`,
    '',
    `turns per second, one at a time: persistent (a conversation's next turn) ${(1000 / median(hot.driverTurn)).toFixed(1)}, one-shot ${(1000 / median(oneShot.exit)).toFixed(1)}`,
    `memory of one worker (process group RSS): idle ${median(rss.idle).toFixed(0)} MB, after a turn ${median(rss.afterTurn).toFixed(0)} MB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  direct.kill();
  await driver.close();
  mock.close();
  rmSync(base, { recursive: true, force: true });
}

await main();
