// Running with no file: one provider per preset whose key variable is set, plus each local server
// (Ollama, LM Studio, llama.cpp) that answers on its default loopback port, plus each agent CLI
// (Claude Code, Codex, Gemini CLI, opencode) found on PATH whose login is present on disk — for the
// user's own use. The result goes through the same normalizer as a file, so both paths build
// providers identically.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '../util/undici.ts';
import { findOnPath } from '../util/find-on-path.ts';
import { AGENT_CLI_COMMANDS, AGENT_CLI_TYPES } from './defaults.ts';
import type { AgentCliKind } from './types.ts';
import { presets, type Preset } from '../providers/presets/index.ts';
import { isLoopbackHost, normalizeConfig } from './normalize.ts';
import type { RawProvider } from './schema.ts';
import type { GatewayConfig } from './types.ts';

export interface ZeroConfigOptions {
  /** Resolves true when a local server answers at `baseUrl`; replaceable for tests. */
  probe?: (baseUrl: string) => Promise<boolean>;
  probeTimeoutMs?: number;
  /** The agent-CLI types this build has drivers for; the others are not registered. Default: none. */
  agentCliTypes?: readonly AgentCliKind[];
  /** Whether the macOS keychain holds an item of this service (Claude Code keeps its login there); replaceable for tests. */
  keychainHas?: (service: string) => boolean;
}

/** Where each CLI keeps its login, and its name in messages. Only whether the file exists is looked at. */
const AGENT_CLI_LOGINS: Record<AgentCliKind, { title: string; files: (env: NodeJS.ProcessEnv, home: string) => string[]; keychain?: string }> = {
  'claude-code': {
    title: 'Claude Code',
    files: (env, home) => [join(env.CLAUDE_CONFIG_DIR ?? join(home, '.claude'), '.credentials.json')],
    // on macOS the login is in the keychain, not in a file
    keychain: 'Claude Code-credentials',
  },
  codex: { title: 'Codex', files: (env, home) => [join(env.CODEX_HOME ?? join(home, '.codex'), 'auth.json')] },
  'gemini-cli': { title: 'Gemini CLI', files: (_env, home) => [join(home, '.gemini', 'oauth_creds.json')] },
  opencode: { title: 'opencode', files: (env, home) => [join(env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'opencode', 'auth.json')] },
};

/** `SWITCHYARD_AGENT_CLIS=off` keeps zero-config from registering any agent CLI. */
const AGENT_CLIS_OFF = new Set(['0', 'off', 'false', 'no']);

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * `security find-generic-password -s <service>` without `-w` prints the item's attributes, never
 * its secret, and exits 0 when the item exists: presence only (the output is discarded).
 */
function macKeychainHas(service: string): boolean {
  if (process.platform !== 'darwin') return false;
  try {
    execFileSync('/usr/bin/security', ['find-generic-password', '-s', service], { stdio: 'ignore', timeout: 2000 });
    return true;
  } catch {
    return false;
  }
}

/** Where a logged-in CLI's login was seen, as the banner names it (`~/.codex/auth.json`), or undefined. */
function loginOf(type: AgentCliKind, env: NodeJS.ProcessEnv, home: string, keychainHas: (service: string) => boolean): string | undefined {
  const login = AGENT_CLI_LOGINS[type];
  for (const file of login.files(env, home)) if (isFile(file)) return file.startsWith(`${home}/`) ? `~/${file.slice(home.length + 1)}` : file;
  if (login.keychain !== undefined && keychainHas(login.keychain)) return `the macOS keychain ("${login.keychain}")`;
  return undefined;
}

/**
 * Agent CLIs on PATH whose login is present: registered as providers named after their type, for
 * the user's own use (the banner says so). A CLI that is installed but not logged in, or that
 * this build has no driver for, is only mentioned.
 */
function detectAgentClis(env: NodeJS.ProcessEnv, options: ZeroConfigOptions, providers: RawProvider[], found: string[]): void {
  const home = env.HOME ?? env.USERPROFILE;
  if (home === undefined || home === '') return;
  if (AGENT_CLIS_OFF.has((env.SWITCHYARD_AGENT_CLIS ?? '').toLowerCase())) return;
  const drivers = new Set(options.agentCliTypes ?? []);
  const keychainHas = options.keychainHas ?? macKeychainHas;
  for (const type of AGENT_CLI_TYPES) {
    const command = findOnPath(AGENT_CLI_COMMANDS[type], env.PATH);
    if (command === undefined) continue;
    const title = AGENT_CLI_LOGINS[type].title;
    const login = loginOf(type, env, home, keychainHas);
    if (login === undefined) {
      found.push(`${type}: ${title} CLI at ${command}, not logged in (no login found); log in with it, then restart to use your subscription here`);
      continue;
    }
    if (!drivers.has(type)) {
      found.push(`${type}: ${title} CLI at ${command} is logged in, but this build has no driver for it`);
      continue;
    }
    if (providers.some((provider) => provider.name === type)) continue;
    providers.push({ name: type, type, command });
    found.push(`${type}: ${title} CLI at ${command}, logged in (${login}) — personal use: your subscription, through the official CLI, for you alone; its tools stay off (mode: llm). SWITCHYARD_AGENT_CLIS=off to leave it out`);
  }
}

export interface ZeroConfig {
  config: GatewayConfig;
  /** Human lines for the banner: what was found and why. */
  found: string[];
}

const DEFAULT_PROBE_TIMEOUT_MS = 300;

/** `anthropic-openai` → `anthropic`: the suffix names the dialect, which a user need not type. */
export function zeroConfigName(presetName: string): string {
  return presetName.replace(/-openai$/, '');
}

export async function buildZeroConfig(env: NodeJS.ProcessEnv, options: ZeroConfigOptions = {}): Promise<ZeroConfig> {
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const providers: RawProvider[] = [];
  const found: string[] = [];
  const locals: [string, Preset][] = [];
  for (const [presetName, preset] of Object.entries(presets)) {
    if (preset.local) {
      if (isLoopbackUrl(preset.baseUrl)) locals.push([presetName, preset]);
      continue;
    }
    const variable = preset.keyEnv.find((name) => (env[name] ?? '') !== '');
    if (variable === undefined) continue;
    const name = zeroConfigName(presetName);
    if (preset.baseUrl === '') {
      found.push(`${name}: ${variable} is set, but ${preset.title} needs a base_url; configure it in switchyard.yaml`);
      continue;
    }
    providers.push({ name, type: presetName, api_key: env[variable]! });
    found.push(`${name}: ${preset.title} at ${preset.baseUrl} (key from $${variable})`);
  }

  const agent = options.probe === undefined ? new Agent({ connect: { timeout: timeoutMs }, keepAliveTimeout: 1, pipelining: 0 }) : undefined;
  const probe = options.probe ?? ((baseUrl: string) => probeLocal(baseUrl, timeoutMs, agent!));
  try {
    const answers = await Promise.all(locals.map(([, preset]) => withDeadline(probe(preset.baseUrl), timeoutMs)));
    locals.forEach(([presetName, preset], index) => {
      if (!answers[index]) return;
      const name = zeroConfigName(presetName);
      providers.push({ name, type: presetName });
      found.push(`${name}: ${preset.title} answering at ${preset.baseUrl}`);
    });
  } finally {
    if (agent !== undefined) await agent.destroy().catch(() => {});
  }

  detectAgentClis(env, options, providers, found);
  const { config } = normalizeConfig({ providers }, 'zero-config');
  return { config, found };
}

function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** `GET {baseUrl}/models` answered 2xx. Refuses anything but loopback: zero-config never reaches out. */
export async function probeLocal(baseUrl: string, timeoutMs: number, dispatcher?: Agent): Promise<boolean> {
  if (!isLoopbackUrl(baseUrl)) return false;
  const agent = dispatcher ?? new Agent({ connect: { timeout: timeoutMs }, keepAliveTimeout: 1, pipelining: 0 });
  try {
    const url = new URL(`${baseUrl.replace(/\/+$/, '')}/models`);
    const response = await agent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 300;
  } catch {
    return false;
  } finally {
    if (dispatcher === undefined) await agent.destroy().catch(() => {});
  }
}

/** A probe that hangs must not hold up start-up. */
function withDeadline(answer: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, timeoutMs + 50, false);
  });
  return Promise.race([answer.catch(() => false), deadline]).finally(() => clearTimeout(timer));
}
