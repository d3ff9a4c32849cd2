// Runs the fuzz properties by hand over many samples and groups the failures by message and
// source line, instead of stopping at the first: for hunting, not for CI.
//   node test/fuzz/explore.ts [samples per case = 2000] [name filter]
import fc from 'fast-check';
import { exercise, preset, surfaces } from './surface-properties.ts';
import {
  checkChatResponse, checkChatStream, checkCount, checkEmbeddingsResponse, checkError, checkModelList, cuts, ndjsonStream, providers, sseStream,
} from './provider-properties.ts';
import { anyJsonText, shapedJson } from './shapes.ts';

const samples = Number(process.argv[2] ?? 2000);
const only = process.argv[3];
const found = new Map<string, { count: number; example: string }>();

function run<T>(name: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => void): void {
  if (only !== undefined && !name.includes(only)) return;
  for (const value of fc.sample(arbitrary, samples)) {
    try {
      check(value);
    } catch (error) {
      const failure = error as Error;
      // values and positions vary; the kind of failure does not
      const message = (failure.message.split('\n')[0] ?? '').replace(/got (\w+) .*/, 'got $1').replace(/got -?[\d.e+-]+|got -?Infinity/, 'got a bad number').replace(/part \d+/, 'part #').slice(0, 200);
      const where = (failure.stack ?? '').split('\n').find((line) => line.includes('/src/'))?.trim().replace(/^at /, '').replace(/file:\/\/\S*?\/src\//, 'src/') ?? '';
      const key = `${name} | ${message} | ${where}`;
      const entry = found.get(key) ?? { count: 0, example: JSON.stringify(value, (_key, item: { type?: unknown; data?: number[] } | null) => (item?.type === 'Buffer' && Array.isArray(item.data) ? Buffer.from(item.data).toString() : item))?.slice(0, 400) ?? '' };
      entry.count++;
      found.set(key, entry);
    }
  }
}

for (const [surface, templates] of surfaces) {
  const sample = fc.oneof(...templates.map((template) => shapedJson(template.body).map((body) => ({ template, body }))));
  run(`surface ${surface.name}`, fc.tuple(sample, preset), ([{ template, body }, presetName]) => exercise(surface, template, body, presetName));
}
for (const [dialect, adapter, templates] of providers) {
  if (adapter.chat !== undefined && templates.responses.length > 0) run(`${dialect} response`, fc.oneof(...templates.responses.map(shapedJson)), (body) => checkChatResponse(dialect, adapter, body));
  const streams = [...templates.streams.map((template) => sseStream(template.events)), ...templates.lines.map(ndjsonStream)];
  if (adapter.chat !== undefined && streams.length > 0) run(`${dialect} stream`, fc.tuple(fc.oneof(...streams), cuts), ([bytes, points]) => checkChatStream(adapter, bytes, points));
  if (templates.errors.length > 0) {
    const bodies = fc.oneof(...templates.errors.map((template) => shapedJson(JSON.parse(template.body)).map((value) => JSON.stringify(value))), anyJsonText);
    run(`${dialect} error`, fc.tuple(fc.integer({ min: 400, max: 599 }), bodies), ([status, body]) => checkError(dialect, adapter, status, Buffer.from(body), {}));
  }
  if (adapter.embeddings !== undefined && templates.embeddings.length > 0) run(`${dialect} embeddings`, fc.oneof(...templates.embeddings.map(shapedJson)), (body) => checkEmbeddingsResponse(dialect, adapter, body));
  if (adapter.countTokens !== undefined && templates.counts.length > 0) run(`${dialect} count`, fc.oneof(...templates.counts.map(shapedJson)), (body) => checkCount(dialect, adapter, body));
  if (templates.models.length > 0) run(`${dialect} models`, fc.oneof(...templates.models.map(shapedJson)), (body) => checkModelList(adapter, body));
}

for (const [key, { count, example }] of [...found].sort()) console.log(`${count} × ${key}\n    ${example}`);
console.log(found.size === 0 ? 'no failures' : `${found.size} distinct failures`);
