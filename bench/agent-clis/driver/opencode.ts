// Driver-level measurements kept beside the standard benchmark (bench/agent-clis/opencode.ts, `npm run bench:agent-clis`):
// the driver called in-process, without the gateway.
// Time to first token through the opencode driver against opencode's HTTP API used directly, on
// the same `opencode serve` (started here with a known password, and given to the driver as a
// user's server, `base_url`) and the same loopback mock vendor, alternating turn by turn so drift
// and neighbours hit both alike. Each turn, either way: a new session, a prompt (`prompt_async`),
// the first `message.part.delta` of that session on the event stream. The difference is the
// driver: its session bookkeeping, its event filtering and parsing, the canonical parts.
// Also: how long the server takes to start and what it holds in memory.
//
// `npx node bench/agent-clis/driver/opencode.ts [--turns 20]` (needs `bash scripts/install-test-tools.sh`)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configContent, LLM_AGENT } from '../../../src/agent-clis/opencode/config.ts';
import { createOpencodeDriver } from '../../../src/agent-clis/opencode/index.ts';
import { agentCliPath, makeAgentWorkspace, opencodeEnv, opencodeMockProvider, startEgressSink } from '../../../test/helpers/agent-cli.ts';
import { startMockUpstream } from '../../../test/helpers/mock-upstream.ts';

const { values } = parseArgs({ options: { turns: { type: 'string', default: '20' } } });
const turns = Number(values.turns);

const mock = await startMockUpstream({ models: ['mock-gpt'] });
const sink = await startEgressSink();
const workspace = makeAgentWorkspace();
const password = 'bench-password-0123456789';
const baseEnv = opencodeEnv({ workspace, sink, config: { provider: { mock: opencodeMockProvider(mock.url, ['mock-gpt']) }, enabled_providers: ['mock'] } });
// the server gets the config the driver gives a server it manages, so both paths use the same agent
const env = { ...baseEnv, OPENCODE_CONFIG_CONTENT: configContent('llm', baseEnv.OPENCODE_CONFIG_CONTENT), OPENCODE_SERVER_PASSWORD: password };
const port = await new Promise<number>((resolve) => {
  const probe = createServer();
  probe.listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address() as AddressInfo;
    probe.close(() => resolve(free));
  });
});
const started = Date.now();
const server = spawn(agentCliPath('opencode'), ['serve', '--hostname', '127.0.0.1', '--port', String(port)], { cwd: workspace.cwd, env, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
await new Promise<void>((resolve) => {
  let out = '';
  server.stdout!.on('data', (data: Buffer) => {
    out += data.toString();
    if (out.includes('listening on')) resolve();
  });
});
const startMs = Date.now() - started;
const url = `http://127.0.0.1:${port}`;
const authorization = `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}`;

// --- directly: one event stream, a session and a prompt per turn ------------------------------

const waiting = new Map<string, () => void>();
const events = await fetch(`${url}/event`, { headers: { authorization } });
void (async () => {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of events.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!frame.startsWith('data: ') || !frame.includes('"message.part.delta"')) continue;
      const event = JSON.parse(frame.slice(6)) as { properties: { sessionID: string } };
      const done = waiting.get(event.properties.sessionID);
      if (done !== undefined) {
        waiting.delete(event.properties.sessionID);
        done();
      }
    }
  }
})().catch(() => {});

async function direct(): Promise<number> {
  const begin = performance.now();
  const headers = { authorization, 'content-type': 'application/json' };
  const session = await (await fetch(`${url}/session`, { method: 'POST', headers, body: JSON.stringify({ title: 'bench', permission: [{ permission: '*', pattern: '*', action: 'deny' }] }) })).json() as { id: string };
  const first = new Promise<void>((resolve) => waiting.set(session.id, resolve));
  const prompt = await fetch(`${url}/session/${session.id}/prompt_async`, {
    method: 'POST', headers,
    body: JSON.stringify({ model: { providerID: 'mock', modelID: 'mock-gpt' }, agent: LLM_AGENT, tools: { '*': false }, parts: [{ type: 'text', text: 'hi' }] }),
  });
  await prompt.arrayBuffer();
  await first;
  const elapsed = performance.now() - begin;
  void fetch(`${url}/session/${session.id}`, { method: 'DELETE', headers: { authorization } }).then((response) => response.arrayBuffer()).catch(() => {});
  return elapsed;
}

// --- through the driver ---------------------------------------------------------------------

const driver = createOpencodeDriver({
  name: 'bench', type: 'opencode', command: agentCliPath('opencode'), args: [], env: { ...baseEnv, OPENCODE_SERVER_PASSWORD: password },
  mode: 'llm', workDir: join(workspace.root, 'work'), baseUrl: url, models: [],
});

function throughDriver(): Promise<number> {
  const begin = performance.now();
  return new Promise((resolve, reject) => {
    let first = 0;
    driver.run(
      { request: { model: 'mock/mock-gpt', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], sampling: {}, stream: true }, model: 'mock/mock-gpt', conversation: undefined, signal: new AbortController().signal },
      {
        onPart(part) {
          if (part.type === 'text-delta' && first === 0) first = performance.now() - begin;
          if (part.type === 'response-end') resolve(first);
          if (part.type === 'error') reject(new Error(part.error.message));
        },
      },
      () => {},
    );
  });
}

// warm both paths (the first prompt loads the provider SDK)
await throughDriver();
await direct();
await new Promise((resolve) => setTimeout(resolve, 500));

const viaDriver: number[] = [];
const viaApi: number[] = [];
for (let turn = 0; turn < turns; turn++) {
  if (turn % 2 === 0) {
    viaDriver.push(await throughDriver());
    viaApi.push(await direct());
  } else {
    viaApi.push(await direct());
    viaDriver.push(await throughDriver());
  }
  // let the session's end (idle, deletion) pass before the next turn
  await new Promise((resolve) => setTimeout(resolve, 100));
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const rssKb = Number(readFileSync(`/proc/${server.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
const fmt = (value: number): string => value.toFixed(1).padStart(7);
console.log(`opencode ${driver.describe().version}: server started in ${startMs} ms, RSS ${(rssKb / 1024).toFixed(0)} MB after ${turns * 2 + 2} turns`);
console.log(`time to first token over ${turns} turns each (ms)    p50     p90     min`);
console.log(`  opencode HTTP API directly                   ${fmt(percentile(viaApi, 50))} ${fmt(percentile(viaApi, 90))} ${fmt(Math.min(...viaApi))}`);
console.log(`  through the driver                           ${fmt(percentile(viaDriver, 50))} ${fmt(percentile(viaDriver, 90))} ${fmt(Math.min(...viaDriver))}`);
console.log(`  driver − direct (p50)                        ${fmt(percentile(viaDriver, 50) - percentile(viaApi, 50))}`);

await driver.close();
process.kill(-server.pid!, 'SIGTERM');
await mock.close();
await sink.close();
if (sink.attempts.length > 0) console.log('egress attempts:', sink.attempts);
