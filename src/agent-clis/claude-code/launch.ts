// How a Claude Code process is started: its arguments (never a prompt: prompts and system prompts
// go through stdin) and its environment.
//
// Both modes: print mode with stream-json output (which needs --verbose), the model always named,
// no MCP servers but the ones given (--strict-mcp-config), no slash commands or skills, none of the
// user's settings files (--setting-sources ""): a settings file could allow tools or a permission
// mode the gateway never chose, or add hooks. The default permission mode, and nobody to answer a
// permission prompt (--permission-prompts none): anything that would ask is denied on the spot.
// --dangerously-skip-permissions is never added.
// - `llm`: no tools at all (--tools ""), so nothing can run on the host whatever the model asks,
//   and at most two model calls per turn (--max-turns 2: a model that asks for a tool it does not
//   have is told so once, then the turn ends).
// - `agent`: Claude Code's own tools, in a working directory of the conversation's own; what needs
//   approval (commands, edits) is denied, what does not (reading inside that directory) runs.
import { createHash } from 'node:crypto';
import type { AgentCliMode, AgentCliSettings } from '../driver.ts';

/** Model calls per turn in `llm` mode: the answer, and one more after a refused tool call. */
export const LLM_MAX_TURNS = 2;

export interface LaunchOptions {
  mode: AgentCliMode;
  /** The model, always passed (`--model`). */
  model: string;
  /** Persistent worker: stream-json input on stdin, one user line per turn. Else one-shot: a text prompt on stdin. */
  persistent: boolean;
  /** The CLI's session: a new one with this id, one to resume, or none kept on disk. */
  session?: { kind: 'new' | 'resume'; id: string };
  /** One-shot mode: a file holding the system prompt (it cannot go through argv: it may be large). */
  systemPromptFile?: string;
  /** Agent mode, one-shot: appended to Claude Code's own system prompt rather than replacing it. */
  appendSystemPromptFile?: string;
  /** From the provider's config, after the driver's own. */
  extra: readonly string[];
}

export function claudeArgs(options: LaunchOptions): string[] {
  const args = ['-p'];
  if (options.persistent) args.push('--input-format', 'stream-json');
  args.push(
    '--output-format', 'stream-json', '--verbose', '--include-partial-messages',
    // one argument, so a model name can never be read as a flag
    `--model=${options.model}`,
    '--strict-mcp-config', '--disable-slash-commands', '--setting-sources', '',
    '--permission-mode', 'default', '--permission-prompts', 'none',
  );
  if (options.mode === 'llm') args.push('--tools', '', '--max-turns', String(LLM_MAX_TURNS));
  const session = options.session;
  if (session === undefined) args.push('--no-session-persistence');
  else args.push(session.kind === 'new' ? '--session-id' : '--resume', session.id);
  if (options.systemPromptFile !== undefined) args.push('--system-prompt-file', options.systemPromptFile);
  if (options.appendSystemPromptFile !== undefined) args.push('--append-system-prompt-file', options.appendSystemPromptFile);
  args.push(...options.extra);
  return args;
}

/**
 * The provider's environment, with defaults for a CLI run by a gateway where the user has not set
 * them: no auto-update mid-run, no telemetry or other background calls, and no retries of its own
 * (the gateway retries and fails over, and a rate-limited subscription should move traffic at once
 * rather than after minutes of Claude Code's back-off).
 */
export function claudeEnv(settings: AgentCliSettings): Record<string, string | undefined> {
  return {
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    ...settings.env,
  };
}

const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;

/** Values in the environment that must never show in an error message (API keys, OAuth tokens). */
export function secretsOf(env: Readonly<Record<string, string | undefined>>): string[] {
  const secrets: string[] = [];
  for (const [name, value] of Object.entries(env)) if (value !== undefined && value.length >= 8 && SECRET_NAME.test(name)) secrets.push(value);
  return secrets;
}

/** A conversation's working directory name (agent mode): its id hashed, since ids come from callers and may hold anything. */
export function conversationKey(conversation: string): string {
  return createHash('sha256').update(conversation).digest('hex').slice(0, 32);
}
