// Codex as a gateway provider against `codex app-server` spoken directly (JSON-RPC over stdio): same
// binary, arguments, environment, thread settings and loopback mock of the Responses API. New conversation =
// thread/start (a kept thread, as the driver starts a conversation's) + turn/start; next turn =
// turn/start on the thread. One process per turn = the driver's fallback, `codex exec --json`
// (forced by a command that refuses `app-server`). Measured as every CLI is:
// bench/agent-clis/harness.ts. The driver's own time inside a turn: bench/agent-clis/driver/codex.ts.
// `npx node bench/agent-clis/codex.ts [--quick]`
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliChild } from '../../src/agent-clis/child.ts';
import { planLaunch, prepareHome } from '../../src/agent-clis/codex/codex-launch.ts';
import { agentCliPath, agentCliUnavailable, codexDriverSettings, makeAgentWorkspace, startEgressSink } from '../../test/helpers/agent-cli.ts';
import { agentCliProvider } from '../../test/helpers/gateway.ts';
import { startMockUpstream } from '../../test/helpers/mock-upstream.ts';
import { cliVersion, main, type CliSetup, type DirectProtocol } from './harness.ts';

const MODEL = 'bench-model';

class DirectAppServer implements DirectProtocol {
  private readonly child: CliChild;
  private nextId = 1;
  private readonly waiting = new Map<number, (result: any) => void>();
  private onDelta: (() => void) | undefined;
  private onDone: (() => void) | undefined;
  private thread: string | undefined;
  private readonly threadSettings: object;

  constructor(launch: ReturnType<typeof planLaunch>) {
    this.child = new CliChild({
      command: launch.command, args: launch.appServerArgs, env: launch.appServerEnv as Record<string, string | undefined>, cwd: launch.llmDirectory,
      onLine: (line) => {
        const message = JSON.parse(line);
        if (message.method === undefined) {
          this.waiting.get(message.id)?.(message.result ?? message.error);
          this.waiting.delete(message.id);
        } else if (message.method === 'item/agentMessage/delta') {
          const resolve = this.onDelta;
          this.onDelta = undefined;
          resolve?.();
        } else if (message.method === 'turn/completed') {
          this.onDone?.();
        }
      },
      onExit: () => {},
    });
    this.threadSettings = {
      model: MODEL, cwd: launch.llmDirectory, approvalPolicy: 'never', sandbox: 'read-only', config: launch.policy.config,
      environments: [], baseInstructions: 'You are a helpful assistant.',
    };
  }

  async start(): Promise<void> {
    await this.request('initialize', { clientInfo: { name: 'bench', title: null, version: '1' }, capabilities: { experimentalApi: true } });
    this.child.write(`${JSON.stringify({ method: 'initialized' })}\n`);
  }

  private request(method: string, params: unknown): Promise<any> {
    const id = this.nextId++;
    this.child.write(`${JSON.stringify({ id, method, params })}\n`);
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }

  /** turn/start; ms from `began` to the first delta, once the turn has completed. */
  private async turn(threadId: string, text: string, began: number): Promise<number> {
    const firstDelta = new Promise<number>((resolve) => { this.onDelta = () => resolve(performance.now()); });
    const done = new Promise<void>((resolve) => { this.onDone = resolve; });
    await this.request('turn/start', {
      threadId, input: [{ type: 'text', text, text_elements: [] }], model: MODEL, approvalPolicy: 'never',
      environments: [], sandboxPolicy: { type: 'readOnly', networkAccess: false },
    });
    const at = await firstDelta;
    await done;
    return at - began;
  }

  async newTurn(text: string): Promise<number> {
    const began = performance.now();
    // a new conversation through the gateway is a kept (not ephemeral) thread: the same here
    const started = await this.request('thread/start', { ...this.threadSettings, ephemeral: false });
    const ms = await this.turn(started.thread.id, text, began);
    await this.request('thread/unsubscribe', { threadId: started.thread.id });
    return ms;
  }

  async nextTurn(text: string): Promise<number> {
    this.thread ??= (await this.request('thread/start', { ...this.threadSettings, ephemeral: false })).thread.id as string;
    return this.turn(this.thread, text, performance.now());
  }

  pids(): number[] {
    return [this.child.pid!];
  }

  close(): Promise<void> {
    return this.child.kill();
  }
}

export async function setup(): Promise<CliSetup> {
  const mock = await startMockUpstream({ streamDeltas: ['Hello', ' from', ' the', ' mock.'] });
  const sink = await startEgressSink();
  const workspace = makeAgentWorkspace();
  const settings = codexDriverSettings({ workspace, sink, baseUrl: mock.url, apiKey: 'sk-bench' });
  // the environment the gateway gives its worker: its own with the provider's `env` merged over it
  // (src/pipeline/agent-cli-host.ts). It matters: with SSL_CERT_FILE and SSL_CERT_DIR set (as on
  // this machine) Codex reads the CA bundle and every file of the certificate directory again on
  // each turn (5-10 ms here) before the model request goes out; a baseline without them is not like for like
  const launch = planLaunch({ ...settings, env: { ...process.env, ...settings.env }, workDir: join(workspace.root, 'direct') });
  prepareHome(launch);
  const direct = new DirectAppServer(launch);
  await direct.start();
  const wrapper = join(workspace.root, 'codex-without-app-server');
  writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = "app-server" ]; then exit 2; fi\nexec ${JSON.stringify(agentCliPath('codex'))} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const cli = { type: 'codex' as const, command: settings.command, args: [...settings.args], env: settings.env as Record<string, string> };
  return {
    version: cliVersion('codex'),
    model: MODEL,
    persistent: agentCliProvider('codex', cli, { models: [MODEL] }),
    oneShot: agentCliProvider('codex-one-shot', { ...cli, command: wrapper }, { models: [MODEL] }),
    oneShotLabel: 'the driver\'s fallback, `codex exec --json`',
    direct,
    sink,
    async close() {
      await mock.close();
      await sink.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const unavailable = agentCliUnavailable('codex');
  if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);
  else await main('codex', setup);
}
