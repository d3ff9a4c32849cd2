// The Config page's line diff (ui/lib/line-diff.js): every line of both texts kept, removed or
// added with its line numbers, and hunks with context around the changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
// @ts-expect-error the dashboard's modules are plain JS with JSDoc types, outside the TS project
import { diffLines, hunks } from '../../ui/lib/line-diff.js';

type Line = { kind: ' ' | '-' | '+'; text: string; before: number | null; after: number | null };

test('a changed, an added and a removed line, with their numbers', () => {
  const lines: Line[] = diffLines('a\nb\nc\nd\ne', 'a\nB\nc\ne\nf');
  assert.deepEqual(lines.map((line) => `${line.kind}${line.text}`), [' a', '-b', '+B', ' c', '-d', ' e', '+f']);
  assert.deepEqual(lines.find((line) => line.text === 'f'), { kind: '+', text: 'f', before: null, after: 5 });
  assert.deepEqual(lines.find((line) => line.text === 'e'), { kind: ' ', text: 'e', before: 5, after: 4 });
  // rebuilt from the diff, each side is its text
  assert.equal(lines.filter((line) => line.kind !== '+').map((line) => line.text).join('\n'), 'a\nb\nc\nd\ne');
  assert.equal(lines.filter((line) => line.kind !== '-').map((line) => line.text).join('\n'), 'a\nB\nc\ne\nf');
});

test('hunks: context around changes, a gap between far ones, nothing for equal texts', () => {
  const before = Array.from({ length: 30 }, (_unused, index) => `line ${index + 1}`).join('\n');
  const after = before.replace('line 3\n', 'line three\n').replace('line 25\n', 'line 25\nnew\n');
  const shown: (Line | null)[] = hunks(diffLines(before, after), 2);
  assert.deepEqual(shown.map((line) => (line === null ? '…' : `${line.kind}${line.text}`)), [
    ' line 1', ' line 2', '-line 3', '+line three', ' line 4', ' line 5', '…',
    ' line 24', ' line 25', '+new', ' line 26', ' line 27',
  ]);
  assert.deepEqual(hunks(diffLines(before, before)), []);
});
