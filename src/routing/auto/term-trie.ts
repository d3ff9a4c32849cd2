// A trie of lower-case terms over a small alphabet, packed into typed arrays at construction, so
// finding which term starts at a position is a few array reads per character with no allocation
// (one alternation regex of ~600 terms cost ~50 µs per KB; this walk costs about 1 µs). Packed
// small: most nodes have one child, kept as (column, child); only branching nodes get a row of the
// transition table. The whole trie is ~47 KB and stays in cache (a full table was 450 KB).

/** Characters a term may contain, as trie columns; 0 is "no such character". Upper case folds to lower. */
const COLUMN = new Uint8Array(128);
let columns = 1;
for (const character of "abcdefghijklmnopqrstuvwxyz0123456789 -'+.;") COLUMN[character.charCodeAt(0)] = columns++;
for (let code = 65; code <= 90; code++) COLUMN[code] = COLUMN[code + 32]!;
// Any white space inside a phrase matches the space between its words.
COLUMN[9] = COLUMN[10] = COLUMN[13] = COLUMN[32]!;
const WIDTH = columns;
/** Per column: 1 when its characters are letters or digits (a word's), else 0 (column 0 included). */
const WORD_CODE = new Uint8Array(WIDTH);
for (const character of 'abcdefghijklmnopqrstuvwxyz0123456789') WORD_CODE[COLUMN[character.charCodeAt(0)]!] = 1;

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
  /** Per node with one child: that child's column (0 otherwise). */
  private readonly onlyColumn: Uint8Array;
  /** Per node with one child: that child. */
  private readonly onlyChild: Int16Array;
  /** Per node with several children: its row's offset in `rows`; −1 for the others. */
  private readonly rowOf: Int32Array;
  /** The branching nodes' rows: WIDTH children each (0: none). */
  private readonly rows: Int16Array;
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
    const nodes = word.length;
    if (nodes > 32767) throw new Error('the vocabulary is too large for the packed trie');
    this.onlyColumn = new Uint8Array(nodes);
    this.onlyChild = new Int16Array(nodes);
    this.rowOf = new Int32Array(nodes).fill(-1);
    const rows: number[] = [];
    for (let node = 0; node < nodes; node++) {
      let children = 0;
      let last = 0;
      for (let column = 1; column < WIDTH; column++) if (next[node * WIDTH + column] !== 0) { children++; last = column; }
      if (children === 1) {
        this.onlyColumn[node] = last;
        this.onlyChild[node] = next[node * WIDTH + last]!;
      } else if (children > 1) {
        this.rowOf[node] = rows.length;
        for (let column = 0; column < WIDTH; column++) rows.push(next[node * WIDTH + column]!);
      }
    }
    this.rows = Int16Array.from(rows);
    this.word = Int16Array.from(word);
    this.stem = Int16Array.from(stem);
    this.depth = depth;
  }

  /**
   * Reads the word starting at `start` in `text` (which must start a word there) once: the longest
   * term starting there goes into `result` (a phrase or stem may read on past the word, never past
   * `limit`), and the answer is where the word ends (the first index after it that is no letter or
   * digit). No allocation.
   */
  matchWord(text: string, start: number, limit: number, result: TermMatch): number {
    result.category = -1;
    const onlyColumn = this.onlyColumn;
    const onlyChild = this.onlyChild;
    const rowOf = this.rowOf;
    const rows = this.rows;
    const stem = this.stem;
    const word = this.word;
    const until = Math.min(limit, start + this.depth);
    let node = 0;
    let index = start;
    // -1 while the walk is still inside the word
    let wordEnd = -1;
    for (; index < until; index++) {
      const code = text.charCodeAt(index);
      const column = code < 128 ? COLUMN[code]! : 0;
      if (wordEnd < 0 && WORD_CODE[column] === 0) wordEnd = index;
      if (column === 0) break;
      const only = onlyColumn[node]!;
      if (only !== 0) {
        if (only !== column) break;
        node = onlyChild[node]!;
      } else {
        const row = rowOf[node]!;
        if (row < 0) break;
        node = rows[row + column]!;
        if (node === 0) break;
      }
      const stemmed = stem[node]!;
      if (stemmed !== 0) {
        result.category = stemmed - 1;
        result.end = index + 1;
      }
      const whole = word[node]!;
      if (whole !== 0) {
        const after = index + 1 < limit ? text.charCodeAt(index + 1) : 0;
        if (after >= 128 || WORD_CODE[COLUMN[after]!] === 0) {
          result.category = whole - 1;
          result.end = index + 1;
        }
      }
    }
    if (wordEnd >= 0) return wordEnd;
    // the trie stopped inside the word (or the word is longer than any term): read on to its end
    while (index < limit) {
      const code = text.charCodeAt(index);
      if (code >= 128 || WORD_CODE[COLUMN[code]!] === 0) break;
      index++;
    }
    return index;
  }
}
