// Provider health and session pins shared through a real Redis server (SWITCHYARD_TEST_REDIS_URL;
// skipped without it): the shared book and pins pass the same suites as the in-process ones, and
// what only sharing promises — an ejection on one instance reaches another's entry, an instance
// that connects later reads it, one half-open probe across instances (the claim, its verdict, a
// claim given back when the probe ends without one), a pin written by one instance read by
// another — and a server that cannot be reached leaves each instance answering alone, at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ErrorInfo } from '../../src/canonical/errors.ts';
import { RedisHealthBook } from '../../src/state/redis-health.ts';
import { RedisLink } from '../../src/state/redis-link.ts';
import { RedisSessionPins } from '../../src/state/redis-sessions.ts';
import type { TargetHealth } from '../../src/state/health.ts';
import { connectedLink, quietLogger, redisSkip, testPrefix } from '../helpers/redis.ts';
import { cooldowns, healthStoreSuite } from '../suites/health-store.ts';
import { sessionStoreSuite } from '../suites/session-store.ts';

const links = new WeakMap<object, RedisLink>();
const dispose = async (store: object): Promise<void> => links.get(store)?.close();

function remember<Store extends object>(store: Store, link: RedisLink): Store {
  links.set(store, link);
  return store;
}

const serverError: ErrorInfo = { code: 'SWY_ERR_TEST', status: 503, message: 'test failure', origin: 'upstream', errorClass: 'server-error', retryable: true, fallbackAllowed: true, upstreamStatus: 503 };

function eject(entry: TargetHealth, now: number): void {
  for (let i = 0; i < cooldowns.ejectAfter; i++) {
    entry.take(now);
    entry.release();
    entry.fail(now, serverError, cooldowns, now);
  }
}

/**
 * Waits for `check`, polling: the state must arrive (behaviour). The bound only keeps a broken
 * build from hanging; how fast sharing is belongs to the benchmark, not to a unit test.
 */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    assert.ok(Date.now() < deadline, `never happened: ${what}`);
    await sleep(10);
  }
}

/** Books of several instances on one prefix, subscribed. */
async function books(count: number, prefix = testPrefix()): Promise<{ books: RedisHealthBook[]; close(): Promise<void> }> {
  const made: RedisHealthBook[] = [];
  const opened: RedisLink[] = [];
  for (let i = 0; i < count; i++) {
    const link = await connectedLink({ prefix });
    opened.push(link);
    made.push(new RedisHealthBook(link));
  }
  // each subscribes on its second connection a moment after connecting
  await sleep(100);
  return { books: made, close: async () => { for (const link of opened) await link.close(); } };
}

if (redisSkip !== false) {
  test('Redis: shared health and pins', { skip: redisSkip }, () => {});
} else {
  healthStoreSuite('RedisHealthBook', async (now) => {
    const link = await connectedLink();
    return remember(new RedisHealthBook(link, now), link);
  }, { dispose });
  sessionStoreSuite('RedisSessionPins', async () => {
    const link = await connectedLink();
    return remember(new RedisSessionPins(link), link);
  }, { dispose });

  test('Redis health: an ejection on one instance takes the target out on the other, and the way back too', async () => {
    const fleet = await books(2);
    const [a, b] = fleet.books as [RedisHealthBook, RedisHealthBook];
    try {
      const onA = a.entry('openai', 0, 'key-1', 'gpt');
      const onB = b.entry('openai', 0, 'key-1', 'gpt');
      const now = Date.now();
      eject(onA, now);
      await eventually(() => onB.reason === 'ejected', 'B sees the ejection');
      assert.equal(onB.available(Date.now()), false);
      assert.ok(Math.abs(onB.until - onA.until) < 1000, 'about the same end');
      assert.equal(b.counters.ejectedEntries, 1);
      assert.equal(b.counters.ejections.size, 0, 'counted on A only');
      assert.equal(a.published, 1);
      onA.clear();
      await eventually(() => onB.reason === undefined, 'B puts it back');
      assert.equal(onB.available(Date.now()), true);
      assert.equal(b.applied, 2);
    } finally {
      await fleet.close();
    }
  });

  test('Redis health: a target out of rotation is known to an instance that connects later, and to one that had no entry for it', async () => {
    const prefix = testPrefix();
    const first = await books(1, prefix);
    try {
      const onA = first.books[0]!.entry('anthropic', 1, 'key-2', 'claude');
      eject(onA, Date.now());
      await sleep(50);
      const later = await books(1, prefix);
      try {
        const book = later.books[0]!;
        await eventually(() => book.size === 1, 'the later instance reads the fleet\'s state');
        const entry = book.entry('anthropic', 1, 'key-2', 'claude');
        assert.equal(entry.reason, 'ejected');
        assert.equal(entry.keyIndex, 1);
        assert.ok(entry.until > Date.now());
      } finally {
        await later.close();
      }
    } finally {
      await first.close();
    }
  });

  test('Redis health: one half-open probe across instances — the claim, the others keeping away, the verdict freeing them', async () => {
    const fleet = await books(3);
    const [a, b, c] = fleet.books as [RedisHealthBook, RedisHealthBook, RedisHealthBook];
    try {
      const entries = [a, b, c].map((book) => book.entry('p', 0, 'k', 'm'));
      const [onA, onB, onC] = entries as [TargetHealth, TargetHealth, TargetHealth];
      eject(onA, Date.now());
      await eventually(() => onB.reason === 'ejected' && onC.reason === 'ejected', 'every instance sees the ejection');
      // the ejection's end, as each instance's clock will see it
      const open = Math.max(...entries.map((entry) => entry.until)) + 1;
      assert.ok(entries.every((entry) => entry.halfOpen(open)));
      const claims = entries.map((entry, i) => [a, b, c][i]!.claimProbe(entry, open, 60_000));
      assert.ok(claims.every((claim) => claim instanceof Promise), 'the probe waits on the claim');
      assert.ok(entries.every((entry) => !entry.available(open)), 'nothing else goes while it is asked for');
      const won = await Promise.all(claims);
      assert.equal(won.filter(Boolean).length, 1, 'exactly one instance probes');
      const winner = won.indexOf(true);
      const prober = entries[winner]!;
      const others = entries.filter((_, i) => i !== winner);
      assert.equal(prober.available(open), true);
      assert.ok(others.every((entry) => !entry.available(open + 30_000)), 'the others keep away while the probe may run');
      assert.equal([a, b, c].reduce((sum, book) => sum + book.probesYielded, 0), 2);
      // the probe fails: ejected again for twice as long, everywhere
      prober.take(open);
      prober.release();
      prober.fail(open, serverError, cooldowns, open);
      // (the test's times run ahead of the clock: the others count the time left from their own now)
      await eventually(() => others.every((entry) => entry.ejectedBy === 'probe' && entry.until > open && entry.probeHeldUntil === 0), 'the verdict reaches the others');
      assert.ok(others.every((entry) => entry.ejectionLength === 2 * cooldowns.ejectMs), 'twice as long');
      // the next half-open phase: the claim was given back with the verdict, anyone may win it
      const next = Math.max(...entries.map((entry) => entry.until)) + 1;
      const second = await Promise.all(entries.map((entry, i) => [a, b, c][i]!.claimProbe(entry, next, 60_000)));
      assert.equal(second.filter(Boolean).length, 1);
      const prober2 = entries[second.indexOf(true)]!;
      // this probe's client leaves: no verdict, the claim is given back, another instance may probe
      prober2.take(next);
      prober2.release();
      await sleep(100);
      const other = entries.find((entry) => entry !== prober2)!;
      const book = [a, b, c][entries.indexOf(other)]!;
      const later = Math.max(other.probeHeldUntil, other.until) + 1;
      assert.equal(other.halfOpen(later), true);
      assert.equal(await book.claimProbe(other, later, 60_000), true, 'claimed again once the first probe ended without a verdict');
      // that one answers: back in rotation everywhere
      other.take(later);
      assert.equal(other.probing, true, 'it is the probe');
      other.succeed(later + 10, 10, later);
      other.release();
      await eventually(() => entries.every((entry) => entry.reason === undefined), 'back everywhere');
    } finally {
      await fleet.close();
    }
  });

  test('Redis health: a claim won for a request whose client then left is given back', async () => {
    const fleet = await books(2);
    const [a, b] = fleet.books as [RedisHealthBook, RedisHealthBook];
    try {
      const onA = a.entry('p', 0, 'k', 'm');
      const onB = b.entry('p', 0, 'k', 'm');
      eject(onA, Date.now());
      await eventually(() => onB.reason === 'ejected', 'B sees the ejection');
      const open = Math.max(onA.until, onB.until) + 1;
      assert.equal(await a.claimProbe(onA, open, 60_000), true);
      a.releaseProbe(onA);
      await sleep(50);
      assert.equal(await b.claimProbe(onB, open, 60_000), true, 'B may probe at once');
    } finally {
      await fleet.close();
    }
  });

  test('Redis pins: a session pinned through one instance is read by another; an unknown session keeps its local pin', async () => {
    const prefix = testPrefix();
    const [linkA, linkB] = [await connectedLink({ prefix }), await connectedLink({ prefix })];
    try {
      const a = new RedisSessionPins(linkA);
      const b = new RedisSessionPins(linkB);
      const now = Date.now();
      a.set('route\u0000s1', 2, 1, now + 60_000);
      await sleep(50);
      assert.equal(b.get('route\u0000s1', now), undefined, 'not yet read');
      const pending = b.fetch('route\u0000s1', Date.now(), 60_000);
      assert.ok(pending instanceof Promise);
      await pending;
      const pin = b.get('route\u0000s1', Date.now());
      assert.equal(pin?.target, 2);
      assert.equal(pin?.key, 1);
      assert.ok(pin!.expires > now + 50_000 && pin!.expires <= Date.now() + 60_000);
      b.set('route\u0000local', 1, 0, now + 60_000);
      await sleep(50);
      await linkB.client.del(linkB.key('pin', 'route\u0000local'));
      await b.fetch('route\u0000local', Date.now(), 60_000);
      assert.equal(b.get('route\u0000local', Date.now())?.target, 1);
    } finally {
      await linkA.close();
      await linkB.close();
    }
  });

  test('Redis pins: a read keeps the pin for another TTL; the reader does not write back the pin it found, but does write a new one', async () => {
    const prefix = testPrefix();
    const [linkA, linkB] = [await connectedLink({ prefix }), await connectedLink({ prefix })];
    try {
      const a = new RedisSessionPins(linkA);
      const b = new RedisSessionPins(linkB);
      const id = 'route\u0000s2';
      const pinKey = linkA.key('pin', id);
      a.set(id, 2, 1, Date.now() + 5_000);
      await sleep(50);
      assert.ok((await linkA.client.pttl(pinKey)) <= 5_000);
      await b.fetch(id, Date.now(), 60_000);
      const left = await linkA.client.pttl(pinKey);
      assert.ok(left > 50_000 && left <= 60_000, `the read renewed the pin on the server (${left} ms)`);
      // the server's copy changes behind B's back: B committing to the pin it read does not write it again
      await linkA.client.set(pinKey, '3 0', 'PX', 60_000);
      b.set(id, 2, 1, Date.now() + 60_000);
      await sleep(50);
      assert.equal(await linkA.client.get(pinKey), '3 0', 'the pin B found is not written back');
      b.set(id, 0, 0, Date.now() + 60_000);
      await sleep(50);
      assert.equal(await linkA.client.get(pinKey), '0 0', 'a pin B changed is written');
      // a session the server does not know: the pin set after the read is written
      await b.fetch('route\u0000s3', Date.now(), 60_000);
      b.set('route\u0000s3', 1, 0, Date.now() + 60_000);
      await sleep(50);
      assert.equal(await linkA.client.get(linkA.key('pin', 'route\u0000s3')), '1 0');
    } finally {
      await linkA.close();
      await linkB.close();
    }
  });

  test('Redis pins: a raised pin (a session\'s tier) only goes up on the server, whichever instance writes last', async () => {
    const prefix = testPrefix();
    const [linkA, linkB] = [await connectedLink({ prefix }), await connectedLink({ prefix })];
    try {
      const a = new RedisSessionPins(linkA);
      const b = new RedisSessionPins(linkB);
      const id = 'auto\u0000@tier\u0000s1';
      assert.equal(a.raise(id, 2, Date.now(), Date.now() + 60_000), 2);
      await sleep(50);
      // B never read it and decides lower: its own copy says 0, the server keeps 2
      assert.equal(b.raise(id, 0, Date.now(), Date.now() + 60_000), 0);
      await sleep(50);
      await b.fetch(id, Date.now(), 60_000);
      assert.equal(b.get(id, Date.now())?.target, 2, 'the fleet\'s tier did not go down');
      assert.equal(await linkA.client.get(linkA.key('pin', id)), '2 0');
      const left = await linkA.client.pttl(linkA.key('pin', id));
      assert.ok(left > 50_000 && left <= 60_000, `the lapse time is refreshed (${left} ms)`);
    } finally {
      await linkA.close();
      await linkB.close();
    }
  });
}

test('Redis health and pins: a server that cannot be reached leaves each instance on its own, synchronously', async () => {
  const link = new RedisLink({ url: 'redis://127.0.0.1:9/0', keyPrefix: testPrefix(), timeoutMs: 200, logger: quietLogger });
  try {
    await link.whenConnected(300);
    assert.equal(link.available, false);
    const book = new RedisHealthBook(link);
    const entry = book.entry('p', 0, 'k', 'm');
    const now = Date.now();
    eject(entry, now);
    assert.equal(entry.reason, 'ejected', 'ejected here');
    assert.equal(book.published, 0, 'nothing sent while the server is away');
    assert.equal(book.claimProbe(entry, entry.until, 60_000), true, 'the probe goes at once');
    const pins = new RedisSessionPins(link);
    pins.set('r\u0000s', 1, 0, now + 60_000);
    assert.equal(pins.fetch('r\u0000s', now, 60_000), undefined, 'no wait');
    assert.equal(pins.get('r\u0000s', now)?.target, 1);
  } finally {
    await link.close();
  }
});
