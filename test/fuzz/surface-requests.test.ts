// Fuzzing every surface's request decoding: JSON shaped like the real requests of its dialect
// (the conformance clients' and recorded ones, their fields kept, replaced by arbitrary values or
// dropped) must be refused by inspect() or decodeRequest() with a typed 400, or become a
// well-formed canonical request that every provider can encode (or refuse with a typed 4xx).
// Nothing else may be thrown: anything else would be a 500, or worse.
import { test } from 'node:test';
import fc from 'fast-check';
import { exercise, preset, surfaces } from './surface-properties.ts';
import { RUNS, shapedJson } from './shapes.ts';

for (const [surface, templates] of surfaces) {
  const chat = surface.operation === 'chat';
  test(`${surface.name}: shaped requests give a canonical request or a typed 400`, () => {
    const sample = fc.oneof(...templates.map((template) => shapedJson(template.body).map((body) => ({ template, body }))));
    fc.assert(fc.property(sample, preset, ({ template, body }, presetName) => {
      exercise(surface, template, body, presetName);
    }), { numRuns: chat ? RUNS.medium : RUNS.heavy });
  });
}

test('every surface: a body that is not an object is refused with a typed 400', () => {
  const anything = fc.oneof(fc.constant(null), fc.boolean(), fc.double(), fc.string(), fc.array(fc.jsonValue(), { maxLength: 3 }));
  fc.assert(fc.property(fc.constantFrom(...surfaces.keys()), anything, (surface, body) => {
    const template = surfaces.get(surface)![0]!;
    exercise(surface, template, body, undefined);
  }), { numRuns: RUNS.medium });
});
