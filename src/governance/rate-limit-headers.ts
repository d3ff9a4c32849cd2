// How limits are told to callers: OpenAI's `x-ratelimit-*` headers (durations as `6s`, `1m0s`,
// `250ms`), Anthropic's `anthropic-ratelimit-*` (instants in RFC 3339), and the budget's reset.

/** A wait as OpenAI writes it in `x-ratelimit-reset-*`: `250ms`, `6s`, `1m0s`, `1h2m3s`. */
export function openaiDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const total = Math.ceil(ms / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** An instant in RFC 3339 to the second (rounded up, so a client that waits until then is not early): `2026-03-01T12:00:07Z`. */
export function rfc3339(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
