// Canonical stream parts → Ollama's NDJSON stream: one JSON object per line, `done: false` until
// a final object with `done: true`, the done reason and the counts.
//
// Text and thinking go out delta by delta. Ollama sends a tool call whole (its arguments are an
// object, not a string), so a call's argument deltas are held until the call's end part and the
// call is then written as one line; nothing else waits for it.
import type { StreamEncoder } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import type { StreamPart } from '../../canonical/stream.ts';
import type { Usage } from '../../canonical/usage.ts';
import { ollamaDoneReason, toolArguments } from './encode-response.ts';
import { ollamaErrorBody } from './encode-error.ts';

function nanoseconds(milliseconds: number): number {
  return Math.max(1, Math.round(milliseconds * 1e6));
}

export class OllamaStreamEncoder implements StreamEncoder {
  readonly contentType = 'application/x-ndjson';
  /** `/api/generate` streams `response` strings instead of `message` objects, and no tool calls. */
  private readonly generate: boolean;
  /** `{"model":"…","created_at":"` — the start of every line. */
  private head: string;
  private readonly startedAt = performance.now();
  private firstTokenAt = 0;
  private usage: Usage | undefined = undefined;
  private toolName = '';
  private toolArgs = '';

  constructor(request: CanonicalRequest, generate: boolean) {
    this.generate = generate;
    this.head = `{"model":${JSON.stringify(request.model)},"created_at":"`;
  }

  private line(content: string, thinking: string | undefined): string {
    const think = thinking === undefined ? '' : `,"thinking":${JSON.stringify(thinking)}`;
    const body = this.generate
      ? `"response":${JSON.stringify(content)}${think}`
      : `"message":{"role":"assistant","content":${JSON.stringify(content)}${think}}`;
    return `${this.head}${new Date().toISOString()}",${body},"done":false}\n`;
  }

  private token(): void {
    if (this.firstTokenAt === 0) this.firstTokenAt = performance.now();
  }

  encode(part: StreamPart): string {
    switch (part.type) {
      case 'response-start':
        if (part.model.length > 0) this.head = `{"model":${JSON.stringify(part.model)},"created_at":"`;
        // an empty first line: the client sees the answer begin as soon as the upstream commits
        return this.line('', undefined);
      case 'text-delta':
        if (part.delta.length === 0) return '';
        this.token();
        return this.line(part.delta, undefined);
      case 'reasoning-delta':
        if (part.delta.length === 0) return '';
        this.token();
        return this.line('', part.delta);
      case 'tool-call-start':
        this.token();
        this.toolName = part.name;
        this.toolArgs = '';
        return '';
      case 'tool-call-delta':
        this.toolArgs += part.argumentsDelta;
        return '';
      case 'tool-call-end':
        return this.toolCall();
      case 'usage':
        this.usage = { ...this.usage, ...part.usage };
        return '';
      case 'response-end':
        return this.final(ollamaDoneReason(part.finishReason), part.usage !== undefined ? { ...this.usage, ...part.usage } : this.usage);
      case 'error':
        return this.encodeError(part.error);
      case 'text-start':
      case 'text-end':
      case 'text-citation':
      case 'reasoning-start':
      case 'reasoning-signature':
      case 'reasoning-end':
      case 'hosted-tool-call':
      case 'hosted-tool-result':
        // Ollama has no block boundaries, thinking signatures, redacted thinking, citations or hosted tools
        return '';
    }
  }

  private toolCall(): string {
    if (this.generate) return '';
    const call = { function: { name: this.toolName, arguments: toolArguments(this.toolArgs) } };
    this.toolArgs = '';
    return `${this.head}${new Date().toISOString()}","message":{"role":"assistant","content":"","tool_calls":[${JSON.stringify(call)}]},"done":false}\n`;
  }

  private final(doneReason: string, usage: Usage | undefined): string {
    const now = performance.now();
    const first = this.firstTokenAt === 0 ? now : this.firstTokenAt;
    const body = this.generate ? '"response":"","done":true' : '"message":{"role":"assistant","content":""},"done_reason":"' + doneReason + '","done":true';
    const reason = this.generate ? `,"done_reason":"${doneReason}"` : '';
    return `${this.head}${new Date().toISOString()}",${body}${reason},"total_duration":${nanoseconds(now - this.startedAt)},`
      + `"prompt_eval_count":${usage?.inputTokens ?? 0},"prompt_eval_duration":${nanoseconds(first - this.startedAt)},`
      + `"eval_count":${usage?.outputTokens ?? 0},"eval_duration":${nanoseconds(now - first)}}\n`;
  }

  encodeError(error: ErrorInfo): string {
    return `${ollamaErrorBody(error)}\n`;
  }
}
