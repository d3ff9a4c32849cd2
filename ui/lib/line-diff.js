// A line diff of two texts (the longest common subsequence of their lines), as hunks with a few
// lines of context — enough for a config file of some thousand lines; a larger pair is shown as
// one replaced block rather than computed (the table would be too big for a page).

const CELLS_MAX = 4_000_000;

/** @typedef {{ kind: ' ' | '-' | '+', text: string, before: number | null, after: number | null }} DiffLine */

/**
 * @param {string} before @param {string} after
 * @returns {DiffLine[]} every line of both, each kept (' '), removed ('-') or added ('+'), with its line numbers
 */
export function diffLines(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  // the common head and tail are kept as they are, without a table
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  /** @type {DiffLine[]} */
  const lines = [];
  for (let i = 0; i < head; i++) lines.push({ kind: ' ', text: a[i] ?? '', before: i + 1, after: i + 1 });
  if (n * m > CELLS_MAX) {
    for (let i = 0; i < n; i++) lines.push({ kind: '-', text: a[head + i] ?? '', before: head + i + 1, after: null });
    for (let j = 0; j < m; j++) lines.push({ kind: '+', text: b[head + j] ?? '', before: null, after: head + j + 1 });
  } else {
    // lengths[i][j]: the common subsequence of a's lines from i and b's from j (of the middle part)
    const width = m + 1;
    const lengths = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lengths[i * width + j] = a[head + i] === b[head + j]
          ? lengths[(i + 1) * width + j + 1] + 1
          : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[head + i] === b[head + j]) {
        lines.push({ kind: ' ', text: a[head + i] ?? '', before: head + i + 1, after: head + j + 1 });
        i++;
        j++;
      } else if (i < n && (j === m || lengths[(i + 1) * width + j] >= lengths[i * width + j + 1])) {
        // removals before additions, as a reader expects a replaced line
        lines.push({ kind: '-', text: a[head + i] ?? '', before: head + i + 1, after: null });
        i++;
      } else {
        lines.push({ kind: '+', text: b[head + j] ?? '', before: null, after: head + j + 1 });
        j++;
      }
    }
  }
  for (let k = tail; k > 0; k--) lines.push({ kind: ' ', text: a[a.length - k] ?? '', before: a.length - k + 1, after: b.length - k + 1 });
  return lines;
}

/**
 * The changed lines with `context` kept lines around each change; a gap between hunks is null.
 * @param {DiffLine[]} lines @param {number} [context]
 * @returns {(DiffLine | null)[]}
 */
export function hunks(lines, context = 3) {
  const keep = new Uint8Array(lines.length);
  lines.forEach((line, index) => {
    if (line.kind === ' ') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k++) keep[k] = 1;
  });
  /** @type {(DiffLine | null)[]} */
  const shown = [];
  lines.forEach((line, index) => {
    if (keep[index] === 1) shown.push(line);
    else if (shown.length > 0 && shown[shown.length - 1] !== null) shown.push(null);
  });
  if (shown[shown.length - 1] === null) shown.pop();
  return shown;
}
