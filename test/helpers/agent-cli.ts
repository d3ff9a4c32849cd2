// The real agent CLIs (Claude Code, Codex, opencode) as child processes of a test: located in .tools/
// (installed by scripts/install-test-tools.sh, never by `npm install`), run non-interactively
// with a throw-away HOME and config directory (a user's real logins and settings are never
// read), every network path but loopback closed, a deadline, and their output collected.
//
// Locally, a test without the CLIs skips and says how to get them; with SWITCHYARD_TEST_AGENT_CLIS
// set (as .ci/run does) a missing CLI fails the test instead.
//
// Nothing may leave the machine: the CLIs' own switches turn off telemetry, update checks and
// other background traffic, and HTTP(S)_PROXY points at an egress sink on 127.0.0.1 that records
// and refuses every request it is given (NO_PROXY keeps the gateway on loopback direct), so a test
// can assert that nothing tried to leave.
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentCliMode, AgentCliSettings } from '../../src/agent-clis/driver.ts';

type Json = Record<string, any>;

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const modules = join(root, '.tools', 'node_modules');
const required = process.env.SWITCHYARD_TEST_AGENT_CLIS !== undefined && process.env.SWITCHYARD_TEST_AGENT_CLIS !== '';
const INSTALL_HINT = 'run: bash scripts/install-test-tools.sh';

export type AgentCliName = 'claude-code' | 'codex' | 'opencode' | 'gemini-cli';

interface AgentCliPackage {
  /** The npm package scripts/install-test-tools.sh installs. */
  name: string;
  /** The native binary inside .tools/node_modules, for this platform (Gemini CLI: its JS bundle). */
  binary(): string | undefined;
}

// Each npm package is a thin wrapper; the real program is a native binary in a per-platform
// optional dependency. Running that binary directly spares a Node process per run.
const CODEX_TRIPLES: Record<string, string> = {
  'linux-x64': 'x86_64-unknown-linux-musl', 'linux-arm64': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin', 'darwin-arm64': 'aarch64-apple-darwin',
};

function isMusl(): boolean {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return process.platform === 'linux' && report.header?.glibcVersionRuntime === undefined;
}

const PACKAGES: Record<AgentCliName, AgentCliPackage> = {
  'claude-code': {
    name: '@anthropic-ai/claude-code',
    binary() {
      const platform = `${process.platform}-${process.arch}${isMusl() ? '-musl' : ''}`;
      return join(modules, `@anthropic-ai/claude-code-${platform}`, 'claude');
    },
  },
  codex: {
    name: '@openai/codex',
    binary() {
      const platform = `${process.platform}-${process.arch}`;
      const triple = CODEX_TRIPLES[platform];
      return triple === undefined ? undefined : join(modules, `@openai/codex-${platform}`, 'vendor', triple, 'bin', 'codex');
    },
  },
  opencode: {
    name: 'opencode-ai',
    binary() {
      // the package's postinstall links the right platform binary (AVX2 or baseline, glibc or
      // musl) here; without it having run, the plain platform package's binary
      const linked = join(modules, 'opencode-ai', 'bin', 'opencode.exe');
      if (existsSync(linked) && statSync(linked).size > 0) return linked;
      const os = process.platform === 'win32' ? 'windows' : process.platform;
      return join(modules, `opencode-${os}-${process.arch}${isMusl() ? '-musl' : ''}`, 'bin', 'opencode');
    },
  },
  // One JS bundle, started by its `#!/usr/bin/env node` line: the environment's PATH must find a
  // Node >= 20 (geminiCliEnv puts the project's Node first).
  'gemini-cli': {
    name: '@google/gemini-cli',
    binary: () => join(modules, '@google/gemini-cli', 'bundle', 'gemini.js'),
  },
};

/** The installed version of a CLI's npm package, or undefined when it is not installed. */
export function agentCliVersion(name: AgentCliName): string | undefined {
  const manifest = join(modules, PACKAGES[name].name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** The path of a CLI's native binary; throws when it is not installed. */
export function agentCliPath(name: AgentCliName): string {
  const reason = agentCliUnavailable(name);
  if (reason !== undefined) throw new Error(reason);
  return PACKAGES[name].binary()!;
}

/** Why a CLI cannot run here, or undefined when it can. Throws in CI when it cannot. */
export function agentCliUnavailable(name: AgentCliName): string | undefined {
  const { name: packageName } = PACKAGES[name];
  const binary = PACKAGES[name].binary();
  let reason: string | undefined;
  if (agentCliVersion(name) === undefined) reason = `${packageName} is not in .tools/ (${INSTALL_HINT})`;
  else if (binary === undefined) reason = `${packageName} has no native binary for ${process.platform}-${process.arch}`;
  else if (!existsSync(binary) || statSync(binary).size === 0) reason = `${packageName}'s native binary is missing: ${binary} (${INSTALL_HINT})`;
  if (reason !== undefined && required) throw new Error(`SWITCHYARD_TEST_AGENT_CLIS is set but ${reason}`);
  return reason;
}

// --- the egress sink ------------------------------------------------------------------------

/** One request a CLI tried to send past loopback. */
export interface EgressAttempt {
  /** CONNECT for HTTPS (target is host:port), the method for plain HTTP (target is the URL). */
  method: string;
  target: string;
}

/** An HTTP(S) proxy on 127.0.0.1 that records each request it is given and refuses it (403). */
export interface EgressSink {
  /** http://127.0.0.1:PORT, for HTTP_PROXY and HTTPS_PROXY. */
  url: string;
  attempts: EgressAttempt[];
  close(): Promise<void>;
}

export async function startEgressSink(): Promise<EgressSink> {
  const attempts: EgressAttempt[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    attempts.push({ method: request.method ?? 'GET', target: request.url ?? '' });
    response.writeHead(403, { connection: 'close' });
    response.end();
  });
  server.on('connection', (socket: Socket) => {
    // a refused client may reset the connection: part of the job, not an error
    socket.on('error', () => {});
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (request: IncomingMessage, socket: Socket) => {
    attempts.push({ method: 'CONNECT', target: request.url ?? '' });
    socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    attempts,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

// --- temporary homes ------------------------------------------------------------------------

const workspaces = new Set<string>();
const running = new Set<ChildProcess>();

// Registered when the helper is imported, so it runs once at the end of the test file (a hook
// registered from inside a suite would run when that suite ends, before later runs).
after(() => {
  for (const child of running) killGroup(child);
  if (process.env.SWITCHYARD_TEST_KEEP_CLI_HOMES === undefined) {
    for (const path of workspaces) rmSync(path, { recursive: true, force: true });
  }
});

/** A throw-away HOME (with TMPDIR inside it) and a working directory for one CLI run. */
export interface AgentWorkspace {
  root: string;
  home: string;
  /** The CLI's working directory (its project folder). */
  cwd: string;
}

/** Makes a workspace under the system temp dir; removed when the test file ends (kept with SWITCHYARD_TEST_KEEP_CLI_HOMES set). */
export function makeAgentWorkspace(files: Record<string, string> = {}): AgentWorkspace {
  const base = mkdtempSync(join(tmpdir(), 'switchyard-agent-'));
  workspaces.add(base);
  const home = join(base, 'home');
  const cwd = join(base, 'project');
  mkdirSync(join(home, 'tmp'), { recursive: true });
  mkdirSync(cwd);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(cwd, name), content);
  return { root: base, home, cwd };
}

/** The environment every run starts from: nothing of the test runner's but PATH. */
function baseEnv(workspace: AgentWorkspace, sink: EgressSink): NodeJS.ProcessEnv {
  const noProxy = '127.0.0.1,localhost,::1';
  return {
    PATH: process.env.PATH,
    HOME: workspace.home,
    TMPDIR: join(workspace.home, 'tmp'),
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    // Both spellings: Rust's reqwest (Codex) reads either, Claude Code's runtime the upper case.
    HTTPS_PROXY: sink.url, HTTP_PROXY: sink.url, ALL_PROXY: sink.url,
    https_proxy: sink.url, http_proxy: sink.url, all_proxy: sink.url,
    NO_PROXY: noProxy, no_proxy: noProxy,
  };
}

// --- running a CLI --------------------------------------------------------------------------

export interface AgentCliResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the deadline passed and the process group was killed. */
  timedOut: boolean;
  /** The JSON lines of stdout, parsed (other lines are skipped). */
  events: Json[];
  /** The command line, for failure messages. */
  command: string;
}

export interface RunOptions {
  cwd: string;
  /** The whole environment (PATH is not added: pass baseEnv's). */
  env: NodeJS.ProcessEnv;
  /** Kills the process group after this long; default 120 s. */
  timeoutMs?: number;
}

function killGroup(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/**
 * Runs a program to its end with stdin closed, in its own process group (so a deadline also ends
 * the shells and tools it started), and collects what it printed.
 */
export function runAgentCli(command: string, args: string[], options: RunOptions): Promise<AgentCliResult> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, options.timeoutMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      running.delete(child);
      reject(error);
    });
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const events: Json[] = [];
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          events.push(JSON.parse(line) as Json);
        } catch {
          // a line that only looks like JSON: kept in stdout
        }
      }
      resolve({ exitCode, signal, stdout, stderr, timedOut, events, command: [command, ...args].map((part) => (part.length > 80 ? `${part.slice(0, 77)}...` : part)).join(' ') });
    });
  });
}

/** A readable account of a run, for assertion messages. */
export function describeRun(result: AgentCliResult): string {
  return `${result.command}\nexit ${result.exitCode}${result.signal !== null ? ` (${result.signal})` : ''}${result.timedOut ? ', timed out' : ''}\n--- stdout:\n${result.stdout.slice(-6000)}\n--- stderr:\n${result.stderr.slice(-3000)}`;
}

// --- Claude Code ----------------------------------------------------------------------------

export interface ClaudeCodeOptions {
  workspace: AgentWorkspace;
  sink: EgressSink;
  /** The gateway's root URL (Claude Code adds /v1/messages itself). */
  baseUrl: string;
  /** Sent as x-api-key (ANTHROPIC_API_KEY). */
  apiKey: string;
  prompt: string;
  /** --model; Claude Code's default model when absent. */
  model?: string;
  /** Arguments after the defaults, e.g. ['--allowedTools', 'Read']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * `claude -p <prompt> --output-format stream-json --verbose`: one headless agent turn (tool calls
 * included), every event as a JSON line ({type: system|assistant|user|result}).
 */
export function runClaudeCode(options: ClaudeCodeOptions): Promise<AgentCliResult> {
  const { workspace } = options;
  const args = ['-p', options.prompt, '--output-format', 'stream-json', '--verbose', '--no-session-persistence'];
  if (options.model !== undefined) args.push('--model', options.model);
  args.push(...(options.args ?? []));
  const env = claudeCodeEnv(options);
  return runAgentCli(agentCliPath('claude-code'), args, { cwd: workspace.cwd, env, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
}

/**
 * The environment Claude Code runs with in a test: a throw-away HOME and config directory, the
 * mock (or gateway) as its API, the egress sink as its proxy, no background traffic.
 */
export function claudeCodeEnv(options: Pick<ClaudeCodeOptions, 'workspace' | 'sink' | 'baseUrl' | 'apiKey' | 'env'>): NodeJS.ProcessEnv {
  return {
    ...baseEnv(options.workspace, options.sink),
    CLAUDE_CONFIG_DIR: join(options.workspace.home, '.claude'),
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_API_KEY: options.apiKey,
    // no telemetry, error reports, update checks, release notes or other background calls
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    // a gateway error shows at once instead of after Claude Code's own retries and back-off
    CLAUDE_CODE_MAX_RETRIES: '0',
    ...options.env,
  };
}

/** The `result` event of a Claude Code stream-json run (its final answer and error flag). */
export function claudeResult(result: AgentCliResult): Json | undefined {
  return result.events.findLast((event) => event.type === 'result');
}

// --- Codex ----------------------------------------------------------------------------------

export interface CodexOptions {
  workspace: AgentWorkspace;
  sink: EgressSink;
  /** The gateway's root URL; the provider's base_url is this plus /v1. */
  baseUrl: string;
  /** Sent as Bearer (the provider's env_key). */
  apiKey: string;
  prompt: string;
  /** `model` in config.toml; Codex's own default model when absent. */
  model?: string;
  /** More config.toml lines, placed before the tables (top-level keys). */
  config?: string[];
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

const CODEX_KEY_VARIABLE = 'SWITCHYARD_API_KEY';

/** The config.toml a test run uses: one model provider (the gateway, Responses wire API), nothing else reached. */
export function codexConfig(options: Pick<CodexOptions, 'baseUrl' | 'model' | 'config'>): string {
  return [
    ...(options.model !== undefined ? [`model = ${JSON.stringify(options.model)}`] : []),
    'model_provider = "switchyard"',
    'check_for_update_on_startup = false',
    ...(options.config ?? []),
    '',
    '[model_providers.switchyard]',
    'name = "Switchyard"',
    `base_url = ${JSON.stringify(`${options.baseUrl}/v1`)}`,
    'wire_api = "responses"',
    `env_key = "${CODEX_KEY_VARIABLE}"`,
    // a gateway error shows at once instead of after Codex's own retries
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
    '[analytics]',
    'enabled = false',
    '',
    // plugins and apps sync catalogues from github.com and chatgpt.com at start-up
    '[features]',
    'plugins = false',
    'remote_plugin = false',
    'apps = false',
    '',
  ].join('\n');
}

/**
 * `codex exec --json --skip-git-repo-check --ephemeral <prompt>` with CODEX_HOME in the workspace:
 * one headless agent turn, every event as a JSON line (thread.*, turn.*, item.*).
 */
export function runCodex(options: CodexOptions): Promise<AgentCliResult> {
  const { workspace } = options;
  const codexHome = join(workspace.home, '.codex');
  mkdirSync(codexHome, { recursive: true });
  writeFileSync(join(codexHome, 'config.toml'), codexConfig(options));
  const args = ['exec', '--json', '--skip-git-repo-check', '--ephemeral', ...(options.args ?? []), options.prompt];
  const env: NodeJS.ProcessEnv = {
    ...baseEnv(workspace, options.sink),
    CODEX_HOME: codexHome,
    [CODEX_KEY_VARIABLE]: options.apiKey,
    ...options.env,
  };
  return runAgentCli(agentCliPath('codex'), args, { cwd: workspace.cwd, env, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
}

/** The items a Codex run completed (agent_message, command_execution, error, ...). */
export function codexItems(result: AgentCliResult, type?: string): Json[] {
  return result.events
    .filter((event) => event.type === 'item.completed')
    .map((event) => event.item as Json)
    .filter((item) => type === undefined || item.type === type);
}

// --- opencode -------------------------------------------------------------------------------

export interface OpencodeEnvOptions {
  workspace: AgentWorkspace;
  sink: EgressSink;
  /** opencode config (OPENCODE_CONFIG_CONTENT): providers, models; merged over the defaults here. */
  config: Json;
  env?: NodeJS.ProcessEnv;
}

/**
 * A model provider for opencode's config: the OpenAI-compatible SDK it bundles, pointed at a
 * loopback mock (`baseUrl` without /v1), with the named models.
 */
export function opencodeMockProvider(baseUrl: string, models: string[], apiKey = 'sk-opencode-test'): Json {
  return {
    npm: '@ai-sdk/openai-compatible',
    name: 'Mock',
    options: { baseURL: `${baseUrl}/v1`, apiKey },
    models: Object.fromEntries(models.map((model) => [model, { name: model }])),
  };
}

/**
 * The environment for `opencode serve` in a test (the driver adds its own settings over it): a
 * throw-away HOME and XDG directories, the egress sink as proxy, and opencode's switches for
 * everything it would fetch or install: the models.dev catalogue (OPENCODE_DISABLE_MODELS_FETCH),
 * updates, sharing, LSP servers, plugins (default and external). Its config directory is seeded so
 * that opencode sees its own plugin package (@opencode-ai/plugin, which it npm-installs there at
 * every start otherwise) as installed.
 */
export function opencodeEnv(options: OpencodeEnvOptions): NodeJS.ProcessEnv {
  const { workspace } = options;
  const xdg = (name: string): string => join(workspace.home, name);
  const configDir = join(xdg('.config'), 'opencode');
  mkdirSync(join(configDir, 'node_modules'), { recursive: true });
  writeFileSync(join(configDir, 'package.json'), '{}\n');
  writeFileSync(join(configDir, 'package-lock.json'), `${JSON.stringify({ lockfileVersion: 3, packages: { '': { dependencies: { '@opencode-ai/plugin': '*' } } } })}\n`);
  const config: Json = { autoupdate: false, share: 'disabled', plugin: [], ...options.config };
  return {
    ...baseEnv(workspace, options.sink),
    XDG_CONFIG_HOME: xdg('.config'),
    XDG_DATA_HOME: xdg('.local/share'),
    XDG_CACHE_HOME: xdg('.cache'),
    XDG_STATE_HOME: xdg('.local/state'),
    OPENCODE_CONFIG_CONTENT: JSON.stringify(config),
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_PURE: '1',
    ...options.env,
  };
}

// --- Codex as a gateway provider (src/agent-clis/codex) -----------------------------------------

export interface CodexDriverOptions {
  workspace: AgentWorkspace;
  sink: EgressSink;
  /** The mock's root URL; the model provider's base_url is this plus /v1. */
  baseUrl: string;
  /** Sent as Bearer (the provider's env_key). */
  apiKey: string;
  mode?: AgentCliMode;
  models?: string[];
  /** More provider args after the model provider's `-c` settings. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** The model provider's entries beyond the defaults, as TOML `key = value` (e.g. 'requires_openai_auth = true'). */
  providerSettings?: string[];
}

/**
 * The settings the gateway would hand the Codex driver, offline: the user's HOME is the
 * workspace's (its ~/.codex is where a test puts a login or a config the driver must not read),
 * the model provider is the mock (Responses API) through `-c` arguments, and the driver's own
 * directory is under the workspace.
 */
export function codexDriverSettings(options: CodexDriverOptions): AgentCliSettings {
  const { workspace } = options;
  const provider = [
    'name = "Switchyard test mock"',
    `base_url = ${JSON.stringify(`${options.baseUrl}/v1`)}`,
    'wire_api = "responses"',
    ...(options.providerSettings ?? [`env_key = "${CODEX_KEY_VARIABLE}"`]),
    // a mock's error shows at once instead of after Codex's own retries
    'request_max_retries = 0',
    'stream_max_retries = 0',
  ];
  return {
    name: 'codex-test',
    type: 'codex',
    command: agentCliPath('codex'),
    args: ['-c', 'model_provider="switchyard"', '-c', `model_providers.switchyard={ ${provider.join(', ')} }`, ...(options.args ?? [])],
    env: { ...baseEnv(workspace, options.sink), [CODEX_KEY_VARIABLE]: options.apiKey, ...options.env },
    mode: options.mode ?? 'llm',
    workDir: join(workspace.root, 'state', 'codex'),
    models: options.models ?? [],
  };
}

// --- Gemini CLI -----------------------------------------------------------------------------

export interface GeminiCliOptions {
  workspace: AgentWorkspace;
  sink: EgressSink;
  /** The Gemini API's root (GOOGLE_GEMINI_BASE_URL; the CLI adds /v1beta/models/...). */
  baseUrl: string;
  /** Sent as x-goog-api-key (GEMINI_API_KEY). */
  apiKey: string;
  /** Merged over the offline settings, key by top-level key. */
  settings?: Json;
  env?: NodeJS.ProcessEnv;
}

/**
 * The ~/.gemini/settings.json of a test run: API-key auth and nothing in the background — no
 * telemetry, usage statistics, update checks or update notices (0.61 reads `enableAutoUpdate*`;
 * the older `disableAutoUpdate` is migrated by the CLI itself, rewriting the file), no IDE link.
 */
export function geminiCliSettings(extra: Json = {}): Json {
  return {
    security: { auth: { selectedType: 'gemini-api-key' } },
    telemetry: { enabled: false },
    privacy: { usageStatisticsEnabled: false },
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    ide: { enabled: false },
    ...extra,
  };
}

/**
 * The environment of a Gemini CLI run (one-shot or `--acp`): writes the settings into the
 * workspace's HOME, points the CLI at `baseUrl` with an API key, trusts the working directory
 * (GEMINI_CLI_TRUST_WORKSPACE: no trust prompt) and never opens a browser.
 */
export function geminiCliEnv(options: GeminiCliOptions): NodeJS.ProcessEnv {
  const { workspace } = options;
  const settingsDir = join(workspace.home, '.gemini');
  mkdirSync(settingsDir, { recursive: true });
  writeFileSync(join(settingsDir, 'settings.json'), JSON.stringify(geminiCliSettings(options.settings), null, 2));
  const env = baseEnv(workspace, options.sink);
  return {
    ...env,
    PATH: `${dirname(process.execPath)}:${env.PATH ?? ''}`,
    GEMINI_API_KEY: options.apiKey,
    GOOGLE_GEMINI_BASE_URL: options.baseUrl,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    NO_BROWSER: 'true',
    ...options.env,
  };
}

export interface GeminiRunOptions extends GeminiCliOptions {
  prompt: string;
  /** -m; always pass one, or the CLI first asks a router model which to use. */
  model: string;
  args?: string[];
  timeoutMs?: number;
}

/** `gemini -p <prompt> -m <model> -o stream-json`: one headless turn, every event as a JSON line. */
export function runGeminiCli(options: GeminiRunOptions): Promise<AgentCliResult> {
  const args = ['-p', options.prompt, '-m', options.model, '-o', 'stream-json', ...(options.args ?? [])];
  return runAgentCli(agentCliPath('gemini-cli'), args, { cwd: options.workspace.cwd, env: geminiCliEnv(options), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) });
}

/**
 * A Gemini API streamGenerateContent answer as SSE events for the mock upstream (`kind: 'stream'`):
 * one event per text piece, the last with finishReason STOP and the usage.
 */
export function geminiStreamEvents(pieces: readonly string[], usage = { promptTokenCount: 12, candidatesTokenCount: 5 }): string[] {
  return pieces.map((text, index) => JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0, ...(index === pieces.length - 1 ? { finishReason: 'STOP' } : {}) }],
    ...(index === pieces.length - 1 ? { usageMetadata: { ...usage, totalTokenCount: usage.promptTokenCount + usage.candidatesTokenCount } } : {}),
    modelVersion: 'mock-gemini',
  }));
}
