// The SessionStore contract, for any implementation: a pin is found again until it lapses, a new
// pin for the same session replaces it (and its lapse time), a raised pin only goes up, sessions
// do not see each other's pins.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionStore } from '../../src/state/interfaces.ts';
import { storeTest, type ManualClock, type StoreFactory, type SuiteOptions } from './state-suite.ts';

export function sessionStoreSuite(name: string, create: StoreFactory<SessionStore>, options: SuiteOptions<SessionStore> = {}): void {
  const it = (title: string, body: (store: SessionStore, clock: ManualClock) => Promise<void> | void) => storeTest(create, options, title, undefined, body);

  describe(`SessionStore: ${name}`, () => {
    it('an unknown session has no pin', (store, clock) => {
      assert.equal(store.get('route\u0000nobody', clock.now()), undefined);
      assert.equal(store.size, 0);
    });

    it('a pin is found again with its target, key and lapse time', (store, clock) => {
      store.set('route\u0000s1', 2, 1, clock.now() + 60_000);
      const pin = store.get('route\u0000s1', clock.now());
      assert.deepEqual(pin === undefined ? undefined : { ...pin }, { target: 2, key: 1, expires: clock.now() + 60_000 });
      assert.equal(store.size, 1);
    });

    it('a pin lapses at its expiry time, not before', (store, clock) => {
      store.set('s', 0, 0, clock.now() + 1_000);
      clock.advance(999);
      assert.notEqual(store.get('s', clock.now()), undefined);
      clock.advance(1);
      assert.equal(store.get('s', clock.now()), undefined);
    });

    it('pinning again moves the session and pushes its lapse time out', (store, clock) => {
      store.set('s', 0, 0, clock.now() + 1_000);
      clock.advance(900);
      store.set('s', 3, 2, clock.now() + 1_000);
      clock.advance(900);
      const pin = store.get('s', clock.now());
      assert.equal(pin?.target, 3);
      assert.equal(pin?.key, 2);
      assert.equal(store.size, 1);
    });

    it('a raised pin keeps the higher target, pushes its lapse time out, and starts afresh once lapsed', (store, clock) => {
      assert.equal(store.raise('tier', 1, clock.now(), clock.now() + 1_000), 1);
      assert.equal(store.raise('tier', 2, clock.now(), clock.now() + 1_000), 2);
      clock.advance(900);
      assert.equal(store.raise('tier', 0, clock.now(), clock.now() + 1_000), 2, 'never down');
      clock.advance(900);
      assert.equal(store.get('tier', clock.now())?.target, 2, 'the lapse time moved');
      clock.advance(1_000);
      assert.equal(store.raise('tier', 0, clock.now(), clock.now() + 1_000), 0, 'a lapsed pin holds nothing');
    });

    it('sessions and routes are pinned apart', (store, clock) => {
      store.set('a\u0000s', 1, 0, clock.now() + 1_000);
      store.set('b\u0000s', 2, 0, clock.now() + 1_000);
      store.set('a\u0000t', 3, 0, clock.now() + 1_000);
      assert.equal(store.get('a\u0000s', clock.now())?.target, 1);
      assert.equal(store.get('b\u0000s', clock.now())?.target, 2);
      assert.equal(store.get('a\u0000t', clock.now())?.target, 3);
      assert.equal(store.size, 3);
    });
  });
}
