// Built-in plugin `content-guard` (issue #18): deny-lists of words (case-insensitive, whole
// words) and regular expressions, on the prompt (refused with 400) and on the answer. A streamed
// answer's text is held back in a small window so that no text that could still become part of
// a match is sent: a delta is passed on only up to the last `hold_back_chars` characters, the rest
// waits for the next delta or the block's end. On a match the stream ends with an error event and
// nothing after it is sent. Every list is compiled at setup; a delta costs one scan of the window
// (the held text and as much sent text before it) per list.
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCode, type ErrorInfo } from '../../canonical/errors.ts';
import type { CanonicalRequest, CanonicalResponse, PluginContext, PluginDefinition, PluginInstance, StreamPart } from '../api.ts';
import { visitPromptText } from './prompt-text.ts';

/** Every refusal of content-guard, prompt or answer, streamed or not. */
export const CONTENT_BLOCKED_CODE = ErrorCode.pluginContentBlocked;
const DEFAULT_HOLD_BACK_CHARS = 64;

export const ContentGuardConfigSchema = Type.Object({
  words: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Words and phrases to deny, matched case-insensitively as whole words (`ass` does not match `class`); a space in a phrase matches any one whitespace character.' })),
  patterns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Regular expressions to deny (JavaScript syntax, case-insensitive, Unicode mode; `(?-i:…)` makes a part case-sensitive). A pattern that matches the empty text is refused at load.' })),
  input: Type.Optional(Type.Boolean({ default: true, description: 'Check the prompt (every message\'s text, tool calls and results): a match refuses the request with 400.' })),
  output: Type.Optional(Type.Boolean({ default: true, description: 'Check the answer\'s text: a non-streamed answer that matches is replaced by a 400 error; a stream ends with an error event before the matching text. Turning it on makes the route leave byte-for-byte pass-through for the canonical view.' })),
  hold_back_chars: Type.Optional(Type.Integer({ minimum: 1, maximum: 65536, default: DEFAULT_HOLD_BACK_CHARS, description: 'How many characters of a streamed answer are held back until the text after them is known; raised to the longest word if shorter. A pattern match longer than this may be partly sent before it is caught.' })),
}, { additionalProperties: false, description: 'Deny-lists of words and patterns on the prompt and the answer, streamed answers included.' });

export type ContentGuardConfig = Static<typeof ContentGuardConfigSchema>;

/** Where a match was found: `words` or `patterns[i]`, never the text itself. */
type ListName = string;

/** The compiled deny-lists. */
export class DenyList {
  private readonly lists: readonly RegExp[];
  private readonly names: readonly ListName[];
  /** The longest word, in characters: the least hold-back that keeps a word from being sent in part. */
  readonly longestWord: number;
  /** Set by `find` with `final` false: where the earliest match that the next text could still change starts (-1: none). */
  pendingFrom = -1;
  /** The list of that pending match. */
  pendingList: ListName | undefined;

  constructor(words: readonly string[], patterns: readonly string[]) {
    const lists: RegExp[] = [];
    const names: ListName[] = [];
    if (words.length > 0) {
      const alternatives = words.map((word) => word.trim().replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&').replace(/\s/g, '\\s'));
      lists.push(new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}_])`, 'giu'));
      names.push('words');
    }
    patterns.forEach((source, i) => {
      let pattern: RegExp;
      try {
        pattern = new RegExp(source, 'giu');
      } catch (error) {
        throw new Error(`content-guard: patterns[${i}] is not a valid regular expression: ${(error as Error).message}`);
      }
      if (new RegExp(source, 'iu').test('')) throw new Error(`content-guard: patterns[${i}] matches the empty text, so it would match everything`);
      lists.push(pattern);
      names.push(`patterns[${i}]`);
    });
    this.lists = lists;
    this.names = names;
    this.longestWord = words.reduce((longest, word) => Math.max(longest, word.trim().length), 0);
  }

  get empty(): boolean {
    return this.lists.length === 0;
  }

  /**
   * The list with a match in `text`, or undefined. Unless `final`, a match that ends where the text
   * ends is left pending (the next text may extend the word, `bananas`, or change a lookahead) and
   * where the earliest such match starts is kept in `pendingFrom`.
   */
  find(text: string, final: boolean): ListName | undefined {
    this.pendingFrom = -1;
    this.pendingList = undefined;
    for (let i = 0; i < this.lists.length; i++) {
      const pattern = this.lists[i]!;
      pattern.lastIndex = 0;
      for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
        const end = match.index + match[0].length;
        if (match[0].length === 0) {
          pattern.lastIndex = end + 1;
        } else if (end === text.length && !final) {
          if (this.pendingFrom < 0 || match.index < this.pendingFrom) {
            this.pendingFrom = match.index;
            this.pendingList = this.names[i];
          }
          pattern.lastIndex = match.index + 1; // a shorter match inside it may end earlier
        } else {
          return this.names[i];
        }
      }
    }
    return undefined;
  }
}

/** The held-back text of one streamed answer (kept in `ctx.state`). */
class HeldText {
  /** Text received and not yet sent. */
  held = '';
  /** The last characters sent, so a match may start in them (the look-behind of a word's boundary). */
  sent = '';
  /** The open text block's index. */
  index = 0;
  /** The stream was stopped: nothing more is sent. */
  stopped = false;
}

const STATE_KEY = 'contentGuard';

export const contentGuard: PluginDefinition<ContentGuardConfig> = {
  name: 'content-guard',
  // a guardrail that fails must not let through what it guards against
  onError: 'closed',
  configSchema: ContentGuardConfigSchema,
  setup(config, host): PluginInstance<ContentGuardConfig> {
    const denyList = new DenyList(config.words ?? [], config.patterns ?? []);
    if (denyList.empty) throw new Error('content-guard: `words` or `patterns` must list at least one entry');
    const configured = config.hold_back_chars ?? DEFAULT_HOLD_BACK_CHARS;
    const holdBack = Math.max(configured, denyList.longestWord);
    if (holdBack > configured) host.log(`content-guard: hold_back_chars raised from ${configured} to ${holdBack}, the longest word`);
    const instance: PluginInstance<ContentGuardConfig> = {};
    if (config.input ?? true) {
      instance.onRequest = (ctx, request: CanonicalRequest) => {
        visitPromptText(request, (text) => {
          const list = denyList.find(text, true);
          if (list !== undefined) throw ctx.reject(400, `The request was refused by content-guard: its prompt matches the deny-list \`${list}\`.`, CONTENT_BLOCKED_CODE);
          return text;
        });
      };
    }
    if (config.output ?? true) {
      instance.onResponse = (ctx, response: CanonicalResponse) => {
        for (const part of response.content) {
          if (part.type !== 'text') continue;
          const list = denyList.find(part.text, true);
          if (list !== undefined) {
            ctx.log('content-guard: answer blocked', { list });
            throw ctx.reject(400, blockedMessage(list), CONTENT_BLOCKED_CODE);
          }
        }
      };
      instance.onStreamEvent = (ctx, part) => onStreamEvent(ctx, part, denyList, holdBack);
    }
    return instance;
  },
};

function onStreamEvent(ctx: PluginContext, part: StreamPart, denyList: DenyList, holdBack: number): StreamPart | readonly StreamPart[] | null | undefined {
  const state = (ctx.state[STATE_KEY] ??= new HeldText()) as HeldText;
  if (state.stopped) return null;
  switch (part.type) {
    case 'text-start':
      state.held = '';
      state.sent = '';
      state.index = part.index;
      return part;
    case 'text-delta': {
      state.held += part.delta;
      const window = state.sent + state.held;
      const list = denyList.find(window, false);
      if (list !== undefined) return stop(ctx, state, list);
      // send all but the last holdBack characters, and nothing from a pending match on
      let release = state.held.length - holdBack;
      if (denyList.pendingFrom >= 0) release = Math.min(release, denyList.pendingFrom - state.sent.length);
      // never split a surrogate pair between two deltas
      if (release > 0 && isHighSurrogate(state.held.charCodeAt(release - 1))) release--;
      if (release <= 0) {
        // a pattern match still growing past twice the window (`\d+` over a long number) counts
        // as a match, rather than holding the answer back without bound
        if (state.held.length > 2 * holdBack && denyList.pendingList !== undefined) return stop(ctx, state, denyList.pendingList);
        return null;
      }
      const delta = state.held.slice(0, release);
      state.held = state.held.slice(release);
      state.sent = (state.sent + delta).slice(-holdBack);
      part.delta = delta;
      return part;
    }
    case 'text-end':
    case 'response-end':
    case 'error': {
      // a stream that ends without closing its text block still gets its held text checked
      if (state.held === '') return part;
      const list = denyList.find(state.sent + state.held, true);
      if (list !== undefined) return stop(ctx, state, list);
      const rest: StreamPart = { type: 'text-delta', index: state.index, delta: state.held };
      state.held = '';
      state.sent = '';
      return [rest, part];
    }
    default:
      return part;
  }
}

function stop(ctx: PluginContext, state: HeldText, list: ListName): StreamPart {
  state.stopped = true;
  state.held = '';
  ctx.log('content-guard: streamed answer blocked', { list });
  const error: ErrorInfo = {
    code: CONTENT_BLOCKED_CODE,
    status: 400,
    message: blockedMessage(list),
    origin: 'gateway',
    errorClass: 'client-error',
    retryable: false,
    fallbackAllowed: false,
  };
  return { type: 'error', error };
}

function blockedMessage(list: ListName): string {
  return `The answer was stopped by content-guard: it matches the deny-list \`${list}\`.`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
