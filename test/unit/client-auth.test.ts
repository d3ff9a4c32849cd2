import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientAuth } from '../../src/pipeline/auth.ts';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

function refused(auth: ClientAuth, key: string): string {
  try {
    auth.authenticate(bearer(key), '');
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 401);
    return error.code;
  }
  assert.fail(`'${key}' was accepted`);
}

test('an accepted key keeps its identity on every request, and each configured key has its own', () => {
  const auth = new ClientAuth(['sk-one', 'sk-two']);
  const first = auth.authenticate(bearer('sk-one'), '');
  assert.match(first.keyId, /^key-[0-9a-f]{8}$/);
  for (let i = 0; i < 5; i++) assert.deepEqual(auth.authenticate(bearer('sk-one'), ''), first);
  assert.deepEqual(auth.authenticate({ 'x-api-key': 'sk-one' }, ''), first, 'the same key in another header');
  const second = auth.authenticate(bearer('sk-two'), '');
  assert.notEqual(second.keyId, first.keyId);
});

test('a remembered key does not let near misses in: prefixes, extensions, other case, other keys', () => {
  const auth = new ClientAuth(['sk-secret']);
  auth.authenticate(bearer('sk-secret'), '');
  for (const guess of ['sk-secre', 'sk-secret1', 'SK-SECRET', ' sk-secret-', 'sk-other']) {
    assert.equal(refused(auth, guess), ErrorCode.invalidKey, guess);
  }
  assert.equal(auth.authenticate(bearer('sk-secret'), '').keyId.length, 12, 'still accepted afterwards');
});

test('a new config (a new ClientAuth) forgets keys that were removed', () => {
  const before = new ClientAuth(['sk-old']);
  before.authenticate(bearer('sk-old'), '');
  const after = new ClientAuth(['sk-new']);
  assert.equal(refused(after, 'sk-old'), ErrorCode.invalidKey);
});
