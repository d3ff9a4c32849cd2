import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeJsonErrorPosition } from '../../src/util/json-error.ts';

test('valid JSON has no error position', () => {
  for (const text of ['{}', '[]', ' {"a": [1, 2.5e3, -0, true, false, null, "x\\u00e9\\n"], "b": {"c": {}}} ', '"s"', '0', '[[[[]]]]']) {
    assert.equal(describeJsonErrorPosition(text), undefined, text);
  }
});

test('the first invalid character, with its line and column', () => {
  assert.equal(describeJsonErrorPosition('{"a": 1,}'), 'position 8 (line 1 column 9)');
  assert.equal(describeJsonErrorPosition('{\n  "a": tru\n}'), 'position 9 (line 2 column 8)');
  assert.equal(describeJsonErrorPosition('[1, 2'), 'position 5 (line 1 column 6)');
  assert.equal(describeJsonErrorPosition('{"a" 1}'), 'position 5 (line 1 column 6)');
  assert.equal(describeJsonErrorPosition('["\\x"]'), 'position 3 (line 1 column 4)');
  assert.equal(describeJsonErrorPosition('{} x'), 'position 3 (line 1 column 4)');
});

test('any depth of nesting is walked without recursion', () => {
  assert.equal(describeJsonErrorPosition('['.repeat(100_000)), 'position 100000 (line 1 column 100001)');
  assert.equal(describeJsonErrorPosition('{"a":'.repeat(100_000)), 'position 500000 (line 1 column 500001)');
  assert.equal(describeJsonErrorPosition(`${'['.repeat(1_000_000)}x`), 'position 1000000 (line 1 column 1000001)');
  assert.equal(describeJsonErrorPosition(`${'[{"k":'.repeat(50_000)}1${'}]'.repeat(50_000)}`), undefined);
  assert.equal(describeJsonErrorPosition(`${'['.repeat(50_000)}${']'.repeat(49_999)}}`), 'position 99999 (line 1 column 100000)');
});
