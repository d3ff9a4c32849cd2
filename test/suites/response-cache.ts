// The ResponseCache contract, for any implementation: an answer stored is found again whole until
// its TTL passes; storing again replaces it; delete removes it; keys are apart.
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import type { CachedResponse, ResponseCache } from '../../src/state/interfaces.ts';
import { storeTest, type ManualClock, type StoreFactory, type SuiteOptions } from './state-suite.ts';

export function answer(text: string, status = 200): CachedResponse {
  return { status, headers: ['content-type', 'application/json', 'x-switchyard-provider', 'p'], body: Buffer.from(text) };
}

function plain(response: CachedResponse | undefined): unknown {
  return response === undefined ? undefined : { status: response.status, headers: [...response.headers], body: Buffer.from(response.body).toString() };
}

export function responseCacheSuite(name: string, create: StoreFactory<ResponseCache>, options: SuiteOptions<ResponseCache> = {}): void {
  const it = (title: string, body: (store: ResponseCache, clock: ManualClock) => Promise<void> | void) => storeTest(create, options, title, undefined, body);

  describe(`ResponseCache: ${name}`, () => {
    it('a key never stored is a miss', async (cache, clock) => {
      assert.equal(await cache.get('missing', clock.now()), undefined);
    });

    it('an answer is found again whole: status, headers and body', async (cache, clock) => {
      cache.set('k', answer('{"id":"1"}', 201), 60_000, clock.now());
      assert.deepEqual(plain(await cache.get('k', clock.now())), plain(answer('{"id":"1"}', 201)));
    });

    it('an answer expires at its TTL, not before', async (cache, clock) => {
      cache.set('k', answer('a'), 1_000, clock.now());
      clock.advance(999);
      assert.notEqual(await cache.get('k', clock.now()), undefined);
      clock.advance(1);
      assert.equal(await cache.get('k', clock.now()), undefined);
    });

    it('storing again replaces the answer and its TTL', async (cache, clock) => {
      cache.set('k', answer('old'), 1_000, clock.now());
      clock.advance(500);
      cache.set('k', answer('new'), 1_000, clock.now());
      clock.advance(900);
      const found = await cache.get('k', clock.now());
      assert.equal(found === undefined ? undefined : Buffer.from(found.body).toString(), 'new');
    });

    it('delete removes an answer', async (cache, clock) => {
      cache.set('k', answer('a'), 60_000, clock.now());
      cache.delete('k');
      assert.equal(await cache.get('k', clock.now()), undefined);
      cache.delete('never-stored');
    });

    it('keys are apart', async (cache, clock) => {
      cache.set('a', answer('A'), 60_000, clock.now());
      cache.set('b', answer('B'), 60_000, clock.now());
      assert.equal(Buffer.from((await cache.get('a', clock.now()))!.body).toString(), 'A');
      assert.equal(Buffer.from((await cache.get('b', clock.now()))!.body).toString(), 'B');
    });
  });
}
