// The systems measured side by side, each against the same mock: the direct path, nginx as a
// plain keep-alive reverse proxy, Portkey's gateway from npm, and Switchyard (1 worker, auto).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatBody, mockBaseUrl, profiles, type Profile, allProfiles } from './profiles.ts';
import { assertPortOwner, freePort, processTree, runToEnd, startProcess, stopProcess, waitForPort, type Managed } from './processes.ts';

export type SystemId = 'direct' | 'nginx' | 'node-floor' | 'portkey' | 'switchyard' | 'switchyard-auto';
export const systemIds: readonly SystemId[] = ['direct', 'nginx', 'node-floor', 'portkey', 'switchyard', 'switchyard-auto'];
export const proxyIds: readonly SystemId[] = ['nginx', 'node-floor', 'portkey', 'switchyard', 'switchyard-auto'];
export const labels: Record<SystemId, string> = {
  direct: 'direct (no proxy)', nginx: 'nginx', 'node-floor': 'Node floor', portkey: 'Portkey', switchyard: 'Switchyard ×1', 'switchyard-auto': 'Switchyard auto',
};

export const clientKey = 'sk-switchyard-bench-client';
export const upstreamKey = 'sk-bench-upstream';

export interface Paths {
  root: string;
  work: string;
  node: string;
}

export interface Target {
  port: number;
  path: string;
  headers: [string, string][];
  body: string;
}

export class System {
  readonly id: SystemId;
  readonly label: string;
  readonly port: number;
  readonly mockPort: number;
  process: Managed | undefined = undefined;
  /** Why the system is not measured (failed to install, start or answer). */
  failure: string | undefined = undefined;
  /** Why its streams are not measured. */
  streamFailure: string | undefined = undefined;

  constructor(id: SystemId, port: number, mockPort: number) {
    this.id = id;
    this.label = labels[id];
    this.port = port;
    this.mockPort = mockPort;
  }

  get usable(): boolean {
    return this.failure === undefined;
  }

  /** The processes whose CPU and memory count (none for the direct path). */
  pids(): number[] {
    return this.process === undefined || !this.process.running ? [] : processTree(this.process.pid);
  }

  target(profile: Profile, stream: boolean, model = profile.model): Target {
    const body = chatBody(model, stream);
    const upstreamPath = `/p/${profile.latencyMs}/${profile.deltas}/${profile.intervalMs}/v1/chat/completions`;
    switch (this.id) {
      case 'direct':
      case 'nginx':
      case 'node-floor':
        return { port: this.id === 'direct' ? this.mockPort : this.port, path: upstreamPath, headers: [['authorization', `Bearer ${upstreamKey}`]], body };
      case 'portkey':
        return {
          port: this.port, path: '/v1/chat/completions', body,
          headers: [['authorization', `Bearer ${upstreamKey}`], ['x-portkey-provider', 'openai'], ['x-portkey-custom-host', mockBaseUrl(this.mockPort, profile)]],
        };
      case 'switchyard':
      case 'switchyard-auto':
        return { port: this.port, path: '/v1/chat/completions', headers: [['authorization', `Bearer ${clientKey}`]], body };
    }
  }

  checkPort(): void {
    if (this.process !== undefined) assertPortOwner(this.port, this.pids(), this.label);
  }

  async stop(): Promise<void> {
    if (this.process !== undefined) await stopProcess(this.process);
  }
}

// ----- Switchyard --------------------------------------------------------------------------------

export interface ExtraProvider {
  name: string;
  type: string;
  baseUrl: string;
  models: string[];
  /** `capabilities:` as flow YAML, e.g. `{ chat: true, responses: true }`. */
  capabilities?: string;
}

/**
 * The providers of the agent-sized-bodies scenario (bench/scenarios/agent-bodies.ts), one per
 * upstream dialect on the 0 ms mock. The model a request names picks the path: `agent-chat`,
 * `agent-messages` and `agent-responses` pass through; `agent-chat-to-anthropic` (OpenAI chat in,
 * Anthropic out) and `agent-messages-to-openai` (Anthropic in, OpenAI chat out) are translated.
 */
export const agentModels = {
  chat: 'agent-chat', messages: 'agent-messages', responses: 'agent-responses',
  chatToAnthropic: 'agent-chat-to-anthropic', messagesToOpenai: 'agent-messages-to-openai',
} as const;

function agentProviders(mockPort: number): ExtraProvider[] {
  const baseUrl = mockBaseUrl(mockPort, profiles.lat0);
  return [
    { name: 'mock-agent-openai', type: 'openai', baseUrl, models: [agentModels.chat, agentModels.messagesToOpenai] },
    { name: 'mock-agent-anthropic', type: 'anthropic', baseUrl, models: [agentModels.messages, agentModels.chatToAnthropic] },
    { name: 'mock-agent-responses', type: 'openai', baseUrl, models: [agentModels.responses], capabilities: '{ chat: true, responses: true }' },
  ];
}

/**
 * "Default features on": client auth, the per-request access log at info level, metrics, and usage
 * recording (SQLite, in the bench's work directory rather than the user's state directory).
 * `auth`: the `auth:` line, for a scenario whose client key has limits (the same key).
 */
export function switchyardYaml(mockPort: number, port: number, stateDir: string, extra: readonly ExtraProvider[] = [], extraYaml: readonly string[] = [],
  auth = `auth: { keys: ["${clientKey}"] }`): string {
  const providers: ExtraProvider[] = [
    ...allProfiles.map((profile) => ({ name: `mock-${profile.model}`, type: 'openai', baseUrl: mockBaseUrl(mockPort, profile), models: [profile.model] })),
    ...agentProviders(mockPort),
    ...extra,
  ];
  return [
    `server: { host: 127.0.0.1, port: ${port}, workers: 1 }`,
    auth,
    'logging: { level: info, format: json }',
    `storage: { path: ${JSON.stringify(stateDir)} }`,
    'providers:',
    ...providers.flatMap((provider) => [
      `  - name: ${provider.name}`,
      `    type: ${provider.type}`,
      `    base_url: ${provider.baseUrl}`,
      `    api_key: ${upstreamKey}`,
      `    models: [${provider.models.join(', ')}]`,
      ...(provider.capabilities === undefined ? [] : [`    capabilities: ${provider.capabilities}`]),
    ]),
    ...extraYaml,
    '',
  ].join('\n');
}

/**
 * `logName`: the stem of its access log and stderr files in the work directory (the system's id
 * unless a scenario starts an instance of its own, which then keeps its log apart).
 */
export async function startSwitchyard(system: System, paths: Paths, configFile: string, workers: 'auto' | '1', logName: string = system.id): Promise<void> {
  // started as `npm start` starts it: bin/switchyard.js (compile cache on) with the same V8 flags
  const args = ['--max-semi-space-size=16', '--no-allocation-site-pretenuring', 'bin/switchyard.js', '--config', configFile, '--port', String(system.port), '--workers', workers];
  system.process = startProcess(system.label, paths.node, args, {
    cwd: paths.root, stdout: join(paths.work, `${logName}-access.log`), stderr: join(paths.work, `${logName}.err`),
  });
  await waitForPort(system.port, 20_000, () => system.process!.running);
  if (workers === 'auto') {
    // Every worker must be listening before the run: wait until the tree stops growing.
    let previous = -1;
    for (let i = 0; i < 50 && system.pids().length !== previous; i++) {
      previous = system.pids().length;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

// ----- nginx -----------------------------------------------------------------------------------

function nginxConf(prefix: string, port: number, mockPort: number): string {
  return `# Generated by bench/lib/systems.ts: a plain keep-alive reverse proxy, one worker.
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
http {
  access_log ${prefix}/access.log combined buffer=64k flush=1s;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  # Agent-sized bodies (up to 1 MB): accepted, and held in memory like the Node floor holds them
  # rather than written to a temporary file.
  client_max_body_size 16m;
  client_body_buffer_size 2m;
  upstream mock {
    server 127.0.0.1:${mockPort};
    keepalive 2048;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
`;
}

async function startNginx(system: System, paths: Paths): Promise<void> {
  const prefix = join(paths.work, 'nginx');
  mkdirSync(prefix, { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, nginxConf(prefix, system.port, system.mockPort));
  // -e: even the start-up error log stays under bench/.work, never /var/log/nginx.
  system.process = startProcess('nginx', 'nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf, '-g', 'daemon off;'], {
    stderr: join(prefix, 'stderr.log'),
  });
  await waitForPort(system.port, 10_000, () => system.process!.running);
}

// ----- Portkey ---------------------------------------------------------------------------------

export function portkeyDir(paths: Paths): string {
  return join(paths.work, 'portkey');
}

export function portkeyVersion(paths: Paths): string | undefined {
  const file = join(portkeyDir(paths), 'node_modules/@portkey-ai/gateway/package.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version : undefined;
}

async function ensurePortkey(paths: Paths, log: (line: string) => void): Promise<void> {
  if (portkeyVersion(paths) !== undefined) return;
  log('installing @portkey-ai/gateway into bench/.work/portkey (not a project dependency)…');
  mkdirSync(portkeyDir(paths), { recursive: true });
  const result = await runToEnd('npm install', 'npm', ['install', '--prefix', portkeyDir(paths), '--no-audit', '--no-fund', '@portkey-ai/gateway'], 300_000);
  if (result.code !== 0 || portkeyVersion(paths) === undefined) {
    throw new Error(`npm install @portkey-ai/gateway failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ')}`);
  }
}

async function startPortkey(system: System, paths: Paths, log: (line: string) => void): Promise<void> {
  await ensurePortkey(paths, log);
  const entry = join(portkeyDir(paths), 'node_modules/@portkey-ai/gateway/build/start-server.js');
  const preload = join(paths.root, 'bench/portkey/preload.ts');
  system.process = startProcess('Portkey', paths.node, ['--import', preload, entry, `--port=${system.port}`, '--headless'], {
    cwd: portkeyDir(paths), stdout: join(paths.work, 'portkey.log'), stderr: join(paths.work, 'portkey.err'),
  });
  await waitForPort(system.port, 30_000, () => system.process!.running);
}

// ----- all -------------------------------------------------------------------------------------

/** What a run adds to Switchyard's generated config: providers, and top-level YAML lines (e.g. `models:`). */
export interface SwitchyardExtras {
  providers: readonly ExtraProvider[];
  yaml: readonly string[];
}

export async function startSystem(id: SystemId, mockPort: number, paths: Paths, log: (line: string) => void, extras?: SwitchyardExtras): Promise<System> {
  const system = new System(id, id === 'direct' ? mockPort : await freePort(), mockPort);
  try {
    if (id === 'nginx') await startNginx(system, paths);
    else if (id === 'node-floor') {
      // the same V8 settings as Switchyard's (npm start, bin/switchyard.js): the floor is the runtime's limit, tuned alike
      system.process = startProcess('Node floor', paths.node, ['--max-semi-space-size=16', '--no-allocation-site-pretenuring', '--external-memory-accounted-in-global-limit', '--heap-growing-percent=100', join(paths.root, 'bench/floor/proxy.mjs'), String(system.port), `http://127.0.0.1:${mockPort}`], {
        cwd: paths.root, stderr: join(paths.work, 'node-floor.err'),
      });
      await waitForPort(system.port, 10_000, () => system.process!.running);
    }
    else if (id === 'portkey') await startPortkey(system, paths, log);
    else if (id === 'switchyard' || id === 'switchyard-auto') {
      const configFile = join(paths.work, `${id}.yaml`);
      writeFileSync(configFile, switchyardYaml(mockPort, system.port, join(paths.work, `${id}-state`), extras?.providers, extras?.yaml));
      await startSwitchyard(system, paths, configFile, id === 'switchyard' ? '1' : 'auto');
    }
    system.checkPort();
    await probe(system);
  } catch (error) {
    system.failure = (error as Error).message;
    await system.stop();
  }
  return system;
}

/** One non-streaming and one streaming request: right status, a whole answer, the end marker. */
async function probe(system: System): Promise<void> {
  const call = async (stream: boolean) => {
    const target = system.target(allProfiles.find((profile) => profile.model === 'ttft')!, stream);
    const response = await fetch(`http://127.0.0.1:${target.port}${target.path}`, {
      method: 'POST', headers: [...target.headers, ['content-type', 'application/json']], body: target.body, signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, text: await response.text() };
  };
  const plain = await call(false);
  if (plain.status !== 200 || !plain.text.includes('"chat.completion"')) throw new Error(`probe answered ${plain.status}: ${plain.text.slice(0, 200)}`);
  try {
    const streamed = await call(true);
    if (streamed.status !== 200 || !streamed.text.includes('data: [DONE]')) system.streamFailure = `stream probe answered ${streamed.status}: ${streamed.text.slice(0, 200)}`;
  } catch (error) {
    system.streamFailure = `stream probe failed: ${(error as Error).message}`;
  }
}
