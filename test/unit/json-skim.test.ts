// The skim's verdict and values against JSON.parse of the decoded text (what decode did before).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SkimmedJson } from '../../src/util/json-skim.ts';

function reference(bytes: Buffer): { valid: boolean; value: unknown } {
  try {
    return { valid: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch {
    return { valid: false, value: undefined };
  }
}

function agrees(bytes: Buffer): void {
  const skimmed = new SkimmedJson(bytes);
  const expected = reference(bytes);
  assert.equal(skimmed.valid, expected.valid, `verdict on ${JSON.stringify(bytes.toString('latin1'))}`);
  if (!expected.valid) return;
  const value = expected.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    assert.equal(skimmed.keys.length, 0);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) assert.deepEqual(skimmed.value(key), record[key], `member ${key}`);
  const shape = Object.fromEntries(Object.keys(record).map((key) => [key, 'value' as const]));
  assert.deepEqual(skimmed.skim(shape), record);
}

const json = fc.jsonValue({ maxDepth: 4 });
const spaces = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');

test('valid JSON (compact, pretty, with top-level objects) reads as JSON.parse reads it', () => {
  fc.assert(fc.property(fc.dictionary(fc.string(), json), fc.boolean(), (object, pretty) => {
    agrees(Buffer.from(JSON.stringify(object, null, pretty ? 2 : undefined), 'utf8'));
  }), { numRuns: 400 });
  fc.assert(fc.property(json, spaces, spaces, (value, before, after) => {
    agrees(Buffer.from(before + JSON.stringify(value) + after, 'utf8'));
  }), { numRuns: 300 });
});

test('mangled JSON gets the same verdict as JSON.parse', () => {
  const alphabet = fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', ' ', '\n', 'u', '0', '1', '-', '.', 'e', 'E', '+', 't', 'r', 'f', 'n', 'l', 'a', 's', 'x', '\u0001', '\u00e9', '\ufeff');
  fc.assert(fc.property(json, fc.nat(), fc.array(alphabet, { maxLength: 3 }), fc.nat(3), (value, at, insert, removed) => {
    const text = JSON.stringify({ model: 'm', value });
    const cut = at % (text.length + 1);
    agrees(Buffer.from(text.slice(0, cut) + insert.join('') + text.slice(cut + removed), 'utf8'));
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => agrees(Buffer.from(bytes))), { numRuns: 2000 });
});

test('edge cases', () => {
  const cases = [
    '', ' ', '{}', '[]', '{"a":1}', '\ufeff{"a":1}', '{"a":1,}', '{"a" 1}', '{,"a":1}', '[1,]', '01', '-0', '1.', '.5', '1e', '1e+', '1E-2', '-',
    '"\\u12"', '"\\u00e9"', '"\\x"', '"a\u0000"', '"\t"', '{"a":"\\""}', '{"a":"\\\\"}', '{"a":"x\\\\\\"y"}', 'tru', 'nul', 'falsey', 'true false',
    '{"model":"a","model":"b"}', '{"m\\u006fdel":"a","model":"b"}', '{"__proto__":{"x":1}}', '{"a":[[[[[]]]]],"b":{"c":{"d":{}}}}',
    ' \n\t\r{ "a" : [ 1 , 2 ] , "b" : null } \n',
  ];
  for (const text of cases) agrees(Buffer.from(text, 'utf8'));
  // bytes that are not UTF-8: allowed in strings (they decode to U+FFFD), nowhere else
  agrees(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xc3, 0x22, 0x7d]));
  agrees(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d]));
  agrees(Buffer.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]));
});

test('nesting far deeper than any recursion would survive', () => {
  // (the values are not compared deeply: assert's own comparison recurses)
  const depth = 200_000;
  const deep = Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth)},"model":"m"}`);
  assert.equal(reference(deep).valid, true);
  assert.equal(new SkimmedJson(deep).valid, true);
  assert.equal(new SkimmedJson(deep).value('model'), 'm');
  const unclosed = Buffer.from(`{"a":${'['.repeat(depth)}${']'.repeat(depth - 1)}}`);
  assert.equal(reference(unclosed).valid, false);
  assert.equal(new SkimmedJson(unclosed).valid, false);
});

test('a body inside a larger buffer, at any alignment, reads the same', () => {
  const text = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'a "quoted" \\ line\nnext — naïve' }], stream: true });
  for (let offset = 0; offset < 8; offset++) {
    const backing = Buffer.alloc(text.length * 2 + 16, 0x01);
    const written = backing.write(text, offset, 'utf8');
    agrees(backing.subarray(offset, offset + written));
  }
});

test('a duplicate key is listed twice; the last copy is the value', () => {
  const skimmed = new SkimmedJson(Buffer.from('{"model":"a","m\\u006fdel":"b","stream":true}'));
  assert.equal(skimmed.count('model'), 2);
  assert.equal(skimmed.value('model'), 'b');
  const span = skimmed.span('model')!;
  assert.equal(skimmed.bytes.toString('utf8', span[0], span[1]), '"b"');
});

test('a shape reads only its members: kinds as empty values, nested shapes element by element', () => {
  const body = Buffer.from(JSON.stringify({
    model: 'm', tools: [{ type: 'function' }], n: 2,
    messages: [{ role: 'user', content: 'long text' }, { role: 'assistant', content: [{ type: 'text' }] }, 'odd', { role: 7, content: null }],
  }));
  const skimmed = new SkimmedJson(body);
  assert.deepEqual(skimmed.skim({ model: 'value', n: 'kind', messages: { role: 'value', content: 'kind' } }), {
    model: 'm', n: 2, messages: [{ role: 'user', content: '' }, { role: 'assistant', content: [] }, '', { role: 7, content: null }],
  });
});
