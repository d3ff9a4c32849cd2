import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dropOldestIdle } from '../../src/util/drop-idle.ts';

test('a full map drops the oldest quarter of its idle entries, never one that is held', () => {
  const entries = new Map<string, { held: number }>();
  for (let i = 0; i < 8; i++) entries.set(`k${i}`, { held: i === 0 || i === 2 ? 1 : 0 });
  dropOldestIdle(entries);
  assert.deepEqual([...entries.keys()], ['k0', 'k2', 'k4', 'k5', 'k6', 'k7']);
  const held = new Map([['a', { held: 1 }], ['b', { held: 2 }]]);
  dropOldestIdle(held);
  assert.equal(held.size, 2);
  const one = new Map([['a', { held: 0 }]]);
  dropOldestIdle(one);
  assert.equal(one.size, 0);
});
