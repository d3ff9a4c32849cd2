// The in-process session pins against the SessionStore suite, and their own bound: an LRU of
// `max` pins, refreshed on every use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPins } from '../../src/state/sessions.ts';
import { sessionStoreSuite } from '../suites/session-store.ts';
import { suiteEpoch } from '../suites/state-suite.ts';

sessionStoreSuite('in-process SessionPins', () => new SessionPins());

const T0 = suiteEpoch();

test('SessionPins: past max, the least recently pinned session goes', () => {
  const pins = new SessionPins(3);
  for (const id of ['a', 'b', 'c']) pins.set(id, 0, 0, T0 + 60_000);
  pins.set('a', 1, 0, T0 + 60_000); // a is now the most recent
  pins.set('d', 0, 0, T0 + 60_000);
  assert.equal(pins.size, 3);
  assert.equal(pins.get('b', T0), undefined, 'b was the oldest');
  assert.equal(pins.get('a', T0)?.target, 1);
  assert.notEqual(pins.get('c', T0), undefined);
  assert.notEqual(pins.get('d', T0), undefined);
});

test('SessionPins: a lapsed pin is dropped when read', () => {
  const pins = new SessionPins();
  pins.set('a', 0, 0, T0 + 1);
  assert.equal(pins.get('a', T0 + 1), undefined);
  assert.equal(pins.size, 0);
});

test('SessionPins: re-pinning reuses the pin (nothing allocated per request)', () => {
  const pins = new SessionPins();
  pins.set('a', 0, 0, T0 + 1_000);
  const first = pins.get('a', T0);
  pins.set('a', 2, 1, T0 + 2_000);
  assert.equal(pins.get('a', T0), first);
});
