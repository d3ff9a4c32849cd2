import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePathSegment, modelIdParams } from '../../src/util/path-segment.ts';

test('a path segment is percent-decoded, and kept as written when an escape is malformed', () => {
  assert.equal(decodePathSegment('qwen3%3A8b'), 'qwen3:8b');
  assert.equal(decodePathSegment('bad%zzescape'), 'bad%zzescape');
  assert.deepEqual(modelIdParams('gpt-4o%2Fmini'), { id: 'gpt-4o/mini' });
  assert.equal(modelIdParams(''), undefined);
});
