// The canonical block lifecycle every provider stream decoder synthesises: at most one block is open
// at a time, blocks are numbered in the order they open, and opening one ends the one before with
// its `-end` part. Each decoder only says which kind of block a piece of the answer belongs to.
import type { PartSink } from '../../canonical/adapters.ts';

export type BlockKind = 'text' | 'reasoning' | 'tool';

export class ContentBlocks {
  /**
   * The kind of the open block: `none` between blocks, `skipped` inside one the caller is not
   * shown (its deltas are dropped). Changed only through the methods below.
   */
  open: BlockKind | 'none' | 'skipped' = 'none';
  /** The canonical index of the open block, or of the last one (-1 before the first). */
  index = -1;

  /** The index the next block will take (for an id made up from it). */
  get nextIndex(): number {
    return this.index + 1;
  }

  /** Makes a text or reasoning block the open one, starting it unless one of that kind is open; its index. */
  ensure(sink: PartSink, kind: 'text' | 'reasoning'): number {
    if (this.open === kind) return this.index;
    return kind === 'text' ? this.startText(sink) : this.startReasoning(sink);
  }

  /** Ends the open block and starts a text block; its index. */
  startText(sink: PartSink): number {
    this.close(sink);
    this.open = 'text';
    const index = ++this.index;
    sink.onPart({ type: 'text-start', index });
    return index;
  }

  /** Ends the open block and starts a reasoning block, redacted when `redactedData` is given; its index. */
  startReasoning(sink: PartSink, redactedData?: string): number {
    this.close(sink);
    this.open = 'reasoning';
    const index = ++this.index;
    sink.onPart(redactedData === undefined ? { type: 'reasoning-start', index } : { type: 'reasoning-start', index, redactedData });
    return index;
  }

  /** Ends the open block and starts a tool call; its index. */
  startTool(sink: PartSink, id: string, name: string): number {
    this.close(sink);
    this.open = 'tool';
    const index = ++this.index;
    sink.onPart({ type: 'tool-call-start', index, id, name });
    return index;
  }

  /** Ends the open block and numbers one sent whole, in a single part (a hosted tool's call or result); its index. */
  whole(sink: PartSink): number {
    this.close(sink);
    return ++this.index;
  }

  /** Ends the open block and enters one the caller is not shown (it takes no index). */
  skip(sink: PartSink): void {
    this.close(sink);
    this.open = 'skipped';
  }

  /** Ends the open block, if any. */
  close(sink: PartSink): void {
    const index = this.index;
    switch (this.open) {
      case 'text': sink.onPart({ type: 'text-end', index }); break;
      case 'reasoning': sink.onPart({ type: 'reasoning-end', index }); break;
      case 'tool': sink.onPart({ type: 'tool-call-end', index }); break;
      case 'skipped':
      case 'none': break;
    }
    this.open = 'none';
  }
}
