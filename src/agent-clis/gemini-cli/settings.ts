// How the driver starts `gemini`: its flags, its environment and the settings it writes for the
// CLI (all verified against Gemini CLI 0.61.0). Pure data and string building; no I/O.
//
// The settings go into the project settings of the driver's own working directory
// (`<dir>/.gemini/settings.json`). Gemini CLI layers settings as system defaults < user < project
// < system: the project layer overrides the user's own ~/.gemini/settings.json (its tools, MCP
// servers, hooks, retries) without touching it, and an administrator's system settings still win.
// GEMINI_CLI_TRUST_WORKSPACE makes the CLI read that layer even where the user turned folder
// trust on.
import { join } from 'node:path';
import type { AgentCliMode, AgentCliSettings } from '../driver.ts';

/**
 * The system prompt of a session in `llm` mode whose caller sent none. The CLI's own is 30K
 * characters about being a coding agent with tools it does not have here; an empty one is sent
 * as an empty text part, which the Gemini API may refuse.
 */
export const NEUTRAL_SYSTEM_PROMPT = 'You are a helpful assistant.';

/**
 * Not a server anyone defines: `--allowed-mcp-server-names` with only this name starts none of
 * the user's MCP servers (an empty allow-list in settings means "no filter", and the settings'
 * allow-lists are intersected across layers, so only the flag is certain).
 */
const NO_MCP_SERVER = 'switchyard-none';

/**
 * Context files (GEMINI.md) are looked up under this name in `llm` mode: no such file exists, so
 * the user's own global and project memory stays out of a plain model call.
 */
const NO_CONTEXT_FILE = 'SWITCHYARD-NO-CONTEXT.md';

/** What both modes need from a CLI run by a gateway. */
const COMMON_SETTINGS = {
  general: {
    // One attempt: the gateway retries and fails over itself; with the default of 10 an
    // upstream 503 kept a turn busy for over two minutes.
    maxAttempts: 1,
    // a worker must not update itself or show update notices mid-flight
    enableAutoUpdate: false,
    enableAutoUpdateNotification: false,
    checkpointing: { enabled: false },
  },
  ide: { enabled: false },
} as const;

/**
 * `llm` mode: the CLI answers as a model. No built-in tool is registered (`tools.core: []`, so
 * the model is offered none and a tool it asks for anyway is "not found"), nothing is discovered or
 * started (discovery and call commands, MCP servers, hooks, skills, extensions, sub-agents, auto
 * memory), and YOLO cannot be turned on by extra args.
 */
export const LLM_MODE_SETTINGS = {
  ...COMMON_SETTINGS,
  general: { ...COMMON_SETTINGS.general, defaultApprovalMode: 'default', plan: { enabled: false } },
  tools: { core: [], discoveryCommand: '', callCommand: '', useRipgrep: false },
  mcp: { serverCommand: '' },
  hooksConfig: { enabled: false },
  skills: { enabled: false },
  experimental: { enableAgents: false, autoMemory: false, extensionReloading: false },
  security: { disableYoloMode: true, disableAlwaysAllow: true, enablePermanentToolApproval: false },
  context: { fileName: NO_CONTEXT_FILE, includeDirectoryTree: false },
} as const;

/** `agent` mode: the CLI's tools and the user's own configuration as they are. */
export const AGENT_MODE_SETTINGS = COMMON_SETTINGS;

export function projectSettings(mode: AgentCliMode): string {
  return `${JSON.stringify(mode === 'llm' ? LLM_MODE_SETTINGS : AGENT_MODE_SETTINGS, null, 2)}\n`;
}

/** The flags of a long-lived ACP worker; the config's own `args` come after them. */
export function acpArgs(settings: AgentCliSettings): string[] {
  return ['--acp', ...modeArgs(settings.mode), ...settings.args];
}

/** The flags of a one-shot run (the fallback); the prompt goes to stdin. */
export function oneShotArgs(settings: AgentCliSettings, model: string): string[] {
  return ['--model', model, '--output-format', 'stream-json', ...modeArgs(settings.mode), ...settings.args];
}

function modeArgs(mode: AgentCliMode): string[] {
  // never --yolo or another auto-approval: in agent mode the user's own settings decide what runs unasked
  if (mode === 'agent') return [];
  return ['--approval-mode=default', '--extensions=none', `--allowed-mcp-server-names=${NO_MCP_SERVER}`];
}

/**
 * The CLI's environment: the configured one, then what the driver needs. `systemPromptFile`
 * (`llm` mode) replaces the CLI's system prompt with the file's text, read when a session starts.
 */
export function cliEnv(settings: AgentCliSettings, systemPromptFile: string | undefined): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    // the launcher re-executes itself in a second Node process to raise the heap limit: one process is enough
    GEMINI_CLI_NO_RELAUNCH: 'true',
    ...settings.env,
    GEMINI_CLI_TRUST_WORKSPACE: 'true',
    // a gateway never opens a browser for a login
    NO_BROWSER: 'true',
    // On an upstream error the CLI dumps the whole conversation to $TMPDIR/gemini-client-error-*.json
    // (mode 0644): kept in the driver's own directory and removed there (see the driver).
    TMPDIR: cliTempDir(settings),
  };
  if (systemPromptFile !== undefined) env.GEMINI_SYSTEM_MD = systemPromptFile;
  return env;
}

/** The CLI's temporary directory, inside the driver's. */
export function cliTempDir(settings: AgentCliSettings): string {
  return join(settings.workDir, 'tmp');
}

/** Values of the environment that must never reach an error message (API keys). */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const secrets: string[] = [];
  for (const name of ['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GOOGLE_GENAI_API_KEY']) {
    const value = env[name];
    if (value !== undefined && value.length > 0) secrets.push(value);
  }
  return secrets;
}
