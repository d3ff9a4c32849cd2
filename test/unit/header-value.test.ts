import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHeaderValue } from 'node:http';
import { headerSafe, makeHeadersSafe } from '../../src/util/header-value.ts';

test('visible ASCII (and tab) is written as it is, % included', () => {
  for (const value of ['gpt-4o', 'claude-sonnet-4(high)', 'a b', 'text/event-stream; charset=utf-8', '100%', 'a\tb', '']) assert.equal(headerSafe(value), value);
});

test('anything else is percent-encoded UTF-8, and decodes back to the original', () => {
  assert.equal(headerSafe('模型'), '%E6%A8%A1%E5%9E%8B');
  assert.equal(headerSafe('a😀b'), 'a%F0%9F%98%80b');
  assert.equal(headerSafe('50% of 模'), '50%25 of %E6%A8%A1', 'once anything is encoded, % is too, so the value decodes unambiguously');
  for (const value of ['模型', 'a😀b', 'café', 'x\r\ny', 'nul\u0000', 'del\u007f', 'c1\u0085', '%模']) {
    const safe = headerSafe(value);
    assert.doesNotThrow(() => validateHeaderValue('x-test', safe), value);
    assert.match(safe, /^[\x20-\x7e]*$/);
    assert.equal(decodeURIComponent(safe), value);
  }
});

test('a lone surrogate becomes U+FFFD instead of throwing', () => {
  assert.equal(headerSafe('a\ud800b'), 'a%EF%BF%BDb');
});

test('makeHeadersSafe changes values only, in place', () => {
  const headers = ['x-switchyard-model', '模', 'content-type', 'application/json'];
  assert.equal(makeHeadersSafe(headers), headers);
  assert.deepEqual(headers, ['x-switchyard-model', '%E6%A8%A1', 'content-type', 'application/json']);
});
