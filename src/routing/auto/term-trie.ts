// A trie of lower-case terms over a small alphabet, packed into typed arrays at construction, so
// finding which term starts at a position is a few array reads per character with no allocation
// (one alternation regex of ~600 terms cost ~50 µs per KB; this walk costs about 1 µs).

/** Characters a term may contain, as trie columns; 0 is "no such character". Upper case folds to lower. */
const COLUMN = new Uint8Array(128);
let columns = 1;
for (const character of "abcdefghijklmnopqrstuvwxyz0123456789 -'+.;") COLUMN[character.charCodeAt(0)] = columns++;
for (let code = 65; code <= 90; code++) COLUMN[code] = COLUMN[code + 32]!;
// Any white space inside a phrase matches the space between its words.
COLUMN[9] = COLUMN[10] = COLUMN[13] = COLUMN[32]!;
const WIDTH = columns;

/** Whether the UTF-16 code unit is an ASCII letter or digit (what a word is made of). */
export function isWordCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
}

/** The longest term found by `match`, as its category (−1: none) and end offset. */
export class TermMatch {
  category = -1;
  end = 0;
}

export class TermTrie {
  private readonly next: Int32Array;
  /** Per node: 1 + the category of a whole-word term ending here, or 0. */
  private readonly word: Int16Array;
  /** Per node: 1 + the category of a stem ending here, or 0. */
  private readonly stem: Int16Array;
  private readonly depth: number;

  /** `lists[category]` holds that category's terms (`*` at the end marks a stem). */
  constructor(lists: readonly (readonly string[])[]) {
    const next: number[] = new Array(WIDTH).fill(0);
    const word: number[] = [0];
    const stem: number[] = [0];
    let depth = 0;
    lists.forEach((terms, category) => {
      for (const raw of terms) {
        const isStem = raw.endsWith('*');
        const term = isStem ? raw.slice(0, -1) : raw;
        depth = Math.max(depth, term.length);
        let node = 0;
        for (let index = 0; index < term.length; index++) {
          const code = term.charCodeAt(index);
          const column = code < 128 ? COLUMN[code]! : 0;
          if (column === 0) throw new Error(`vocabulary term '${raw}' has a character the trie cannot hold`);
          let child = next[node * WIDTH + column]!;
          if (child === 0) {
            child = word.length;
            word.push(0);
            stem.push(0);
            for (let fill = 0; fill < WIDTH; fill++) next.push(0);
            next[node * WIDTH + column] = child;
          }
          node = child;
        }
        const marks = isStem ? stem : word;
        if (marks[node] === 0) marks[node] = category + 1;
      }
    });
    this.next = Int32Array.from(next);
    this.word = Int16Array.from(word);
    this.stem = Int16Array.from(stem);
    this.depth = depth;
  }

  /** The longest term starting at `start` in `text` (which must start a word there), into `result`. */
  match(text: string, start: number, result: TermMatch): void {
    result.category = -1;
    const limit = Math.min(text.length, start + this.depth);
    let node = 0;
    for (let index = start; index < limit; index++) {
      const code = text.charCodeAt(index);
      const column = code < 128 ? COLUMN[code]! : 0;
      if (column === 0) break;
      node = this.next[node * WIDTH + column]!;
      if (node === 0) break;
      if (this.stem[node] !== 0) {
        result.category = this.stem[node]! - 1;
        result.end = index + 1;
      }
      if (this.word[node] !== 0 && (index + 1 >= text.length || !isWordCode(text.charCodeAt(index + 1)))) {
        result.category = this.word[node]! - 1;
        result.end = index + 1;
      }
    }
  }
}
