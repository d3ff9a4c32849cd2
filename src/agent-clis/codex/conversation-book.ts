// Which Codex thread carries which conversation, bounded (least recently used out first). A
// conversation's record outlives its thread: when a turn fails or the caller's history no longer
// matches the thread's, the thread is dropped and the next turn starts a new one (in the same
// working directory, in agent mode).
import type { HeldHistory } from '../transcript.ts';

/** Conversations remembered at once; the oldest idle one is forgotten beyond this. */
export const MAX_CONVERSATIONS = 256;

export interface ConversationRecord {
  readonly key: string;
  /** The thread carrying it, when there is one. */
  threadId: string | undefined;
  /** The worker generation that has the thread loaded; another one must `thread/resume` it. */
  generation: number;
  /** What the thread holds of the conversation: the next request must repeat it and add to it. */
  held: HeldHistory | undefined;
  /** The thread's last turn: its late notifications must not be taken for the next turn's. */
  lastTurnId: string | undefined;
  /** A turn runs on the thread now: a second request for the conversation gets a thread of its own. */
  busy: boolean;
  /** agent mode: the conversation's working directory. */
  directory: string | undefined;
}

export class ConversationBook {
  private readonly records = new Map<string, ConversationRecord>();
  private readonly limit: number;

  constructor(limit = MAX_CONVERSATIONS) {
    this.limit = limit;
  }

  get size(): number {
    return this.records.size;
  }

  /** The record of a conversation, made fresh when unknown; marks it the most recently used. */
  touch(key: string): ConversationRecord {
    let record = this.records.get(key);
    if (record !== undefined) {
      this.records.delete(key);
    } else {
      record = { key, threadId: undefined, generation: -1, held: undefined, lastTurnId: undefined, busy: false, directory: undefined };
    }
    this.records.set(key, record);
    return record;
  }

  /** Records beyond the limit, oldest first, removed from the book (busy ones stay). */
  evict(): ConversationRecord[] {
    const evicted: ConversationRecord[] = [];
    if (this.records.size <= this.limit) return evicted;
    for (const record of this.records.values()) {
      if (this.records.size - evicted.length <= this.limit) break;
      if (record.busy) continue;
      evicted.push(record);
    }
    for (const record of evicted) this.records.delete(record.key);
    return evicted;
  }

  /** Every record, for a worker restart (their threads must be resumed). */
  /** The record of a conversation, without making it the most recent. */
  peek(key: string): ConversationRecord | undefined {
    return this.records.get(key);
  }

  values(): IterableIterator<ConversationRecord> {
    return this.records.values();
  }
}
