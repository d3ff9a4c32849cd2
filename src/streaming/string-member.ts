// Finds a JSON member with a string value in whole stream frames without parsing them: the
// pass-through watches for a dialect's final event (`"finish_reason":"stop"`, not the
// `"finish_reason":null` of every other chunk) with one native search per batch of frames.

const QUOTE = 0x22;
const SPACE = 0x20;
const TAB = 0x09;

/**
 * Index of the next `"name":` at or after `from` whose value is a string, or -1. `key` is the
 * member name with its quotes and colon. A key inside a JSON string never matches: its quotes
 * would be escaped there.
 */
export function indexOfStringMember(data: Buffer, key: Buffer, from = 0): number {
  for (let at = data.indexOf(key, from); at >= 0; at = data.indexOf(key, at + key.length)) {
    let value = at + key.length;
    while (data[value] === SPACE || data[value] === TAB) value++;
    if (data[value] === QUOTE) return at;
  }
  return -1;
}
