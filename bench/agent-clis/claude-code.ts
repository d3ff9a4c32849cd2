// Claude Code as a gateway provider against its stream-json protocol spoken directly (`claude -p
// --input-format stream-json …`, the driver's own arguments and environment, the same loopback mock
// of the Messages API). New conversation = initialize + a user line written to an idle process
// started ahead (as the driver claims its spare); next turn = a user line on a live session. One
// process per turn = the driver's fallback, `claude -p` with the prompt on stdin (forced by a
// command that refuses `--input-format`). Measured as every CLI is: bench/agent-clis/harness.ts.
// Driver-level extras (abort timings, decoder cost, long histories): bench/agent-clis/driver/claude-code.ts.
// `npx node bench/agent-clis/claude-code.ts [--quick]`
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliChild } from '../../src/agent-clis/child.ts';
import type { AgentCliSettings } from '../../src/agent-clis/driver.ts';
import { claudeArgs, claudeEnv } from '../../src/agent-clis/claude-code/launch.ts';
import { agentCliPath, agentCliUnavailable, claudeCodeEnv, makeAgentWorkspace, startEgressSink } from '../../test/helpers/agent-cli.ts';
import { agentCliProvider } from '../../test/helpers/gateway.ts';
import { startMockUpstream } from '../../test/helpers/mock-upstream.ts';
import { anthropicStream } from '../../test/helpers/resilience.ts';
import { cliVersion, main, type CliSetup, type DirectProtocol } from './harness.ts';

const MODEL = 'claude-bench-model';

type Line = Record<string, any>;
const isFirstToken = (line: Line) => line.type === 'stream_event' && line.event?.delta?.type === 'text_delta';
const isResult = (line: Line) => line.type === 'result';
const userLine = (text: string) => `${JSON.stringify({ type: 'user', message: { role: 'user', content: [{ type: 'text', text }] } })}\n`;
const initialize = (id: string) => `${JSON.stringify({ type: 'control_request', request_id: id, request: { subtype: 'initialize', systemPrompt: [] } })}\n`;

/** A stream-json process read the way any client would: lines, each parsed. */
class StreamJsonProcess {
  readonly child: CliChild;
  private readonly waiters: { predicate: (line: Line) => boolean; resolve: () => void }[] = [];

  constructor(settings: AgentCliSettings) {
    this.child = new CliChild({
      command: settings.command, args: claudeArgs({ mode: 'llm', model: MODEL, persistent: true, extra: [] }), env: claudeEnv(settings), cwd: settings.workDir,
      onLine: (text) => {
        let line: Line;
        try {
          line = JSON.parse(text) as Line;
        } catch {
          return;
        }
        for (let index = 0; index < this.waiters.length; index++) {
          const waiter = this.waiters[index]!;
          if (!waiter.predicate(line)) continue;
          this.waiters.splice(index--, 1);
          waiter.resolve();
        }
      },
      onExit: () => {},
    });
  }

  until(predicate: (line: Line) => boolean): Promise<number> {
    return new Promise((resolve) => { this.waiters.push({ predicate, resolve: () => resolve(performance.now()) }); });
  }

  /** Writes `text`; ms to the first text delta, once the turn's result has come. */
  async turn(text: string): Promise<number> {
    const began = performance.now();
    const token = this.until(isFirstToken);
    const done = this.until(isResult);
    this.child.write(text);
    const at = await token;
    await done;
    return at - began;
  }
}

class DirectStreamJson implements DirectProtocol {
  private readonly settings: AgentCliSettings;
  private idle: StreamJsonProcess | undefined;
  private session: StreamJsonProcess | undefined;
  private initialized = 0;

  constructor(settings: AgentCliSettings) {
    this.settings = settings;
  }

  prepareNew(): Promise<void> {
    this.idle ??= new StreamJsonProcess(this.settings);
    return Promise.resolve();
  }

  async newTurn(text: string): Promise<number> {
    const used = this.idle ?? new StreamJsonProcess(this.settings);
    this.idle = undefined;
    const ms = await used.turn(initialize(`new-${++this.initialized}`) + userLine(text));
    void used.child.kill();
    return ms;
  }

  async nextTurn(text: string): Promise<number> {
    if (this.session === undefined) {
      this.session = new StreamJsonProcess(this.settings);
      return this.session.turn(initialize('conversation') + userLine(text));
    }
    return this.session.turn(userLine(text));
  }

  pids(): number[] {
    return [this.idle?.child.pid, this.session?.child.pid].filter((pid) => pid !== undefined);
  }

  async close(): Promise<void> {
    await Promise.all([this.idle?.child.kill(), this.session?.child.kill()]);
  }
}

export async function setup(): Promise<CliSetup> {
  const mock = await startMockUpstream({
    script: (request) => {
      if (request.path.startsWith('/v1/messages/count_tokens')) return { kind: 'json', status: 200, body: { input_tokens: 10 } };
      if (request.path.startsWith('/v1/messages')) return { kind: 'stream', events: anthropicStream(['Hello', ' there.'], request.body?.model ?? MODEL) };
      return { kind: 'json', status: 404, body: { type: 'error', error: { type: 'not_found_error', message: 'not here' } } };
    },
  });
  const sink = await startEgressSink();
  const workspace = makeAgentWorkspace();
  const env = claudeCodeEnv({ workspace, sink, baseUrl: mock.url, apiKey: 'sk-ant-bench-not-a-key' }) as Record<string, string>;
  const command = agentCliPath('claude-code');
  // the direct side runs with the environment the gateway gives its workers: its own, the provider's env over it (see codex.ts)
  const direct = new DirectStreamJson({ name: 'claude', type: 'claude-code', command, args: [], env: { ...process.env, ...env } as Record<string, string>, mode: 'llm', workDir: workspace.cwd, models: [] });
  const wrapper = join(workspace.root, 'claude-without-stream-json');
  writeFileSync(wrapper, `#!/bin/sh\nfor arg in "$@"; do [ "$arg" = "--input-format" ] && exit 1; done\nexec ${JSON.stringify(command)} "$@"\n`, { mode: 0o755 });
  const cli = { type: 'claude-code' as const, command, args: [], env };
  return {
    version: cliVersion('claude-code'),
    model: MODEL,
    persistent: agentCliProvider('claude', cli, { models: [MODEL] }),
    oneShot: agentCliProvider('claude-one-shot', { ...cli, command: wrapper }, { models: [MODEL] }),
    oneShotLabel: 'the driver\'s fallback, `claude -p`',
    direct,
    // the idle process started for the next pair, and the driver's spare started after the last, have settled
    settleNewMs: 2500,
    sink,
    async close() {
      await mock.close();
      await sink.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const unavailable = agentCliUnavailable('claude-code');
  if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);
  else await main('claude-code', setup);
}
