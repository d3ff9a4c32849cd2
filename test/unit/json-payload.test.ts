// A JSON body's top-level model as the gateway reads it from the bytes (pipeline/request-body.ts,
// on util/json-skim.ts) against objects whose truth is known because they are written member by
// member here: duplicates at the top level (plain or escaped), "model" members nested anywhere,
// the word in strings, escapes, whitespace — and a rename spliced into the bytes as sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonPayload } from '../../src/pipeline/request-body.ts';
import { SkimmedJson } from '../../src/util/json-skim.ts';

function renamed(body: Buffer, model: string): Buffer {
  return jsonPayload(body).forAttempt(model).body as Buffer;
}

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
  for (let seed = 1; seed <= 5000; seed++) {
    const { text, duplicate } = makeCase(seed);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const body = Buffer.from(text, 'utf8');
    const payload = jsonPayload(body);
    assert.equal(payload.count('model') > 1, duplicate, `seed ${seed}: ${text}`);
    assert.equal(payload.member('model'), parsed.model, `seed ${seed}: ${text}`);
    if (duplicate) continue;
    assert.deepEqual(JSON.parse(renamed(body, 'renamed-模型').toString('utf8')), { ...parsed, model: 'renamed-模型' }, `seed ${seed}: ${text}`);
  }
});

test('a renamed model is spliced into the bytes: everything else is kept as sent', () => {
  const text = '{ "model" : "gpt-4o",\n  "messages": [{"role":"user","content":"caf\\u00e9 \\"model\\": \\"x\\""}], "extra": 1.50 }';
  const body = Buffer.from(text, 'utf8');
  assert.deepEqual(new SkimmedJson(body).span('model'), [12, 20]);
  assert.equal(renamed(body, 'o3').toString('utf8'), text.replace('"gpt-4o"', '"o3"'));
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
    assert.equal(jsonPayload(Buffer.from(text)).count('model'), 2, text);
  }
  for (const [text, raw] of [
    ['{"model":"b","tools":[{"model":"b"},{"model":{"model":"b"}}]}', '"b"'],
    ['{"messages":[{"content":"\\"model\\":\\"a\\""}],"model":"b"}', '"b"'],
    ['{"model":"b","note":"model"}', '"b"'],
    ['{"x":{"model":"b-1"},"model":"b\\u002d1"}', '"b\\u002d1"'],
  ]) {
    const body = Buffer.from(text);
    assert.equal(jsonPayload(body).count('model'), 1, text);
    assert.equal(body.toString('utf8', ...new SkimmedJson(body).span('model')!), raw, text);
  }
});

test('a body that is not clean UTF-8 is spliced at the right place, its other bytes kept', () => {
  const invalid = Buffer.from([0xff, 0xfe]);
  const body = Buffer.concat([Buffer.from('{"messages":[{"content":"'), invalid, Buffer.from('"},{"model":"b"}],"model":"b"}')]);
  const payload = jsonPayload(body);
  assert.equal(payload.count('model'), 1);
  const spliced = renamed(body, 'c');
  assert.deepEqual(spliced, Buffer.concat([Buffer.from('{"messages":[{"content":"'), invalid, Buffer.from('"},{"model":"b"}],"model":"c"}')]));
  // a value that only decodes to the routed one (invalid bytes become U+FFFD) does not hide a copy
  const forged = Buffer.concat([Buffer.from('{"x":{"model":"a\ufffd"},"model":"evil","model":"a'), Buffer.from([0xff]), Buffer.from('"}')]);
  assert.equal(jsonPayload(forged).count('model'), 2);
});
