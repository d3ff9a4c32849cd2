// Gemini measures grounding segments in UTF-8 bytes; the canonical model, like JavaScript, in
// UTF-16 code units. These convert an offset within one text between the two.

/** The UTF-16 offset in `text` of the UTF-8 byte offset `bytes` (the end of the text when past it). */
export function utf16OffsetOf(text: string, bytes: number): number {
  let byteCount = 0;
  let i = 0;
  while (i < text.length && byteCount < bytes) {
    const code = text.charCodeAt(i);
    if (code < 0x80) byteCount += 1;
    else if (code < 0x800) byteCount += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // a surrogate pair: one four-byte character
      byteCount += 4;
      i++;
    } else byteCount += 3;
    i++;
  }
  return i;
}

/** The UTF-8 byte offset in `text` of the UTF-16 offset `units`. */
export function utf8OffsetOf(text: string, units: number): number {
  return Buffer.byteLength(units >= text.length ? text : text.slice(0, units), 'utf8');
}
