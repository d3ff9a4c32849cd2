// Reads whole stream frames without parsing them: the pass-through looks for its dialect's
// terminator, final event and error events in each batch of frames it forwards. A name that is
// rare in a stream is one native search with the few bytes around a hit checked by hand; a set of
// line-start markers is one pass of a regular expression compiled at load (LineMarkers).

const QUOTE = 0x22;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** Whether the value after the `"name":` key at `at` is a string (spaces after the colon allowed). */
function stringValueAt(data: Buffer, at: number, key: Buffer): boolean {
  let value = at + key.length;
  while (data[value] === SPACE || data[value] === TAB) value++;
  return data[value] === QUOTE;
}

/**
 * Index of the next `"name":` at or after `from` whose value is a string (`"finish_reason":"stop"`,
 * not `"finish_reason":null`), or -1. `key` is the member name with its quotes and colon. A key
 * inside a JSON string never matches: its quotes would be escaped there.
 */
export function indexOfStringMember(data: Buffer, key: Buffer, from = 0): number {
  for (let at = data.indexOf(key, from); at >= 0; at = data.indexOf(key, at + key.length)) {
    if (stringValueAt(data, at, key)) return at;
  }
  return -1;
}

/** Whether the last `"name":` in `data` has a string value: one search from the end. */
export function lastMemberIsString(data: Buffer, key: Buffer): boolean {
  const at = data.lastIndexOf(key);
  return at >= 0 && stringValueAt(data, at, key);
}

/**
 * True when a line of `events` starts with one of `prefixes` followed by `name` (`data: [DONE]`,
 * `event: message_stop`, `data: {"type":"message_stop"`): one search for the name however many
 * ways a line may lead to it. A prefix that ends in a quote needs the closing quote after the
 * name. JSON strings cannot hold a raw newline, so text that reads like such a line never matches.
 */
export function lineStartsWithName(events: Buffer, name: Buffer, prefixes: readonly Buffer[]): boolean {
  for (let at = events.indexOf(name); at >= 0; at = events.indexOf(name, at + name.length)) {
    for (const prefix of prefixes) {
      const start = at - prefix.length;
      if (start < 0 || (start > 0 && events[start - 1] !== LF && events[start - 1] !== CR)) continue;
      if (events.compare(prefix, 0, prefix.length, start, at) !== 0) continue;
      if (prefix[prefix.length - 1] === QUOTE && events[at + name.length] !== QUOTE) continue;
      return true;
    }
  }
  return false;
}

/**
 * True when one of `markers` starts a line of `events` (`event: error`, `data: {"error"`): a native
 * search per marker over the whole batch. JSON strings cannot hold a raw newline, so text inside a
 * delta that reads like such a line never matches. LineMarkers does the same in one pass.
 */
export function startsAnyLine(events: Buffer, markers: readonly Buffer[]): boolean {
  for (const marker of markers) {
    for (let at = events.indexOf(marker); at >= 0; at = events.indexOf(marker, at + 1)) {
      if (at === 0 || events[at - 1] === LF || events[at - 1] === CR) return true;
    }
  }
  return false;
}

/**
 * Above this many bytes a batch is searched marker by marker: the pass's gain shrinks (0.4× the
 * searches' CPU up to 64 KB, 0.7× at 256 KB: bench/micro/stream-markers.ts) while its copy as a
 * string grows toward V8's large-object space, memory the micro benchmark does not charge. Streams
 * arrive an event or a few at a time; a batch this large is a reader that fell behind.
 */
const STRING_PASS_MAX_BYTES = 64 * 1024;
const REGEXP_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;

/**
 * Markers that count only at the start of a line (`event: error`, `data: {"type":"response.failed"`),
 * compiled once into one regular expression: one pass over a batch checks every line start against
 * all of them, where a native search per marker costs a call each (a few hundred ns on an
 * event-sized batch, most streams' batch) and reads the batch again per marker. The pass runs on
 * the batch as a latin1 string, one code unit per byte, so a match is exactly a byte match; `^`
 * (multiline) holds at the start and after LF or CR, JavaScript's other line terminators being
 * beyond latin1. Same answer as `startsAnyLine` on the same markers, for any bytes.
 */
export class LineMarkers {
  private readonly markers: readonly Buffer[];
  private readonly pattern: RegExp;

  constructor(markers: readonly string[]) {
    if (markers.length === 0 || markers.includes('')) throw new RangeError('LineMarkers needs markers, none of them empty');
    this.markers = markers.map((marker) => Buffer.from(marker));
    const alternatives = this.markers.map((marker) => marker.toString('latin1').replace(REGEXP_SYNTAX, '\\$&'));
    this.pattern = new RegExp(`^(?:${alternatives.join('|')})`, 'm');
  }

  /** True when one of the markers starts a line of `events` (at its start, or after LF or CR). */
  startAnyLine(events: Buffer): boolean {
    if (events.length > STRING_PASS_MAX_BYTES) return startsAnyLine(events, this.markers);
    return this.pattern.test(events.toString('latin1'));
  }
}
