// Numbers and times as the pages show them.

/** @param {number | null | undefined} value @param {number} [digits] */
export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** @param {number | null | undefined} ms */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** @param {number | null | undefined} usd */
export function money(usd) {
  if (usd === null || usd === undefined) return '—';
  if (usd !== 0 && Math.abs(usd) < 0.01) return `$${usd.toFixed(6)}`;
  if (Math.abs(usd) < 1) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

/** @param {string | number | null | undefined} time */
export function clock(time) {
  if (time === null || time === undefined) return '—';
  const date = new Date(time);
  return date.toLocaleTimeString('en-GB', { hour12: false });
}

/** @param {string | number | null | undefined} time */
export function dateTime(time) {
  if (time === null || time === undefined) return '—';
  return new Date(time).toLocaleString('en-GB', { hour12: false });
}
