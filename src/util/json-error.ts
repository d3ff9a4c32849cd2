// Where a JSON text stops being valid, for a 400 that says where. Only runs on the error path
// (after JSON.parse failed), since V8's message does not always carry a position.
import { ContainerStack } from './container-stack.ts';

class Scanner {
  private readonly text: string;
  position = 0;

  constructor(text: string) {
    this.text = text;
  }

  private space(): void {
    const text = this.text;
    while (this.position < text.length) {
      const code = text.charCodeAt(this.position);
      if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return;
      this.position++;
    }
  }

  private literal(word: string): boolean {
    if (!this.text.startsWith(word, this.position)) return false;
    this.position += word.length;
    return true;
  }

  private string(): boolean {
    const text = this.text;
    this.position++; // opening quote
    while (this.position < text.length) {
      const code = text.charCodeAt(this.position);
      if (code === 0x22) { this.position++; return true; }
      if (code < 0x20) return false;
      if (code === 0x5c) {
        const next = text[this.position + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(this.position + 2, this.position + 6))) { this.position++; return false; }
          this.position += 6;
          continue;
        }
        if (next === undefined || !'"\\/bfnrt'.includes(next)) { this.position++; return false; }
        this.position += 2;
        continue;
      }
      this.position++;
    }
    return false;
  }

  private number(): boolean {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.position, this.position + 400));
    if (match === null) return false;
    this.position += match[0].length;
    return true;
  }

  /**
   * Walks the whole text without recursion: open containers are kept on an explicit stack (one
   * bit each), so 100,000 unclosed `[` are found as cheaply as one and cannot exhaust the stack.
   */
  document(): boolean {
    const text = this.text;
    const open = new ContainerStack();
    for (;;) {
      // a value is expected here
      this.space();
      const char = text[this.position];
      let scalar = true;
      if (char === '{' || char === '[') {
        this.position++;
        this.space();
        const close = char === '{' ? '}' : ']';
        if (text[this.position] === close) {
          this.position++;
        } else {
          open.push(char === '{');
          if (char === '{' && !this.key()) return false;
          scalar = false;
        }
      } else if (!this.scalar(char)) {
        return false;
      }
      if (!scalar) continue;
      // after a value: close what ends here, then a comma leads to the next value
      for (;;) {
        this.space();
        if (open.depth === 0) return this.position === text.length;
        const next = text[this.position];
        const inObject = open.top;
        if (next === ',') {
          this.position++;
          if (inObject && !this.key()) return false;
          break;
        }
        if (next !== (inObject ? '}' : ']')) return false;
        this.position++;
        open.pop();
      }
    }
  }

  /** `"name" :` of an object member. */
  private key(): boolean {
    this.space();
    if (this.text[this.position] !== '"' || !this.string()) return false;
    this.space();
    if (this.text[this.position] !== ':') return false;
    this.position++;
    return true;
  }

  private scalar(char: string | undefined): boolean {
    switch (char) {
      case '"': return this.string();
      case 't': return this.literal('true');
      case 'f': return this.literal('false');
      case 'n': return this.literal('null');
      default: return this.number();
    }
  }
}

/** `position N (line L column C)` of the first invalid character, or undefined if the text is valid. */
export function describeJsonErrorPosition(text: string): string | undefined {
  const scanner = new Scanner(text);
  if (scanner.document()) return undefined;
  const position = Math.min(scanner.position, text.length);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position; i++) {
    if (text.charCodeAt(i) === 0x0a) { line++; lineStart = i + 1; }
  }
  return `position ${position} (line ${line} column ${position - lineStart + 1})`;
}
