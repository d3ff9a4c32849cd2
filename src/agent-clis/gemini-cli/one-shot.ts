// The fallback when ACP cannot be used: one `gemini --model <m> --output-format stream-json`
// process per turn, the prompt written to its stdin (the CLI runs headless when stdin is piped),
// its JSON lines read as they come:
//   {"type":"message","role":"assistant","content":"<delta>","delta":true}
//   {"type":"result","status":"success"|"error","error":{"type","message"},"stats":{input_tokens,output_tokens,…}}
// A non-zero exit without a result, or a result with status "error", is an error.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GatewayError } from '../../canonical/errors.ts';
import { countFrom, isObject, objectFrom, objectFromLine, stringFrom } from '../../util/json-value.ts';
import { redactText } from '../../util/redact.ts';
import { CliChild } from '../child.ts';
import type { AgentCliSettings, AgentTurn } from '../driver.ts';
import { cliStopped, statusError } from './errors.ts';
import type { AcpContentBlock } from './prompt.ts';
import { cliEnv, oneShotArgs, secretsOf } from './settings.ts';
import type { TurnOutput } from './turn-output.ts';

/** `[API Error: <message or JSON body>]`, as the CLI words an upstream failure in its result. */
const API_ERROR = /^\[API Error: ([\s\S]*)\]/;
/** The status in the error the CLI dumps to stderr (`status: 429`). */
const STDERR_STATUS = /\bstatus: (\d{3})\b/g;

let nextRunId = 1;

export interface OneShotRun {
  /** Resolves when the process has exited and its files are gone. */
  readonly done: Promise<void>;
  kill(): Promise<void>;
}

/**
 * Runs one turn in a process of its own. `systemPrompt` (llm mode) goes to a file of its own
 * that GEMINI_SYSTEM_MD names, removed when the process ends.
 */
export function runOneShot(settings: AgentCliSettings, turn: AgentTurn, blocks: AcpContentBlock[], systemPrompt: string | undefined, output: TurnOutput): OneShotRun {
  return new OneShot(settings, turn, blocks, systemPrompt, output);
}

class OneShot implements OneShotRun {
  readonly done: Promise<void>;
  private readonly settings: AgentCliSettings;
  private readonly output: TurnOutput;
  private readonly secrets: string[];
  private child: CliChild | undefined = undefined;
  private killed = false;
  private resultSeen = false;
  /** The result event's error message. */
  private resultError: unknown = undefined;

  constructor(settings: AgentCliSettings, turn: AgentTurn, blocks: AcpContentBlock[], systemPrompt: string | undefined, output: TurnOutput) {
    this.settings = settings;
    this.output = output;
    this.secrets = secretsOf(settings.env);
    if (blocks.some((block) => block.type !== 'text')) {
      throw cliStopped(settings.name, 'images and audio need the ACP protocol, which is not available');
    }
    const systemFile = systemPrompt !== undefined ? join(settings.workDir, '.gemini', `system-one-shot-${process.pid}-${nextRunId++}.md`) : undefined;
    const onAbort = (): void => {
      output.detach();
      void this.kill();
    };
    turn.signal.addEventListener('abort', onAbort, { once: true });
    this.done = this.start(turn, blocks, systemPrompt, systemFile)
      .catch((failure: unknown) => output.fail(cliStopped(settings.name, redactText((failure as Error).message, this.secrets))))
      .finally(async () => {
        turn.signal.removeEventListener('abort', onAbort);
        if (systemFile !== undefined) await rm(systemFile, { force: true });
      });
  }

  async kill(): Promise<void> {
    this.killed = true;
    if (this.child !== undefined) await this.child.kill();
  }

  private async start(turn: AgentTurn, blocks: AcpContentBlock[], systemPrompt: string | undefined, systemFile: string | undefined): Promise<void> {
    if (systemFile !== undefined) await writeFile(systemFile, systemPrompt!);
    if (this.killed || turn.signal.aborted) return;
    let prompt = '';
    for (const block of blocks) {
      if (block.type === 'text') prompt += prompt.length === 0 ? block.text : `\n\n${block.text}`;
    }
    await new Promise<void>((resolve) => {
      const child = new CliChild({
        command: this.settings.command,
        args: oneShotArgs(this.settings, turn.model),
        env: cliEnv(this.settings, systemFile),
        cwd: this.settings.workDir,
        onLine: (line) => this.onLine(line),
        onExit: (code, signal, error) => {
          this.onExit(child, code, signal, error);
          resolve();
        },
      });
      this.child = child;
      child.write(prompt);
      child.endInput();
    });
  }

  private onLine(line: string): void {
    const event = objectFromLine(line);
    if (event === undefined) return;
    if (event.type === 'message' && event.role === 'assistant') {
      this.output.text(stringFrom(event.content) ?? '');
      return;
    }
    if (event.type !== 'result') return;
    this.resultSeen = true;
    if (event.status !== 'success') {
      this.resultError = objectFrom(event.error)?.message;
      return;
    }
    const stats = objectFrom(event.stats);
    const inputTokens = countFrom(stats?.input_tokens);
    const outputTokens = countFrom(stats?.output_tokens);
    if (this.output.answer.length === 0) this.output.fail(cliStopped(this.settings.name, 'the model gave no answer'));
    else this.output.end('stop', 'success', inputTokens !== undefined && outputTokens !== undefined ? { inputTokens, outputTokens } : undefined);
  }

  private onExit(child: CliChild, code: number | null, signal: NodeJS.Signals | null, error: Error | undefined): void {
    if (this.output.finished) return;
    const name = this.settings.name;
    if (error !== undefined) {
      this.output.fail(cliStopped(name, `could not start ${this.settings.command}: ${error.message}`));
    } else if (this.resultSeen) {
      this.output.fail(failureOf(this.resultError, child.stderrTail(), name, this.secrets));
    } else {
      const detail = `the CLI exited${code !== null ? ` with code ${code}` : ''}${signal !== null ? ` (${signal})` : ''}: ${child.stderrTail().slice(-1000)}`;
      this.output.fail(cliStopped(name, redactText(detail, this.secrets)));
    }
  }
}

/** A result with status "error": the upstream's status when the CLI let it show. */
function failureOf(message: unknown, stderrTail: string, provider: string, secrets: readonly string[]): GatewayError {
  let text = typeof message === 'string' ? message : 'the turn failed';
  const apiError = API_ERROR.exec(text);
  let status: number | undefined;
  if (apiError !== null) {
    text = apiError[1]!;
    try {
      const body: unknown = JSON.parse(text);
      const error = isObject(body) ? objectFrom(body.error) : undefined;
      status = countFrom(error?.code);
      text = stringFrom(error?.message) ?? text;
    } catch {
      // plain text
    }
  }
  if (status === undefined) {
    for (const match of stderrTail.matchAll(STDERR_STATUS)) status = Number(match[1]);
  }
  text = redactText(text, secrets);
  return status !== undefined && status >= 400 && status <= 599 ? statusError(status, text, provider) : cliStopped(provider, text);
}
