// The largest stream frame the gateway holds while waiting for its end: one SSE event (all its
// lines) or one NDJSON line. The pass-through splitter and the translating decoders use the same
// bound, so an upstream that never ends a line or an event costs at most this much memory and
// one linear scan, then ends the stream with an error.

export const MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** The limit as people read it, for error messages ("8 MiB"). */
export function frameLimitText(limit: number): string {
  return limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MiB` : `${limit} bytes`;
}
