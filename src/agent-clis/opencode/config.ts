// How the gateway runs an opencode server it manages: the environment and the inline config
// (OPENCODE_CONFIG_CONTENT, merged by opencode last, over the user's own files) that make it a
// model and nothing more in `llm` mode — and, in every mode, a server that does not update
// itself, share sessions publicly, or answer anyone who lacks the password.
import type { AgentCliMode } from '../driver.ts';
import { isObject, type JsonObject } from '../../util/json-value.ts';

/** The agent the gateway defines for `llm` mode: every permission denied, no prompt of its own. */
export const LLM_AGENT = 'switchyard-llm';
/** opencode's Basic-auth user name unless OPENCODE_SERVER_USERNAME says otherwise. */
export const DEFAULT_USERNAME = 'opencode';

/**
 * opencode's built-in tools (1.18: `GET /experimental/tool/ids`), denied by name as well as by
 * the `*` wildcard, so a rule the user wrote for one of them cannot come after the wildcard.
 */
export const KNOWN_TOOLS: readonly string[] = [
  'bash', 'read', 'glob', 'grep', 'edit', 'write', 'patch', 'apply_patch', 'task', 'webfetch', 'websearch',
  'codesearch', 'todowrite', 'todoread', 'skill', 'question', 'lsp', 'list', 'invalid', 'external_directory', 'doom_loop',
];

/** Environment variables that would widen what the server may do: dropped in `llm` mode. */
const LLM_DROPPED_ENV = ['OPENCODE_PERMISSION', 'OPENCODE_AUTO_SHARE', 'OPENCODE_ENABLE_EXA', 'OPENCODE_EXPERIMENTAL'];

function denyAll(): JsonObject {
  const permission: JsonObject = { '*': 'deny' };
  for (const tool of KNOWN_TOOLS) permission[tool] = 'deny';
  return permission;
}

/**
 * The inline config: the user's own OPENCODE_CONFIG_CONTENT (when it is a JSON object) with the
 * gateway's settings over it. In `llm` mode `permission` is replaced, not merged, and the agent
 * the gateway uses is defined: a blank prompt (the caller's system prompt follows it), every
 * permission denied.
 */
export function configContent(mode: AgentCliMode, userContent: string | undefined): string {
  let config: JsonObject = {};
  if (userContent !== undefined && userContent.trim() !== '') {
    try {
      const parsed: unknown = JSON.parse(userContent);
      if (isObject(parsed)) config = parsed;
    } catch {
      // opencode would refuse it too; the gateway's own settings still apply
    }
  }
  config.autoupdate = false;
  config.share = 'disabled';
  if (mode === 'llm') {
    config.permission = denyAll();
    const agents = isObject(config.agent) ? config.agent : {};
    agents[LLM_AGENT] = {
      description: 'Switchyard: the model alone, no tools',
      mode: 'primary',
      // a non-empty prompt replaces opencode's own (some 10 KB of coding-agent instructions); the
      // caller's system prompt is sent with each message and follows it
      prompt: ' ',
      permission: denyAll(),
    };
    config.agent = agents;
  }
  return JSON.stringify(config);
}

/**
 * The managed server's environment: the provider's (the gateway's, with the config's `env` over
 * it), then the gateway's settings, which win.
 */
export function serverEnv(
  base: Readonly<Record<string, string | undefined>>,
  mode: AgentCliMode,
  username: string,
  password: string,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  env.OPENCODE_CONFIG_CONTENT = configContent(mode, base.OPENCODE_CONFIG_CONTENT);
  env.OPENCODE_SERVER_USERNAME = username;
  env.OPENCODE_SERVER_PASSWORD = password;
  env.OPENCODE_DISABLE_AUTOUPDATE = '1';
  env.OPENCODE_DISABLE_SHARE = '1';
  if (mode === 'llm') {
    for (const name of LLM_DROPPED_ENV) delete env[name];
    // nothing from the working directory's parents (opencode.json, AGENTS.md) or ~/.claude reaches the prompt
    env.OPENCODE_DISABLE_PROJECT_CONFIG = '1';
    env.OPENCODE_DISABLE_CLAUDE_CODE = '1';
    env.OPENCODE_DISABLE_EXTERNAL_SKILLS = '1';
    // the user's own plugins run code on every event; kept only when the provider's env asks for them
    env.OPENCODE_PURE ??= '1';
  }
  return env;
}
