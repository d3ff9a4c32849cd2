// The Redis/Valkey server of the shared-state tests: SWITCHYARD_TEST_REDIS_URL (.ci/run installs
// Debian's redis-server, starts it on a free loopback port and sets it). Without the variable the
// tests are skipped, saying how to run them; with it, a server that cannot be reached fails them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RedisLink } from '../../src/state/redis-link.ts';

export const redisUrl = process.env.SWITCHYARD_TEST_REDIS_URL;

/** The `skip` option of a test that needs the server. */
export const redisSkip: string | false = redisUrl === undefined
  ? 'SWITCHYARD_TEST_REDIS_URL is not set: `apt-get install redis-server` (or Valkey), start it on loopback and set SWITCHYARD_TEST_REDIS_URL=redis://127.0.0.1:6379 (.ci/run does this)'
  : false;

/** A key prefix no other test uses. */
export function testPrefix(): string {
  return `switchyard-test:${randomBytes(6).toString('hex')}:`;
}

export const quietLogger = { warn: () => {}, info: () => {} };

/** A link to the test server under a fresh prefix, connected (fails when the server cannot be reached). */
export async function connectedLink(options: { prefix?: string; leaseMs?: number; timeoutMs?: number } = {}): Promise<RedisLink> {
  const link = new RedisLink({ url: redisUrl!, keyPrefix: options.prefix ?? testPrefix(), timeoutMs: options.timeoutMs ?? 2000, logger: quietLogger, ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}) });
  await link.whenConnected(5000);
  assert.ok(link.available, `the Redis server at ${redisUrl} could not be reached`);
  return link;
}
