// Stop sequences, applied by the gateway: the Responses API has no `stop` field, so the text is
// cut where a stop sequence first appears (the nearest equivalent; the sequence itself is not
// shown, as with providers that stop natively). Streams hold back only the few characters that
// could be the start of a stop sequence.

export class StopMatcher {
  private readonly stops: readonly string[];
  private readonly hold: number;
  private pending = '';
  /** The stop sequence that matched, once one has. */
  matched: string | undefined = undefined;

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((stop) => stop.length > 0);
    this.hold = Math.max(0, ...this.stops.map((stop) => stop.length - 1));
  }

  get active(): boolean {
    return this.stops.length > 0;
  }

  /** The text that can be shown now; after a match, nothing more. */
  push(delta: string): string {
    if (this.matched !== undefined) return '';
    const text = this.pending + delta;
    let at = -1;
    for (const stop of this.stops) {
      const found = text.indexOf(stop);
      if (found >= 0 && (at < 0 || found < at)) {
        at = found;
        this.matched = stop;
      }
    }
    if (at >= 0) {
      this.pending = '';
      return text.slice(0, at);
    }
    let keep = 0;
    for (let length = Math.min(this.hold, text.length); length > 0; length--) {
      const tail = text.slice(text.length - length);
      if (this.stops.some((stop) => stop.startsWith(tail))) {
        keep = length;
        break;
      }
    }
    this.pending = keep > 0 ? text.slice(text.length - keep) : '';
    return keep > 0 ? text.slice(0, text.length - keep) : text;
  }

  /** What was held back, at the end of a text block. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }
}

/** Cuts a whole text at the first stop sequence. */
export function cutAtStop(text: string, stops: readonly string[]): { text: string; stop: string | undefined } {
  let at = -1;
  let matched: string | undefined;
  for (const stop of stops) {
    if (stop.length === 0) continue;
    const found = text.indexOf(stop);
    if (found >= 0 && (at < 0 || found < at)) {
      at = found;
      matched = stop;
    }
  }
  return at < 0 ? { text, stop: undefined } : { text: text.slice(0, at), stop: matched };
}
