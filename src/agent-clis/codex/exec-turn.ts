// The one-shot fallback: `codex exec --json -`, one process per turn, the prompt on stdin. It has
// no token deltas (the answer arrives whole in `item.completed`), no conversation of its own here
// (every turn carries the caller's history as a transcript) and no images; it is used when the
// CLI has no usable `app-server`. Events (codex-rs/exec/src/exec_events.rs): thread.started,
// turn.started, item.completed {item: agent_message | reasoning | …}, turn.completed {usage},
// turn.failed {error}, error {message}.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliChild } from '../child.ts';
import { ErrorCode, GatewayError, invalidRequest } from '../../canonical/errors.ts';
import { countFrom, objectFrom, objectFromLine, stringFrom } from '../../util/json-value.ts';
import type { CodexLaunch } from './codex-launch.ts';
import { dialogueOf, systemPromptOf } from '../transcript.ts';
import { turnInput } from './codex-input.ts';
import { exitError, secretsOf, startError } from './codex-errors.ts';
import type { CodexTurn } from './codex-turn.ts';

/** The prompt of a one-shot turn: the caller's system prompt, then the conversation. */
export function execPrompt(turn: CodexTurn): string {
  const messages = turn.turn.request.messages;
  const input = turnInput(dialogueOf(messages), 0);
  if (input.length > 1) throw invalidRequest('Codex runs one-shot here (`codex exec`), which takes no images in the prompt.', 'messages');
  const system = systemPromptOf(messages);
  const text = (input[0] as { text: string }).text;
  return system === undefined ? text : `<instructions>\n${system}\n</instructions>\n\n${text}`;
}

function failed(provider: string, message: string): GatewayError {
  const limited = /\b429\b|usage limit|rate limit/i.test(message);
  return new GatewayError(ErrorCode.upstreamStatus, `Provider '${provider}' (Codex): ${message}`, {
    status: limited ? 429 : 502, origin: 'upstream', errorClass: limited ? 'rate-limited' : 'server-error', provider,
  });
}

export class ExecTurn {
  private readonly turn: CodexTurn;
  private readonly provider: string;
  private readonly command: string;
  private readonly child: CliChild;
  private readonly secrets: readonly string[];
  private readonly onEnd: (turn: ExecTurn) => void;
  private completed = false;
  private failure: string | undefined = undefined;
  /** The JSON schema's file (`--output-schema`), when the turn asks for one. */
  private readonly schemaFile: string | undefined;

  constructor(launch: CodexLaunch, provider: string, turn: CodexTurn, cwd: string, prompt: string, onEnd: (turn: ExecTurn) => void) {
    this.turn = turn;
    this.provider = provider;
    this.command = launch.command;
    this.onEnd = onEnd;
    this.secrets = secretsOf(launch.execEnv);
    // what app-server's turn/start takes as `effort` and `outputSchema` (src/agent-clis/parameters.ts)
    const request = turn.turn.request;
    const carried: string[] = [];
    // a value of the canonical effort enum, written as a TOML string
    if (request.reasoning?.effort !== undefined) carried.push('-c', `model_reasoning_effort=${JSON.stringify(request.reasoning.effort)}`);
    if (request.responseFormat?.type === 'json-schema') {
      mkdirSync(launch.schemasDirectory, { recursive: true, mode: 0o700 });
      this.schemaFile = join(launch.schemasDirectory, `${randomUUID()}.json`);
      writeFileSync(this.schemaFile, JSON.stringify(request.responseFormat.schema), { mode: 0o600 });
      carried.push('--output-schema', this.schemaFile);
    } else {
      this.schemaFile = undefined;
    }
    this.child = new CliChild({
      command: launch.command,
      args: [...launch.execArgs, ...carried, '--model', turn.turn.model, '--cd', cwd, '-'],
      env: launch.execEnv,
      cwd,
      onLine: (line) => this.onLine(line),
      onExit: (code, signal, error) => this.onExit(code, signal, error),
    });
    this.child.write(prompt);
    this.child.endInput();
  }

  /** Ends the process group (the caller left, or the provider closes). */
  kill(): Promise<void> {
    return this.child.kill();
  }

  private onLine(line: string): void {
    const fields = objectFromLine(line);
    switch (stringFrom(fields?.type)) {
      case 'item.completed': {
        const item = objectFrom(fields!.item);
        const text = stringFrom(item?.text) ?? '';
        const id = stringFrom(item?.id) ?? '';
        if (item?.type === 'agent_message') this.turn.text(id, text);
        else if (item?.type === 'reasoning') this.turn.reasoning(id, text);
        break;
      }
      case 'turn.completed': {
        const usage = objectFrom(fields!.usage);
        if (usage !== undefined) {
          this.turn.addUsage({
            inputTokens: countFrom(usage.input_tokens), outputTokens: countFrom(usage.output_tokens),
            cachedInputTokens: countFrom(usage.cached_input_tokens), reasoningOutputTokens: countFrom(usage.reasoning_output_tokens),
          });
        }
        this.completed = true;
        break;
      }
      case 'turn.failed':
        this.failure = stringFrom(objectFrom(fields!.error)?.message) ?? this.failure ?? 'the turn failed';
        break;
      case 'error':
        this.failure = stringFrom(fields!.message) ?? this.failure;
        break;
      default:
        break;
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    if (this.schemaFile !== undefined) rmSync(this.schemaFile, { force: true });
    if (error !== undefined) this.turn.fail(startError(this.provider, this.command, error));
    else if (this.completed && code === 0) this.turn.finish();
    else if (this.failure !== undefined) this.turn.fail(failed(this.provider, this.failure));
    else this.turn.fail(exitError(this.provider, code, signal, this.child.stderrTail(), this.secrets));
    this.onEnd(this);
  }
}
