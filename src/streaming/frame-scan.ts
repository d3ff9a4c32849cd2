// Reads whole stream frames without parsing them: the pass-through looks for its dialect's
// terminator and final event in each batch of frames it forwards, so these are native searches,
// one per name, with the few bytes around a hit checked by hand.

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
 * True when one of `markers` starts a line of `events` (`event: error`, `data: {"error"`). JSON
 * strings cannot hold a raw newline, so text inside a delta that reads like such a line never matches.
 */
export function startsAnyLine(events: Buffer, markers: readonly Buffer[]): boolean {
  for (const marker of markers) {
    for (let at = events.indexOf(marker); at >= 0; at = events.indexOf(marker, at + 1)) {
      if (at === 0 || events[at - 1] === LF || events[at - 1] === CR) return true;
    }
  }
  return false;
}
