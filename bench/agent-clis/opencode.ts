// opencode as a gateway provider against its HTTP API used directly, on the same `opencode serve`
// (started here with a password and the config the driver gives a server it manages, and handed
// to the gateway as a user's server, `base_url`) and the same loopback mock vendor. New
// conversation = POST /session + prompt_async, to the session's first `message.part.delta` on
// /event; next turn = prompt_async on the session. opencode has no one-shot mode in the driver:
// one process per turn is `opencode run --format json`, spawn to exit, outside the gateway.
// Measured as every CLI is: bench/agent-clis/harness.ts. `npx node bench/agent-clis/opencode.ts [--quick]`
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { configContent, KNOWN_TOOLS, LLM_AGENT } from '../../src/agent-clis/opencode/config.ts';
import { agentCliPath, agentCliUnavailable, makeAgentWorkspace, opencodeEnv, opencodeMockProvider, startEgressSink } from '../../test/helpers/agent-cli.ts';
import { agentCliProvider } from '../../test/helpers/gateway.ts';
import { startMockUpstream } from '../../test/helpers/mock-upstream.ts';
import { cliVersion, main, type CliSetup, type DirectProtocol } from './harness.ts';

const MODEL = 'mock/mock-gpt';
const PASSWORD = 'bench-password-0123456789';
/** As the driver sends them: every tool off by name and by the wildcard. */
const TOOLS_OFF = Object.fromEntries([['*', false], ...KNOWN_TOOLS.map((tool) => [tool, false])]);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

class DirectHttpApi implements DirectProtocol {
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly firstDelta = new Map<string, () => void>();
  private readonly idle = new Map<string, () => void>();
  private events: AbortController | undefined;
  private session: string | undefined;

  constructor(url: string) {
    this.url = url;
    this.headers = { authorization: `Basic ${Buffer.from(`opencode:${PASSWORD}`).toString('base64')}`, 'content-type': 'application/json' };
  }

  async start(): Promise<void> {
    this.events = new AbortController();
    const response = await fetch(`${this.url}/event`, { headers: this.headers, signal: this.events.signal });
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!frame.startsWith('data: ')) continue;
          const isDelta = frame.includes('"message.part.delta"');
          if (!isDelta && !frame.includes('"session.idle"')) continue;
          const event = JSON.parse(frame.slice(6)) as { properties: { sessionID: string } };
          const waiters = isDelta ? this.firstDelta : this.idle;
          const done = waiters.get(event.properties.sessionID);
          waiters.delete(event.properties.sessionID);
          done?.();
        }
      }
    })().catch(() => {});
  }

  private async newSession(): Promise<string> {
    const response = await fetch(`${this.url}/session`, { method: 'POST', headers: this.headers, body: JSON.stringify({ title: 'bench', permission: [{ permission: '*', pattern: '*', action: 'deny' }] }) });
    return ((await response.json()) as { id: string }).id;
  }

  /** prompt_async; ms from `began` to the session's first delta, once the session is idle again. */
  private async prompt(session: string, text: string, began: number): Promise<number> {
    const first = new Promise<number>((resolve) => this.firstDelta.set(session, () => resolve(performance.now())));
    const idle = new Promise<void>((resolve) => this.idle.set(session, resolve));
    const response = await fetch(`${this.url}/session/${session}/prompt_async`, {
      method: 'POST', headers: this.headers,
      body: JSON.stringify({ model: { providerID: 'mock', modelID: 'mock-gpt' }, agent: LLM_AGENT, tools: TOOLS_OFF, parts: [{ type: 'text', text }] }),
    });
    await response.arrayBuffer();
    const at = await first;
    await idle;
    return at - began;
  }

  async newTurn(text: string): Promise<number> {
    const began = performance.now();
    return this.prompt(await this.newSession(), text, began);
  }

  async nextTurn(text: string): Promise<number> {
    this.session ??= await this.newSession();
    return this.prompt(this.session, text, performance.now());
  }

  /** The server is the gateway's worker too (its `base_url`): nothing of its own to leave out. */
  pids(): number[] {
    return [];
  }

  close(): Promise<void> {
    this.events?.abort();
    return Promise.resolve();
  }
}

export async function setup(): Promise<CliSetup> {
  const mock = await startMockUpstream({ models: ['mock-gpt'] });
  const sink = await startEgressSink();
  const workspace = makeAgentWorkspace();
  const base = opencodeEnv({ workspace, sink, config: { provider: { mock: opencodeMockProvider(mock.url, ['mock-gpt']) }, enabled_providers: ['mock'] } });
  // the server gets the config the driver gives a server it manages, so both paths use the same agent
  const env = { ...base, OPENCODE_CONFIG_CONTENT: configContent('llm', base.OPENCODE_CONFIG_CONTENT), OPENCODE_SERVER_PASSWORD: PASSWORD } as Record<string, string>;
  const command = agentCliPath('opencode');
  const port = await freePort();
  const server = spawn(command, ['serve', '--hostname', '127.0.0.1', '--port', String(port)], { cwd: workspace.cwd, env, stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  await new Promise<void>((resolve) => {
    let out = '';
    server.stdout!.on('data', (data: Buffer) => {
      out += data.toString();
      if (out.includes('listening on')) resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const direct = new DirectHttpApi(url);
  await direct.start();
  const oneShot = (text: string) => new Promise<void>((resolve, reject) => {
    const child = spawn(command, ['run', '--format', 'json', '--model', MODEL, '--agent', LLM_AGENT, text], { cwd: workspace.cwd, env, stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`opencode run exited ${code}`))));
  });
  return {
    version: cliVersion('opencode'),
    model: MODEL,
    persistent: agentCliProvider('opencode', { type: 'opencode', command, args: [], env: { ...base, OPENCODE_SERVER_PASSWORD: PASSWORD } as Record<string, string>, baseUrl: url }, { models: [MODEL] }),
    oneShot,
    oneShotLabel: '`opencode run --format json`, spawn to exit, outside the gateway (the driver has no one-shot mode)',
    maxOneShotTurns: 4,
    direct,
    sink,
    async close() {
      try {
        process.kill(-server.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      await mock.close();
      await sink.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const unavailable = agentCliUnavailable('opencode');
  if (unavailable !== undefined) console.log(`skipped: ${unavailable}`);
  else await main('opencode', setup);
}
