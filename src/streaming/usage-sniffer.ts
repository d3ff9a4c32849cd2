// Token usage read from pass-through bytes without parsing the answer: find the dialect's usage
// key (`"usage"`, `"usageMetadata"`), cut out the JSON object that follows it by brace matching,
// and parse only that. Streams are scanned frame batch by frame batch (one native indexOf when
// there is no usage in them); bodies at their tail, and at their head when the tail has no usage
// key (rerank answers put `usage` before a `results` list that may run long). Several usage objects in one answer
// (Anthropic's message_start and message_delta, Gemini's running totals) are merged field by
// field, the latest value winning.

import { isJsonSpace, objectEnd } from '../util/json-scan.ts';

const OPEN = 0x7b;
const COLON = 0x3a;
const LF = 0x0a;

/** Keeps the last bytes of a body that is forwarded chunk by chunk (usage sits at the end)… */
const TAIL_BYTES = 16 * 1024;
/** …and its first bytes, for the answers that give usage first (vLLM's and Jina's rerank). */
const HEAD_BYTES = 16 * 1024;

export class UsageSniffer {
  private readonly key: Buffer;
  /** The usage is the whole line holding the key (Ollama's final line), not the value after it. */
  private readonly wholeLine: boolean;
  /** The merged raw usage object, in the provider's own field names. */
  raw: Record<string, unknown> | undefined = undefined;
  private tail: Buffer[] = [];
  private tailSize = 0;
  private head: Buffer[] = [];
  private headSize = 0;
  /** Bytes between the head and the tail were let go: the head is not all in the tail. */
  private dropped = false;

  constructor(key: string, wholeLine = false) {
    this.key = keyBytes(key);
    this.wholeLine = wholeLine;
  }

  /** Whole frames (SSE events or NDJSON lines) of a stream. */
  scan(data: Buffer): void {
    for (let at = data.indexOf(this.key); at >= 0; at = data.indexOf(this.key, at + this.key.length)) {
      this.take(data, at);
    }
  }

  /** A piece of a non-streamed body; only the tail is kept, and read at `end`. */
  keep(chunk: Buffer): void {
    if (this.headSize < HEAD_BYTES) {
      this.head.push(chunk);
      this.headSize += chunk.length;
    }
    this.tail.push(chunk);
    this.tailSize += chunk.length;
    while (this.tailSize - this.tail[0]!.length >= TAIL_BYTES) {
      this.tailSize -= this.tail.shift()!.length;
      this.dropped = true;
    }
  }

  /** The kept body: the last usage object of its tail, else (no usage key there) the first of its head. */
  end(): void {
    if (this.tail.length === 0) return;
    const data = joined(this.tail);
    const head = this.dropped ? joined(this.head) : undefined;
    this.tail = [];
    this.head = [];
    let at = data.lastIndexOf(this.key);
    if (at >= 0) this.take(data, at);
    else if (head !== undefined && (at = head.indexOf(this.key)) >= 0) this.take(head, at);
  }

  private take(data: Buffer, at: number): void {
    let parsed: unknown;
    if (this.wholeLine) {
      const start = data.lastIndexOf(LF, at) + 1;
      let end = data.indexOf(LF, at);
      if (end < 0) end = data.length;
      parsed = parse(data, start, end);
    } else {
      let i = at + this.key.length;
      while (i < data.length && data[i] !== COLON) i++;
      i++;
      while (i < data.length && isJsonSpace(data[i])) i++;
      if (data[i] !== OPEN) return; // "usage": null, or a key inside some text
      const end = objectEnd(data, i);
      if (end < 0) return;
      parsed = parse(data, i, end);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return;
    this.raw = this.raw === undefined ? (parsed as Record<string, unknown>) : { ...this.raw, ...(parsed as Record<string, unknown>) };
  }
}

/** The keys' bytes, made once per key (a handful of dialects), not once per answer. */
const KEY_BYTES = new Map<string, Buffer>();

function keyBytes(key: string): Buffer {
  let bytes = KEY_BYTES.get(key);
  if (bytes === undefined) KEY_BYTES.set(key, (bytes = Buffer.from(key)));
  return bytes;
}

function joined(pieces: Buffer[]): Buffer {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

function parse(data: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(data.toString('utf8', start, end));
  } catch {
    return undefined;
  }
}
