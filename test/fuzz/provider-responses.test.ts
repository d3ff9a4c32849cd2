// Fuzzing every provider's answer decoding: responses, streams (SSE or NDJSON, in random
// chunkings), error bodies, embeddings, token counts and model lists, all shaped like what the
// real upstreams send (the conformance upstreams' answers and recorded fixtures, mutated). Each
// gives well-formed canonical output that every surface encodes, or a typed upstream error.
import { test } from 'node:test';
import fc from 'fast-check';
import {
  checkChatResponse, checkChatStream, checkCount, checkEmbeddingsResponse, checkError, checkModelList, cuts, ndjsonStream, providers, sseStream,
} from './provider-properties.ts';
import { anyJsonText, RUNS, shapedJson } from './shapes.ts';

const statuses = fc.oneof(fc.constantFrom(400, 401, 403, 404, 408, 413, 422, 429, 500, 502, 503, 504, 529), fc.integer({ min: 400, max: 599 }));
const headers = fc.oneof(
  fc.constant({}),
  fc.record({ 'retry-after': fc.oneof(fc.constantFrom('7', '0', '-1', '1e400', 'Wed, 21 Oct 2015 07:28:00 GMT', ''), fc.string({ maxLength: 8 })) }),
);

for (const [dialect, adapter, templates] of providers) {
  if (adapter.chat !== undefined && templates.responses.length > 0) {
    test(`${dialect}: shaped responses decode to a well-formed response or a typed error`, () => {
      fc.assert(fc.property(fc.oneof(...templates.responses.map(shapedJson)), (body) => {
        checkChatResponse(dialect, adapter, body);
      }), { numRuns: RUNS.medium });
    });
  }

  const streams = [...templates.streams.map((template) => sseStream(template.events)), ...templates.lines.map(ndjsonStream)];
  if (adapter.chat !== undefined && streams.length > 0) {
    test(`${dialect}: shaped streams keep the stream contract in any chunking`, () => {
      fc.assert(fc.property(fc.oneof(...streams), cuts, (bytes, points) => {
        checkChatStream(adapter, bytes, points);
      }), { numRuns: RUNS.medium });
    });
  }

  test(`${dialect}: error answers always become a typed error`, () => {
    const bodies = fc.oneof(
      ...templates.errors.map((template) => shapedJson(JSON.parse(template.body)).map((value) => JSON.stringify(value))),
      anyJsonText,
      fc.string({ maxLength: 40 }),
    );
    fc.assert(fc.property(statuses, bodies, headers, (status, body, header) => {
      checkError(dialect, adapter, status, Buffer.from(body), header);
    }), { numRuns: RUNS.heavy });
  });

  if (adapter.embeddings !== undefined && templates.embeddings.length > 0) {
    test(`${dialect}: shaped embeddings answers decode to vectors or a typed error`, () => {
      fc.assert(fc.property(fc.oneof(...templates.embeddings.map(shapedJson)), (body) => {
        checkEmbeddingsResponse(dialect, adapter, body);
      }), { numRuns: RUNS.heavy });
    });
  }

  if (adapter.countTokens !== undefined && templates.counts.length > 0) {
    test(`${dialect}: shaped token counts decode to a count or a typed error`, () => {
      fc.assert(fc.property(fc.oneof(...templates.counts.map(shapedJson)), (body) => {
        checkCount(dialect, adapter, body);
      }), { numRuns: RUNS.heavy });
    });
  }

  if (templates.models.length > 0) {
    test(`${dialect}: shaped model lists decode to names`, () => {
      fc.assert(fc.property(fc.oneof(...templates.models.map(shapedJson)), (body) => {
        checkModelList(adapter, body);
      }), { numRuns: RUNS.heavy });
    });
  }
}
