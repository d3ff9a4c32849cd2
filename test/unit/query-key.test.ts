import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryKey, withoutQueryKey } from '../../src/util/query-key.ts';
import { ClientAuth } from '../../src/pipeline/auth.ts';

test('the key parameter is dropped by its decoded name, whatever the percent-encoding or case', () => {
  for (const query of ['key=sk', '%6bey=sk', 'k%65y=sk', '%6B%65%79=sk', 'KEY=sk', 'Key=sk', 'key', 'key=']) {
    assert.equal(withoutQueryKey(query), '', query);
    assert.equal(withoutQueryKey(`beta=true&${query}`), 'beta=true', `beta=true&${query}`);
    assert.equal(withoutQueryKey(`${query}&beta=true&${query}`), 'beta=true', `${query} twice`);
  }
});

test('every other parameter is kept byte for byte', () => {
  for (const query of ['', 'beta=true', 'alt=sse&%24fields=a%20b', 'keys=1&monkey=2&key_id=3&ke%79s=4', 'a=1&&b=2', 'x=%ZZ', 'q=key%3Dsk']) {
    assert.equal(withoutQueryKey(query), query, query);
  }
  assert.equal(withoutQueryKey('alt=sse&%6bey=sk&%24fields=a%20b'), 'alt=sse&%24fields=a%20b');
});

test('auth reads the same decoded name that is dropped: whatever authenticates is never forwarded', () => {
  for (const query of ['key=sk-c', '%6bey=sk-c', 'k%65y=sk-c', 'beta=true&%6B%65%79=sk-c']) {
    assert.equal(queryKey(query), 'sk-c', query);
    assert.equal(ClientAuth.presentedKey({}, query), 'sk-c', query);
    assert.ok(!withoutQueryKey(query).includes('sk-c'), query);
  }
  // auth accepts `key` only; other cases are not keys (but are still not forwarded)
  assert.equal(queryKey('KEY=sk-c'), undefined);
  assert.equal(queryKey('key='), undefined);
});
