// The open containers of a JSON scan, one bit each (1 = object), growing as deep as the text goes:
// no recursion, so no nesting depth can overflow the stack.

export class ContainerStack {
  private bits = new Uint8Array(16);
  depth = 0;

  push(object: boolean): void {
    const byte = this.depth >> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(this.bits.length * 2);
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (this.depth & 7);
    if (object) this.bits[byte]! |= mask;
    else this.bits[byte]! &= ~mask;
    this.depth++;
  }

  pop(): void {
    this.depth--;
  }

  /** Whether the innermost open container is an object. */
  get top(): boolean {
    const index = this.depth - 1;
    return (this.bits[index >> 3]! & (1 << (index & 7))) !== 0;
  }
}
