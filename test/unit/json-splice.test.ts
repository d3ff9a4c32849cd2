// The top-level model found in the bytes (quick path and exact scan alike) against objects whose
// truth is known because they are written member by member here: duplicates at the top level
// (plain or escaped), "model" members nested anywhere, the word in strings, escapes, whitespace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTopLevelString, replaceTopLevelString } from '../../src/util/json-splice.ts';

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['model', 'gpt-4o', 'claude "x"', 'say \\"model\\"', 'naïve 模型 😀', 'a\\b', 'm', 'model"', '', 'line\nbreak'];

function writer(next: () => number) {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const space = () => pick(['', '', ' ', '\n  ', '\t']);
  /** A string literal, sometimes with needless escapes (as some clients write them). */
  const literal = (value: string): string => {
    const plain = JSON.stringify(value);
    if (next() < 0.8) return plain;
    return plain.replace(/[a-z-]/g, (char) => (next() < 0.3 ? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}` : char));
  };
  const value = (depth: number): string => {
    const roll = next();
    if (depth > 3 || roll < 0.35) return pick([literal(pick(WORDS)), '1', 'true', 'null', '-2.5e3']);
    if (roll < 0.65) return `[${space()}${Array.from({ length: Math.floor(next() * 4) }, () => value(depth + 1)).join(`,${space()}`)}${space()}]`;
    const members = Array.from({ length: Math.floor(next() * 4) }, () => `${literal(pick(['model', 'role', 'content', 'type']))}${space()}:${space()}${value(depth + 1)}`);
    return `{${space()}${members.join(`,${space()}`)}${space()}}`;
  };
  return { pick, space, literal, value };
}

interface Case { text: string; duplicate: boolean; model: string }

/** A top-level object with one or more `model` members (the truth is kept) among other members. */
function makeCase(seed: number): Case {
  const next = random(seed);
  const w = writer(next);
  const members: string[] = [];
  let copies = 0;
  let model = '';
  const count = 1 + Math.floor(next() * 5);
  for (let i = 0; i < count; i++) {
    members.push(`${w.literal(w.pick(['messages', 'tools', 'metadata', 'temperature']))}${w.space()}:${w.space()}${w.value(0)}`);
    if (i === 0 || next() < 0.15) {
      model = w.pick(['gpt-4o', 'claude-sonnet-4-5', 'model', 'naïve 模型 😀']);
      members.push(`${w.literal('model')}${w.space()}:${w.space()}${w.literal(model)}`);
      copies++;
    }
  }
  // the model member somewhere among the others (first, middle or last)
  const order = next() < 0.5 ? members : [...members].sort(() => next() - 0.5);
  return { text: `${w.space()}{${w.space()}${order.join(`,${w.space()}`)}${w.space()}}`, duplicate: copies > 1, model };
}

test('finds the top-level model and any second copy of it, whatever surrounds them', () => {
  let quick = 0;
  let exact = 0;
  for (let seed = 1; seed <= 5000; seed++) {
    const { text, duplicate } = makeCase(seed);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const body = Buffer.from(text, 'utf8');
    const found = findTopLevelString(body, text, 'model', parsed.model as string);
    assert.equal(found.duplicate, duplicate, `seed ${seed}: ${text}`);
    if (duplicate) continue;
    // the exact scan says where in the text (`chars`); the quick path only where in the bytes
    if (found.chars === undefined) quick++;
    else exact++;
    const renamed = replaceTopLevelString(body, found, parsed, 'model', 'renamed-模型');
    assert.deepEqual(JSON.parse(renamed.toString('utf8')), { ...parsed, model: 'renamed-模型' }, `seed ${seed}: ${text}`);
  }
  assert.ok(quick > 500 && exact > 500, `both paths exercised (quick ${quick}, exact ${exact})`);
});

test('a renamed model is spliced into the bytes: everything else is kept as sent', () => {
  const text = '{ "model" : "gpt-4o",\n  "messages": [{"role":"user","content":"caf\\u00e9 \\"model\\": \\"x\\""}], "extra": 1.50 }';
  const body = Buffer.from(text, 'utf8');
  const found = findTopLevelString(body, text, 'model', 'gpt-4o');
  assert.deepEqual(found.span, [12, 20]);
  assert.equal(replaceTopLevelString(body, found, JSON.parse(text), 'model', 'o3').toString('utf8'), text.replace('"gpt-4o"', '"o3"'));
});

test('duplicates written with escapes, after nested copies, or with the same value are found', () => {
  for (const text of [
    '{"model":"a","messages":[],"model":"b"}',
    '{"model":"b","messages":[],"model":"b"}',
    '{"model":"a","mod\\u0065l":"b"}',
    '{"m\\u006Fdel":"a","model":"b"}',
    '{"tools":[{"model":"b"}],"model":{"x":1},"model":"b"}',
    '{"model":["x"],"messages":[{"model":"b"}],"model":"b"}',
    '{"model":"a" , "model" :"b"}',
    '{"x":{"model":"gpt-4"},"model":"evil","model":"gpt\\u002d4"}',
  ]) {
    const parsed = JSON.parse(text) as { model: string };
    assert.equal(findTopLevelString(Buffer.from(text), text, 'model', parsed.model).duplicate, true, text);
  }
  for (const [text, raw] of [
    ['{"model":"b","tools":[{"model":"b"},{"model":{"model":"b"}}]}', '"b"'],
    ['{"messages":[{"content":"\\"model\\":\\"a\\""}],"model":"b"}', '"b"'],
    ['{"model":"b","note":"model"}', '"b"'],
    ['{"x":{"model":"b-1"},"model":"b\\u002d1"}', '"b\\u002d1"'],
  ]) {
    const parsed = JSON.parse(text) as { model: string };
    const found = findTopLevelString(Buffer.from(text), text, 'model', parsed.model);
    assert.equal(found.duplicate, false, text);
    assert.equal(text.slice(...(found.span ?? found.chars)!), raw, text);
  }
});

test('a body that is not clean UTF-8 is re-serialised rather than spliced at the wrong place', () => {
  const body = Buffer.concat([Buffer.from('{"messages":[{"content":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"},{"model":"b"}],"model":"b"}')]);
  const text = body.toString('utf8');
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const found = findTopLevelString(body, text, 'model', 'b');
  assert.equal(found.duplicate, false);
  const renamed = JSON.parse(replaceTopLevelString(body, found, parsed, 'model', 'c').toString('utf8'));
  assert.deepEqual(renamed, { ...parsed, model: 'c' });
  // a value that only decodes to the routed one (invalid bytes become U+FFFD) does not hide a copy
  const forged = Buffer.concat([Buffer.from('{"x":{"model":"a\ufffd"},"model":"evil","model":"a'), Buffer.from([0xff]), Buffer.from('"}')]);
  const forgedText = forged.toString('utf8');
  assert.equal(findTopLevelString(forged, forgedText, 'model', (JSON.parse(forgedText) as { model: string }).model).duplicate, true);
});
