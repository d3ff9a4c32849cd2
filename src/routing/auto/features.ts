// The complexity features `strategy: auto` scores a request on (issue #19): what the request
// offers (turns, tools, images, size) and what its latest user turn and system prompt say (code,
// math, proof vocabulary, multi-step instructions, domain terms, questions). Pure and bounded: the
// request is walked once part by part (never character by character), and only a capped window of
// the user turn and of the system prompt is scanned, so a 1 MB conversation costs what a 6 KB
// one does. Every pattern is compiled here, at module load.
import type { CanonicalRequest, ContentPart } from '../../canonical/request.ts';
import { isWordCode, TermMatch, TermTrie } from './term-trie.ts';
import { VOCABULARY, type VocabularyCategory } from './vocabulary.ts';

/** What the auto router decides on: the request reduced to the facts rules and the score read. */
export interface AutoInput {
  /** The system prompt's text (every system message, joined by a blank line). */
  system: string;
  /** The text of the latest user turn. */
  lastUser: string;
  /** Messages in the conversation (system ones included). */
  turns: number;
  /** Tool definitions offered (function tools and hosted tools). */
  tools: number;
  /** Whether any message carries an image. */
  images: boolean;
  /** The whole conversation's estimated prompt tokens (about four characters a token). */
  promptTokens: number;
}

/**
 * The scanned windows: the start and the end of the user turn (the ask sits before or after what
 * it pastes) and the start of the system prompt. At most 6 KB is read, whatever the request's
 * size. (They were 4 + 8 + 4 KB: retrained on these, the held-out evaluation is unchanged and a
 * 50 KB decision costs about a fifth — docs/auto-routing-eval.md.)
 */
export const USER_HEAD = 2 * 1024;
export const USER_TAIL = 2 * 1024;
export const SYSTEM_WINDOW = 2 * 1024;

function addPartCharacters(part: ContentPart): number {
  switch (part.type) {
    case 'text': return part.text.length;
    case 'reasoning': return part.text.length;
    case 'tool-call': return part.arguments.length;
    case 'tool-result': {
      if (typeof part.content === 'string') return part.content.length;
      let characters = 0;
      for (const inner of part.content) if (inner.type === 'text') characters += inner.text.length;
      return characters;
    }
    default: return 0;
  }
}

function hasImage(parts: readonly ContentPart[]): boolean {
  for (const part of parts) {
    if (part.type === 'image') return true;
    if (part.type === 'tool-result' && typeof part.content !== 'string') {
      for (const inner of part.content) if (inner.type === 'image') return true;
    }
  }
  return false;
}

/** Whether some text part says something (without joining them). */
function hasText(parts: readonly ContentPart[]): boolean {
  for (const part of parts) if (part.type === 'text' && part.text !== '') return true;
  return false;
}

function textOf(parts: readonly ContentPart[]): string {
  let text = '';
  for (const part of parts) {
    if (part.type !== 'text') continue;
    text = text === '' ? part.text : `${text}\n${part.text}`;
  }
  return text;
}

/** The request's facts for the auto router: one pass over its messages and parts. */
export function autoInputFrom(request: CanonicalRequest): AutoInput {
  let system = '';
  let lastUserIndex = -1;
  let characters = 0;
  let images = false;
  const messages = request.messages;
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index]!;
    for (const part of message.content) characters += addPartCharacters(part);
    if (!images && hasImage(message.content)) images = true;
    if (message.role === 'system') {
      const text = textOf(message.content);
      if (text !== '') system = system === '' ? text : `${system}\n\n${text}`;
    } else if (message.role === 'user' && hasText(message.content)) {
      lastUserIndex = index;
    }
  }
  const tools = (request.tools?.length ?? 0) + (request.hostedTools?.length ?? 0);
  return {
    system,
    lastUser: lastUserIndex < 0 ? '' : textOf(messages[lastUserIndex]!.content),
    turns: messages.length,
    tools,
    images,
    promptTokens: Math.ceil(characters / 4),
  };
}

const CATEGORIES = Object.keys(VOCABULARY) as VocabularyCategory[];
const TERMS = new TermTrie(CATEGORIES.map((category) => VOCABULARY[category]));

/**
 * A word of up to 10 ASCII letters as a number (base 27, letters 1–26, case folded), so the first
 * word of a line and a LaTeX command are looked up without making a string. No listed word is
 * longer than 10 letters (checked below), and a longer run of letters is none of them.
 */
const WORD_KEY_LETTERS = 10;
function wordKeyOf(word: string): number {
  let key = 0;
  for (let index = 0; index < word.length; index++) key = key * 27 + (word.charCodeAt(index) | 32) - 96;
  return key;
}
function wordKeys(words: readonly string[]): Set<number> {
  for (const word of words) if (word.length > WORD_KEY_LETTERS || !/^[a-z]+$/.test(word)) throw new Error(`'${word}' cannot be a word key`);
  return new Set(words.map(wordKeyOf));
}

/** First words that make a line look like code (lower-cased). */
const CODE_KEYWORDS = wordKeys(['def', 'class', 'function', 'fn', 'func', 'import', 'from', 'return', 'if', 'for', 'while',
  'const', 'let', 'var', 'public', 'private', 'static', 'package', 'select', 'insert', 'update', 'create', 'elif', 'else',
  'try', 'catch', 'except', 'async', 'await', 'struct', 'impl', 'pub', 'use', 'echo', 'export', 'interface', 'type']);
/** LaTeX commands that mark mathematics. */
const LATEX_COMMANDS = wordKeys(['frac', 'sum', 'int', 'sqrt', 'prod', 'lim', 'mathbb', 'mathrm', 'alpha', 'beta', 'gamma',
  'delta', 'epsilon', 'theta', 'lambda', 'sigma', 'cdot', 'leq', 'geq', 'neq', 'equiv', 'pmod', 'binom', 'infty', 'begin',
  'end', 'forall', 'exists', 'mid', 'pi', 'log', 'ln', 'sin', 'cos', 'partial', 'nabla', 'times', 'le', 'ge']);

/** What the scan does with a character: 0 (spaces, punctuation, the rest) or one of these. */
const WORD = 1, QUESTION = 2, BACKSLASH = 3, DOLLAR = 4, MATH = 5, OPERATOR = 6;
/** Single characters that are mathematics wherever they appear, besides the ASCII ones. */
const MATH_CHARACTERS = [...'≤≥≠≈≡∑∏∫√∞∈∉⊂⊆∀∃πθλσμ±×÷∂∇'].map((character) => character.charCodeAt(0));
/** Per UTF-16 code unit up to the last one that matters: what the scan does with it (a table read, no hashing). */
const CHARACTER_CLASS = new Uint8Array(Math.max(...MATH_CHARACTERS) + 1);
for (let code = 48; code <= 57; code++) CHARACTER_CLASS[code] = WORD;
for (let code = 65; code <= 90; code++) CHARACTER_CLASS[code] = CHARACTER_CLASS[code + 32] = WORD;
CHARACTER_CLASS[63] = QUESTION;
CHARACTER_CLASS[92] = BACKSLASH;
CHARACTER_CLASS[36] = DOLLAR;
for (const character of '=<>^') CHARACTER_CLASS[character.charCodeAt(0)] = MATH;
for (const character of '+-*/') CHARACTER_CLASS[character.charCodeAt(0)] = OPERATOR;
for (const code of MATH_CHARACTERS) CHARACTER_CLASS[code] = MATH;
const CLASSIFIED = CHARACTER_CLASS.length;

/** The names of featureVector's entries, in order; a model file lists the ones it was trained on. */
export const FEATURE_NAMES: readonly string[] = Object.freeze([
  'user_chars_log', 'system_chars_log', 'prompt_tokens_log', 'turns_log', 'tools_log', 'images',
  'code_fences', 'code_lines_log', 'list_lines_log', 'math_symbols_log', 'latex_log', 'questions_log', 'numbers_log',
  ...CATEGORIES.map((category) => `terms_${category.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}_log`),
]);

const CODE_FENCES = 6;
const CODE_LINES = 7;
const LIST_LINES = 8;
const MATH_SYMBOLS = 9;
const LATEX = 10;
const QUESTIONS = 11;
const NUMBERS = 12;
const TERMS_OFFSET = 13;

const isDigit = (code: number) => code >= 48 && code <= 57;
const isSpace = (code: number) => code === 32 || code === 9;
const isLetter = (code: number) => (code >= 97 && code <= 122) || (code >= 65 && code <= 90);

/**
 * The key (wordKeyOf) of the run of ASCII letters at `start`, before `limit`; −1 when there is none
 * or it is longer than any listed word.
 */
function wordKeyAt(text: string, start: number, limit: number): number {
  let key = 0;
  let index = start;
  for (; index < limit; index++) {
    const code = text.charCodeAt(index);
    if (!isLetter(code)) break;
    if (index - start === WORD_KEY_LETTERS) return -1;
    key = key * 27 + (code | 32) - 96;
  }
  return index === start ? -1 : key;
}

/** What the start of a line (its first non-blank character at `start`) says: code, a list item, a fence. */
function scanLineStart(vector: Float64Array, text: string, start: number, limit: number, weight: number): boolean {
  const code = text.charCodeAt(start);
  const following = start + 1 < limit ? text.charCodeAt(start + 1) : 0;
  if (code === 96 && following === 96 && start + 2 < limit && text.charCodeAt(start + 2) === 96) { vector[CODE_FENCES]! += weight / 2; return false; }
  if ((code === 45 || code === 42 || code === 8226) && isSpace(following)) { vector[LIST_LINES]! += weight; return false; }
  if (isDigit(code)) {
    let index = start + 1;
    if (index < limit && isDigit(text.charCodeAt(index))) index++;
    const mark = index < limit ? text.charCodeAt(index) : 0;
    if ((mark === 46 || mark === 41) && index + 1 < limit && isSpace(text.charCodeAt(index + 1))) vector[LIST_LINES]! += weight;
    return false;
  }
  if (code === 47 && following === 47) return true;
  if (code === 35) return following === 33 || (start + 8 <= limit && text.startsWith('include', start + 1));
  return isLetter(code) && CODE_KEYWORDS.has(wordKeyAt(text, start, limit));
}

/**
 * Adds the counts of `text` from `start` to `limit` to the vector, times `weight`, in one pass
 * that reads each character once (a vocabulary term reads ahead at most its own length): line
 * shapes (code, list items, fences), mathematics, LaTeX, questions, numbers, and vocabulary terms
 * at word starts. Reads the string where it lies: no slice, no lower-cased copy, no allocation.
 */
function scan(vector: Float64Array, text: string, start: number, limit: number, weight: number): void {
  let atLineStart = true;
  let lineIsCode = false;
  let lastVisible = 0;
  let previous = 10;
  let termsUntil = 0;
  let index = start;
  while (index < limit) {
    const code = text.charCodeAt(index);
    if (code === 10) {
      if (lineIsCode || lastVisible === 59 || lastVisible === 123 || lastVisible === 125) vector[CODE_LINES]! += weight;
      atLineStart = true;
      lineIsCode = false;
      lastVisible = 0;
      previous = code;
      index++;
      continue;
    }
    if (atLineStart && code !== 32 && code !== 9 && code !== 13) {
      atLineStart = false;
      lineIsCode = scanLineStart(vector, text, index, limit, weight);
    }
    if (code > 32) lastVisible = code;
    const kind = code < CLASSIFIED ? CHARACTER_CLASS[code]! : 0;
    if (kind === 0) {
      // white space and punctuation: nothing to count
      if (!(isSpace(code) && isDigit(previous))) previous = code;
      index++;
      continue;
    }
    if (kind === WORD) {
      // a word starts here: its term (unless a phrase matched before covers it), then on past it
      if (isDigit(code)) vector[NUMBERS]! += weight;
      let end: number;
      if (index >= termsUntil) {
        end = TERMS.matchWord(text, index, limit, found);
        if (found.category >= 0) {
          vector[TERMS_OFFSET + found.category]! += weight;
          termsUntil = found.end;
        }
      } else {
        end = index + 1;
        while (end < limit && isWordCode(text.charCodeAt(end))) end++;
      }
      index = end;
      previous = lastVisible = text.charCodeAt(end - 1);
      continue;
    }
    if (kind === QUESTION) {
      vector[QUESTIONS]! += weight;
    } else if (kind === BACKSLASH) {
      if (LATEX_COMMANDS.has(wordKeyAt(text, index + 1, limit))) vector[LATEX]! += weight;
    } else if (kind === DOLLAR) {
      if (index + 1 < limit && text.charCodeAt(index + 1) === 36) { vector[LATEX]! += weight / 2; index++; }
    } else if (kind === MATH) {
      vector[MATH_SYMBOLS]! += weight;
    } else if (isDigit(previous)) {
      // `3+4`, `12 * 7`: an operator between numbers
      const after = index + 1 < limit ? text.charCodeAt(index + 1) : 0;
      if (isDigit(after) || (isSpace(after) && index + 2 < limit && isDigit(text.charCodeAt(index + 2)))) vector[MATH_SYMBOLS]! += weight;
    }
    previous = code;
    index++;
  }
  if (lineIsCode || lastVisible === 59 || lastVisible === 123 || lastVisible === 125) vector[CODE_LINES]! += weight;
}

const found = new TermMatch();

/**
 * The feature vector of one request, in FEATURE_NAMES order. Counts are log1p-scaled (the tenth
 * code line says less than the first); the model standardises them.
 */
export function featureVector(input: AutoInput): Float64Array {
  const vector = new Float64Array(FEATURE_NAMES.length);
  const user = input.lastUser;
  const system = input.system;
  vector[0] = Math.log1p(user.length);
  vector[1] = Math.log1p(system.length);
  vector[2] = Math.log1p(input.promptTokens);
  vector[3] = Math.log1p(input.turns);
  vector[4] = Math.log1p(input.tools);
  vector[5] = input.images ? 1 : 0;
  if (user.length <= USER_HEAD + USER_TAIL) scan(vector, user, 0, user.length, 1);
  else {
    scan(vector, user, 0, USER_HEAD, 1);
    scan(vector, user, user.length - USER_TAIL, user.length, 1);
  }
  // The system prompt counts at half weight: it frames every turn, the user turn is the ask.
  scan(vector, system, 0, Math.min(system.length, SYSTEM_WINDOW), 0.5);
  vector[CODE_FENCES] = Math.min(8, vector[CODE_FENCES]!);
  for (let index = CODE_LINES; index < vector.length; index++) vector[index] = Math.log1p(vector[index]!);
  return vector;
}
