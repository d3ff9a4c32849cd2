// Gemini CLI as a gateway provider against ACP spoken directly to `gemini --acp`: same flags,
// environment, project settings and loopback mock of the Gemini API. New conversation =
// session/new + session/set_model + session/prompt; next turn = session/prompt. One process per
// turn = the driver's fallback, `gemini -p -o stream-json` (forced by a command that refuses
// `--acp`). Measured as every CLI is: bench/agent-clis/harness.ts.
// `npx node bench/agent-clis/gemini-cli.ts [--quick]`
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliChild } from '../../src/agent-clis/child.ts';
import type { AgentCliSettings } from '../../src/agent-clis/driver.ts';
import { acpArgs, cliEnv, NEUTRAL_SYSTEM_PROMPT, projectSettings } from '../../src/agent-clis/gemini-cli/settings.ts';
import { JsonRpcPeer } from '../../src/agent-clis/json-rpc.ts';
import { agentCliPath, agentCliUnavailable, geminiCliEnv, geminiStreamEvents, makeAgentWorkspace, startEgressSink } from '../../test/helpers/agent-cli.ts';
import { agentCliProvider } from '../../test/helpers/gateway.ts';
import { startMockUpstream } from '../../test/helpers/mock-upstream.ts';
import { cliVersion, main, type CliSetup, type DirectProtocol } from './harness.ts';

const MODEL = 'gemini-2.5-pro';

class DirectAcp implements DirectProtocol {
  readonly child: CliChild;
  readonly peer: JsonRpcPeer;
  private readonly workDir: string;
  private onChunk: (() => void) | undefined;
  private session: string | undefined;

  constructor(settings: AgentCliSettings) {
    this.workDir = settings.workDir;
    mkdirSync(join(this.workDir, '.gemini'), { recursive: true });
    writeFileSync(join(this.workDir, '.gemini', 'settings.json'), projectSettings('llm'));
    const systemFile = join(this.workDir, '.gemini', 'system.md');
    writeFileSync(systemFile, NEUTRAL_SYSTEM_PROMPT);
    this.peer = new JsonRpcPeer((line) => this.child.write(line), {
      onNotification: (method, params: any) => {
        if (method === 'session/update' && params?.update?.sessionUpdate === 'agent_message_chunk') this.onChunk?.();
      },
      onRequest: () => ({ outcome: { outcome: 'cancelled' } }),
    });
    this.child = new CliChild({ command: settings.command, args: acpArgs(settings), env: cliEnv(settings, systemFile), cwd: this.workDir, onLine: (line) => this.peer.receive(line), onExit: () => {} });
  }

  async start(): Promise<void> {
    await this.peer.request('initialize', { protocolVersion: 1, clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false } });
  }

  private async newSession(): Promise<string> {
    const { sessionId } = (await this.peer.request('session/new', { cwd: this.workDir, mcpServers: [] })) as { sessionId: string };
    await this.peer.request('session/set_model', { sessionId, modelId: MODEL });
    return sessionId;
  }

  /** session/prompt; ms from `began` to the first chunk, once the prompt has been answered. */
  private async prompt(sessionId: string, text: string, began: number): Promise<number> {
    let first = 0;
    this.onChunk = () => {
      if (first === 0) first = performance.now();
    };
    await this.peer.request('session/prompt', { sessionId, prompt: [{ type: 'text', text }] });
    return first - began;
  }

  async newTurn(text: string): Promise<number> {
    const began = performance.now();
    return this.prompt(await this.newSession(), text, began);
  }

  async nextTurn(text: string): Promise<number> {
    this.session ??= await this.newSession();
    return this.prompt(this.session, text, performance.now());
  }

  pids(): number[] {
    return [this.child.pid!];
  }

  close(): Promise<void> {
    return this.child.kill();
  }
}

export async function setup(): Promise<CliSetup> {
  const mock = await startMockUpstream({ script: () => ({ kind: 'stream', events: geminiStreamEvents(['Hello', ' from', ' the', ' mock.']) }) });
  const sink = await startEgressSink();
  const workspace = makeAgentWorkspace();
  const env = geminiCliEnv({ workspace, sink, baseUrl: mock.url, apiKey: 'bench-key-0123456789' }) as Record<string, string>;
  const command = agentCliPath('gemini-cli');
  // the direct side runs with the environment the gateway gives its workers: its own, the provider's env over it (see codex.ts)
  const direct = new DirectAcp({ name: 'gemini', type: 'gemini-cli', command, args: [], env: { ...process.env, ...env } as Record<string, string>, mode: 'llm', workDir: join(workspace.root, 'direct'), models: [] });
  await direct.start();
  const wrapper = join(workspace.root, 'gemini-without-acp');
  writeFileSync(wrapper, `#!/bin/sh\nfor arg in "$@"; do [ "$arg" = "--acp" ] && exit 1; done\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(command)} "$@"\n`, { mode: 0o755 });
  const cli = { type: 'gemini-cli' as const, command, args: [], env };
  return {
    version: cliVersion('gemini-cli'),
    model: MODEL,
    persistent: agentCliProvider('gemini', cli, { models: [MODEL] }),
    oneShot: agentCliProvider('gemini-one-shot', { ...cli, command: wrapper }, { models: [MODEL] }),
    oneShotLabel: 'the driver\'s fallback, `gemini -p -o stream-json`',
    direct,
    sink,
    async close() {
      await mock.close();
      await sink.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const unavailable = agentCliUnavailable('gemini-cli');
  if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);
  else await main('gemini-cli', setup);
}
