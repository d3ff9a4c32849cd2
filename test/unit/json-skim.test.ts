// The skim's verdict and values against JSON.parse of the decoded text (what decode did before).
// The skim checks structure exactly and a string's characters only when it decodes the string, so:
// whatever JSON.parse accepts the skim accepts, with the same members; whatever the skim accepts,
// JSON.parse accepts once the strings the skim did not decode are emptied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SkimmedJson } from '../../src/util/json-skim.ts';

function reference(bytes: Buffer | string): { valid: boolean; value: unknown } {
  try {
    return { valid: true, value: JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8')) };
  } catch {
    return { valid: false, value: undefined };
  }
}

/** The text with every string that is not a top-level key emptied (a string ends at the first unescaped quote, as for every parser). */
function withStringsEmptied(bytes: Buffer): Buffer {
  const out: number[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes[i]!;
    if (code !== 0x22) {
      if (code === 0x7b) expectKey = ++depth === 1;
      else if (code === 0x5b) depth++;
      else if (code === 0x7d || code === 0x5d) depth--;
      else if (code === 0x2c && depth === 1) expectKey = true;
      out.push(code);
      continue;
    }
    let end = i + 1;
    for (;;) {
      while (end < bytes.length && bytes[end] !== 0x22) end++;
      let slashes = 0;
      while (bytes[end - 1 - slashes] === 0x5c) slashes++;
      if (end >= bytes.length || (slashes & 1) === 0) break;
      end++;
    }
    if (expectKey) for (let k = i; k <= end && k < bytes.length; k++) out.push(bytes[k]!);
    else out.push(0x22, 0x22);
    expectKey = false;
    i = end;
  }
  return Buffer.from(out);
}

function agrees(bytes: Buffer): void {
  const skimmed = new SkimmedJson(bytes);
  const expected = reference(bytes);
  const shown = JSON.stringify(bytes.toString('latin1'));
  if (expected.valid) assert.equal(skimmed.valid, true, `JSON.parse accepts ${shown}`);
  else if (skimmed.valid) assert.equal(reference(withStringsEmptied(bytes)).valid, true, `only a string's characters may be wrong in ${shown}`);
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

test('mangled JSON: refused where JSON.parse refuses its structure', () => {
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

test("a string's characters are judged only when it is read; its extent always", () => {
  // not read by the gateway: the same-dialect upstream judges the characters
  for (const text of ['{"model":"m","a":"\\x"}', '{"model":"m","a":"tab\there"}', '{"model":"m","a":["\\u12zz"]}']) {
    assert.equal(new SkimmedJson(Buffer.from(text)).valid, true, text);
  }
  const unread = new SkimmedJson(Buffer.from('{"model":"m","a":"bad \\q escape"}'));
  assert.equal(unread.valid, true);
  assert.throws(() => unread.value('a'), SyntaxError);
  // read by the gateway: exact, as JSON.parse
  assert.equal(new SkimmedJson(Buffer.from('{"mo\\qdel":"m"}')).valid, false);
  assert.throws(() => new SkimmedJson(Buffer.from('{"model":"a\u0001b"}')).value('model'), SyntaxError);
  // an escape JSON.parse refuses: the upstream's strict parser refuses it too; a string's end stays
  // where every strict parser finds it (a short \u cannot hide a quote from them)
  for (const text of ['{"a":"\\u","model":"m"}', '{"a":"x\\u00e","model":"m"}']) {
    const skimmed = new SkimmedJson(Buffer.from(text));
    assert.equal(skimmed.valid, true, text);
    assert.deepEqual(skimmed.keys, ['a', 'model']);
  }
  assert.equal(new SkimmedJson(Buffer.from('{"a":"\\\\u0","model":"m"}')).valid, true); // an escaped backslash, then text
  assert.equal(new SkimmedJson(Buffer.from('{"a":"\\u00e9","model":"m"}')).valid, true);
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

test('a shape reads only its members: kinds as empty values (a list: empty or not), nested shapes element by element', () => {
  assert.deepEqual(new SkimmedJson(Buffer.from('{"a":[ ],"b":[0],"c":"x","d":{"e":1}}')).skim({ a: 'kind', b: 'kind', c: 'kind', d: 'kind' }), { a: [], b: [undefined], c: '', d: {} });
  const body = Buffer.from(JSON.stringify({
    model: 'm', tools: [{ type: 'function' }], n: 2,
    messages: [{ role: 'user', content: 'long text' }, { role: 'assistant', content: [{ type: 'text' }] }, 'odd', { role: 7, content: null }],
  }));
  const skimmed = new SkimmedJson(body);
  assert.deepEqual(skimmed.skim({ model: 'value', n: 'kind', messages: { role: 'value', content: 'kind' } }), {
    model: 'm', n: 2, messages: [{ role: 'user', content: '' }, { role: 'assistant', content: [undefined] }, '', { role: 7, content: null }],
  });
});
