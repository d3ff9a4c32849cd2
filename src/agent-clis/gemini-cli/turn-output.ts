// The canonical stream of one turn, kept to its contract whatever order the CLI's updates come
// in: `response-start` before the first content, one block open at a time (text and reasoning
// alternate as the CLI switches), exactly one terminal part, nothing after it, and nothing at all
// once the caller has gone.
import type { PartSink } from '../../canonical/adapters.ts';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { FinishReason } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';

type BlockKind = 'text' | 'reasoning';

export class TurnOutput {
  private readonly sink: PartSink;
  private readonly id: string;
  private readonly model: string;
  private started = false;
  private ended = false;
  private errored = false;
  private open: BlockKind | undefined = undefined;
  private index = -1;
  /** The answer's text so far (an answer with none is an error). */
  answer = '';

  constructor(sink: PartSink, id: string, model: string) {
    this.sink = sink;
    this.id = id;
    this.model = model;
  }

  get finished(): boolean {
    return this.ended;
  }

  /** The turn ended with an error part. */
  get failed(): boolean {
    return this.errored;
  }

  /** Whether any content reached the caller (after it, an error is an event in the stream). */
  get hasContent(): boolean {
    return this.index >= 0;
  }

  text(delta: string): void {
    if (this.ended || delta.length === 0) return;
    this.block('text');
    this.answer += delta;
    this.sink.onPart({ type: 'text-delta', index: this.index, delta });
  }

  reasoning(delta: string): void {
    if (this.ended || delta.length === 0) return;
    this.block('reasoning');
    this.sink.onPart({ type: 'reasoning-delta', index: this.index, delta });
  }

  end(finishReason: FinishReason, rawFinishReason: string, usage: Usage | undefined): void {
    if (this.ended) return;
    this.start();
    this.close();
    this.ended = true;
    this.sink.onPart({ type: 'response-end', finishReason, rawFinishReason, ...(usage !== undefined ? { usage } : {}) });
  }

  fail(error: ErrorInfo): void {
    if (this.ended) return;
    this.close();
    this.ended = true;
    this.errored = true;
    this.sink.onPart({ type: 'error', error });
  }

  /** The caller left: no part goes out any more. */
  detach(): void {
    this.ended = true;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.sink.onPart({ type: 'response-start', id: this.id, model: this.model, created: Math.floor(Date.now() / 1000) });
  }

  private block(kind: BlockKind): void {
    if (this.open === kind) return;
    this.start();
    this.close();
    this.open = kind;
    this.index++;
    this.sink.onPart(kind === 'text' ? { type: 'text-start', index: this.index } : { type: 'reasoning-start', index: this.index });
  }

  private close(): void {
    const kind = this.open;
    if (kind === undefined) return;
    this.open = undefined;
    this.sink.onPart(kind === 'text' ? { type: 'text-end', index: this.index } : { type: 'reasoning-end', index: this.index });
  }
}
