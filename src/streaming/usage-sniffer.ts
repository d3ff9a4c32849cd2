// Token usage read from pass-through bytes without parsing the answer: find the dialect's usage
// key (`"usage"`, `"usageMetadata"`), cut out the JSON object that follows it by brace matching,
// and parse only that. Streams are scanned frame batch by frame batch (one native indexOf when
// there is no usage in them); bodies only at their tail. Several usage objects in one answer
// (Anthropic's message_start and message_delta, Gemini's running totals) are merged field by
// field, the latest value winning.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const COLON = 0x3a;
const LF = 0x0a;

/** Keeps the last bytes of a body that is forwarded chunk by chunk (usage sits at the end). */
const TAIL_BYTES = 16 * 1024;

export class UsageSniffer {
  private readonly key: Buffer;
  /** The usage is the whole line holding the key (Ollama's final line), not the value after it. */
  private readonly wholeLine: boolean;
  /** The merged raw usage object, in the provider's own field names. */
  raw: Record<string, unknown> | undefined = undefined;
  private tail: Buffer[] = [];
  private tailSize = 0;

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
    this.tail.push(chunk);
    this.tailSize += chunk.length;
    while (this.tailSize - this.tail[0]!.length >= TAIL_BYTES) this.tailSize -= this.tail.shift()!.length;
  }

  /** The kept body tail: the last usage object in it. */
  end(): void {
    if (this.tail.length === 0) return;
    const data = this.tail.length === 1 ? this.tail[0]! : Buffer.concat(this.tail);
    this.tail = [];
    const at = data.lastIndexOf(this.key);
    if (at >= 0) this.take(data, at);
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
      while (i < data.length && (data[i] === 0x20 || data[i] === 0x09 || data[i] === 0x0d || data[i] === LF)) i++;
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

function parse(data: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(data.toString('utf8', start, end));
  } catch {
    return undefined;
  }
}

/** Index just past the `}` closing the object opened at `start`, or -1 when it is cut off. */
function objectEnd(data: Buffer, start: number): number {
  let depth = 0;
  for (let i = start; i < data.length; i++) {
    const byte = data[i];
    if (byte === QUOTE) {
      for (i++; i < data.length && data[i] !== QUOTE; i++) if (data[i] === BACKSLASH) i++;
    } else if (byte === OPEN) {
      depth++;
    } else if (byte === CLOSE) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
