// Conversation ids for agent CLIs, whose own sessions (Claude's `--session-id`/`--resume`, a Codex
// thread, an opencode session) keep the history so that a later turn sends only what is new.
//
// A conversation is named by the session the request names (session headers, `prompt_cache_key`,
// `metadata.user_id`), if any, together with its system prompt and first user message — so one
// client session's side requests (a title, a summary) are conversations of their own. The id a
// driver gets is a UUID derived from that key, a per-process salt and a generation:
//
// - a request whose messages begin with every message of the conversation's last answered turn
//   continues it: same id;
// - anything else with the same key (a regenerated answer, an edited message, another chat that
//   opens with the same words) starts a new generation: a new id, which the driver has never seen,
//   so it flattens the history into a fresh session;
// - a turn that failed or was cut short also ends its generation: the CLI's session may hold half
//   a turn;
// - a turn of a conversation that has one running gets no id (a one-off, history flattened), so
//   one CLI session never runs two turns at once.
//
// So a driver may trust a known id: the request's messages start with those of its previous turn
// on that id, then that turn's answer, then what is new. Bounded: least recently used keys go first.
import { createHash, randomBytes } from 'node:crypto';
import type { CanonicalRequest, Message } from '../canonical/request.ts';

const DEFAULT_LIMIT = 4096;

interface Entry {
  generation: number;
  /** Messages of the last turn answered under this generation (0: none yet). */
  messages: number;
  /** Digest of those messages. */
  prefix: string;
  busy: boolean;
}

export type TurnOutcome = 'done' | 'failed' | 'unused';

/** One turn's claim on its conversation; `settle` it exactly once. */
export class ConversationTurn {
  /** The id for the driver; undefined for a one-off turn. */
  readonly id: string | undefined;
  private readonly entry: Entry | undefined;
  private readonly messages: number;
  private readonly digest: string;
  private settled = false;

  constructor(id: string | undefined, entry: Entry | undefined, messages: number, digest: string) {
    this.id = id;
    this.entry = entry;
    this.messages = messages;
    this.digest = digest;
  }

  settle(outcome: TurnOutcome): void {
    if (this.settled) return;
    this.settled = true;
    const entry = this.entry;
    if (entry === undefined) return;
    entry.busy = false;
    if (outcome === 'done') {
      entry.messages = this.messages;
      entry.prefix = this.digest;
    } else if (outcome === 'failed') {
      entry.generation++;
      entry.messages = 0;
      entry.prefix = '';
    }
  }
}

export class ConversationTracker {
  private readonly entries = new Map<string, Entry>();
  private readonly salt = randomBytes(16);
  private readonly limit: number;

  constructor(limit = DEFAULT_LIMIT) {
    this.limit = limit;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The conversation of a turn: its key from `session` and the opening messages, its id by the rules above. */
  begin(request: CanonicalRequest, session: string | undefined): ConversationTurn {
    const messages = request.messages;
    const digests = messages.map(messageDigest);
    const key = conversationKey(messages, digests, session);
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { generation: 0, messages: 0, prefix: '', busy: false };
      if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    } else {
      this.entries.delete(key); // re-inserted below: most recently used last
    }
    this.entries.set(key, entry);
    const whole = prefixDigest(digests, digests.length);
    if (entry.busy) return new ConversationTurn(undefined, undefined, messages.length, whole);
    const continues = messages.length > entry.messages && prefixDigest(digests, entry.messages) === entry.prefix;
    if (!continues) {
      entry.generation++;
      entry.messages = 0;
      entry.prefix = '';
    }
    entry.busy = true;
    return new ConversationTurn(this.idOf(key, entry.generation), entry, messages.length, whole);
  }

  /** A UUID (version 4 layout) from the key and generation, unguessable without this process's salt. */
  private idOf(key: string, generation: number): string {
    const bytes = createHash('sha256').update(this.salt).update(key).update(String(generation)).digest();
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.subarray(0, 16).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }
}

function messageDigest(message: Message): string {
  return createHash('sha256').update(JSON.stringify(message)).digest('base64');
}

function prefixDigest(digests: readonly string[], count: number): string {
  if (count === 0) return '';
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(digests[i]!);
  return hash.digest('base64');
}

/** The session (if any), the system messages before the first user message, and that message. */
function conversationKey(messages: readonly Message[], digests: readonly string[], session: string | undefined): string {
  const hash = createHash('sha256').update(session ?? '').update('\u0000');
  for (let i = 0; i < messages.length; i++) {
    hash.update(digests[i]!);
    if (messages[i]!.role === 'user') break;
  }
  return hash.digest('base64');
}
