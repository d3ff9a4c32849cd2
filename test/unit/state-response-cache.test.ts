// The in-process response cache against the ResponseCache suite, and its own bounds: LRU by entry
// count and by bytes, answers too large not stored, a hit synchronous and refreshing recency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalResponseCache } from '../../src/state/local-response-cache.ts';
import { answer, responseCacheSuite } from '../suites/response-cache.ts';
import { suiteEpoch } from '../suites/state-suite.ts';

responseCacheSuite('in-process LocalResponseCache', () => new LocalResponseCache());

const T0 = suiteEpoch();
const MINUTE = 60_000;
/** Bytes `answer(text)` costs: its body and its header text. */
const overhead = answer('').headers.join('').length;

test('LocalResponseCache: a hit is answered synchronously', () => {
  const cache = new LocalResponseCache();
  cache.set('k', answer('a'), MINUTE, T0);
  assert.equal(cache.get('k', T0)?.status, 200);
});

test('LocalResponseCache: past max_entries, the least recently used answer goes', () => {
  const cache = new LocalResponseCache({ maxEntries: 2 });
  cache.set('a', answer('A'), MINUTE, T0);
  cache.set('b', answer('B'), MINUTE, T0);
  assert.notEqual(cache.get('a', T0), undefined); // a is now the most recent
  cache.set('c', answer('C'), MINUTE, T0);
  assert.equal(cache.size, 2);
  assert.equal(cache.get('b', T0), undefined);
  assert.notEqual(cache.get('a', T0), undefined);
  assert.notEqual(cache.get('c', T0), undefined);
});

test('LocalResponseCache: bytes are bounded; an answer too large is not stored', () => {
  const cache = new LocalResponseCache({ maxBytes: 3 * (overhead + 100), maxEntryBytes: overhead + 150 });
  for (const key of ['a', 'b', 'c']) cache.set(key, answer('x'.repeat(100)), MINUTE, T0);
  assert.equal(cache.bytes, 3 * (overhead + 100));
  cache.set('d', answer('x'.repeat(100)), MINUTE, T0);
  assert.equal(cache.size, 3);
  assert.equal(cache.get('a', T0), undefined, 'the oldest made room');
  cache.set('big', answer('x'.repeat(200)), MINUTE, T0);
  assert.equal(cache.get('big', T0), undefined);
  assert.equal(cache.bytes, 3 * (overhead + 100));
});

test('LocalResponseCache: replacing, deleting and expiring keep the byte count exact', () => {
  const cache = new LocalResponseCache();
  cache.set('a', answer('x'.repeat(10)), MINUTE, T0);
  cache.set('a', answer('x'.repeat(30)), MINUTE, T0);
  assert.equal(cache.bytes, overhead + 30);
  cache.set('b', answer('x'.repeat(5)), 1_000, T0);
  assert.equal(cache.get('b', T0 + 1_000), undefined);
  assert.equal(cache.bytes, overhead + 30);
  cache.delete('a');
  assert.equal(cache.bytes, 0);
  assert.equal(cache.size, 0);
});

test('LocalResponseCache: a TTL of 0 stores nothing', () => {
  const cache = new LocalResponseCache();
  cache.set('a', answer('A'), 0, T0);
  assert.equal(cache.size, 0);
});
