// The fallback when Claude Code's stream-json protocol does not start: one `claude -p` process per
// turn, the flattened conversation as text on stdin, the system prompt in a file (it may be large:
// never argv), every event read with the same decoder as the persistent workers. No sessions: each
// turn carries its whole history.
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redactText } from '../../util/redact.ts';
import { objectFromLine } from '../../util/json-value.ts';
import { CliChild } from '../child.ts';
import type { AgentCliSettings } from '../driver.ts';
import { closedError, exitedError, spawnError } from './errors.ts';
import { claudeArgs, conversationKey } from './launch.ts';
import { dialogueOf, systemPromptOf } from '../transcript.ts';
import { textPrompt } from './prompt.ts';
import type { TurnJob } from './turn-job.ts';

export interface OneShotHost {
  readonly provider: string;
  readonly settings: AgentCliSettings;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly secrets: readonly string[];
  readonly closed: boolean;
  /** The provider's work directory, created on first use. */
  workDir(): string;
  /** A directory under the work directory's `sessions/`, created. */
  sessionDirectory(name: string): string;
}

/** Runs `job` on a process of its own; throws a GatewayError for a request it cannot carry (images). */
export function runOneShot(host: OneShotHost, job: TurnJob): void {
  const { request, model, conversation } = job.turn;
  const messages = request.messages;
  const prompt = textPrompt(dialogueOf(messages), host.provider);
  const agent = host.settings.mode === 'agent';
  const cwd = agent ? host.sessionDirectory(conversation === undefined ? `one-off-${randomUUID()}` : conversationKey(conversation)) : host.workDir();
  const system = systemPromptOf(messages) ?? '';
  // llm mode replaces Claude Code's system prompt even when the caller has none (an empty file);
  // agent mode adds the caller's to Claude Code's own
  const promptFile = agent && system.length === 0 ? undefined : join(host.workDir(), `system-prompt-${randomUUID()}.txt`);
  if (promptFile !== undefined) writeFileSync(promptFile, system, { mode: 0o600 });
  const args = claudeArgs({
    mode: host.settings.mode, model, persistent: false,
    ...(promptFile !== undefined ? (agent ? { appendSystemPromptFile: promptFile } : { systemPromptFile: promptFile }) : {}),
    extra: host.settings.args,
  });
  const child = new CliChild({
    command: host.settings.command, args, env: host.env, cwd,
    onLine: (line) => {
      if (line.charCodeAt(0) !== 123 /* { */) return;
      const message = objectFromLine(line);
      if (message !== undefined) job.decoder.onMessage(message);
    },
    onExit: (code, signal, error) => {
      if (promptFile !== undefined) rmSync(promptFile, { force: true });
      if (agent && conversation === undefined) rmSync(cwd, { recursive: true, force: true });
      if (job.finished) return;
      if (job.aborted || job.decoder.done) {
        job.finish();
        return;
      }
      if (host.closed) job.fail(closedError(host.provider));
      else if (error !== undefined) job.fail(spawnError(host.provider, host.settings.command, error));
      else {
        const stderr = redactText(child.stderrTail(), host.secrets);
        const how = signal !== null ? `killed by ${signal}` : `exit code ${code}`;
        job.fail(exitedError(host.provider, stderr.length > 0 ? `${how}; stderr: ${stderr.slice(-1000)}` : how));
      }
    },
  });
  job.child = child;
  child.write(prompt);
  child.endInput();
}
