import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonAccessLog, type AccessRecord } from '../../src/observability/access-log.ts';

const base: AccessRecord = {
  id: 'req-1', method: 'POST', path: '/v1/chat/completions', surface: 'openai-chat', status: 200,
  model: 'fast', provider: 'local', upstreamModel: 'llama3.2', upstreamStatus: 200, attempts: 1, stream: true,
  durationMs: 12.3456, upstreamHeadersMs: 10.004, firstByteMs: 10.2, key: 'key-1a2b3c4d', error: undefined, aborted: false,
  fallback: '', dropped: '', failures: undefined, usage: undefined, costUsd: undefined,
};

function lineOf(record: AccessRecord): Record<string, unknown> {
  const lines: string[] = [];
  new JsonAccessLog({ write: (line: string) => lines.push(line) }).record(record);
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('\n'), 'one line per record');
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

test('an access line has the same shape as a pino line: level, time, pid, fields, msg', () => {
  const line = lineOf(base);
  assert.equal(line.level, 30);
  assert.equal(typeof line.time, 'number');
  assert.equal(line.pid, process.pid);
  assert.equal(line.msg, 'request');
  assert.deepEqual({ ...line, time: 0 }, {
    level: 30, time: 0, pid: process.pid, id: 'req-1', method: 'POST', path: '/v1/chat/completions', surface: 'openai-chat', status: 200,
    model: 'fast', provider: 'local', upstream_model: 'llama3.2', upstream_status: 200, attempts: 1, stream: true,
    duration_ms: 12.35, upstream_headers_ms: 10, first_byte_ms: 10.2, key: 'key-1a2b3c4d', msg: 'request',
  });
});

test('empty fields are left out; errors and aborts are named', () => {
  const line = lineOf({ ...base, model: '', provider: '', upstreamModel: '', upstreamStatus: 0, upstreamHeadersMs: 0, firstByteMs: 0, key: '', surface: undefined, status: 404, error: 'SWY_ERR_ROUTING_MODEL_NOT_FOUND', aborted: true });
  for (const absent of ['model', 'provider', 'upstream_model', 'upstream_status', 'upstream_headers_ms', 'first_byte_ms', 'key', 'surface', 'tokens', 'cost_usd']) assert.ok(!(absent in line), absent);
  assert.equal(line.error, 'SWY_ERR_ROUTING_MODEL_NOT_FOUND');
  assert.equal(line.aborted, true);
});

test('a fallback that answered and the attempts that failed before it are named', () => {
  const line = lineOf({ ...base, attempts: 3, fallback: 'cheap', failures: ['main/gpt-x:503', 'main/gpt-x:503'] });
  assert.equal(line.fallback, 'cheap');
  assert.deepEqual(line.failed_attempts, ['main/gpt-x:503', 'main/gpt-x:503']);
  assert.equal(line.attempts, 3);
});

test('what the unsupported_tools policy dropped is named', () => {
  assert.equal(lineOf({ ...base, dropped: 'tools.web_search,context_management' }).dropped, 'tools.web_search,context_management');
  assert.equal('dropped' in lineOf(base), false, 'left out when nothing was dropped');
});

test('client-influenced text cannot break the line', () => {
  const line = lineOf({ ...base, path: '/v1/"}\n{"evil":1', model: 'a"b\\c\u2028' });
  assert.equal(line.path, '/v1/"}\n{"evil":1');
  assert.equal(line.model, 'a"b\\c\u2028');
});

test('tokens and cost are logged when known; cost to a billionth of a dollar', () => {
  const line = lineOf({ ...base, usage: { inputTokens: 1200, outputTokens: 300, cachedInputTokens: 1000, reasoningTokens: 120 }, costUsd: 0.0012345678912 });
  assert.deepEqual(line.tokens, { in: 1200, out: 300, cached: 1000, reasoning: 120 });
  assert.equal(line.cost_usd, 0.001234568);
  const bare = lineOf({ ...base, usage: { inputTokens: 5, outputTokens: 7 }, costUsd: 0 });
  assert.deepEqual(bare.tokens, { in: 5, out: 7, cached: 0, reasoning: 0 });
  assert.equal(bare.cost_usd, 0);
  const unpriced = lineOf({ ...base, usage: { inputTokens: 5, outputTokens: 7 } });
  assert.ok(!('cost_usd' in unpriced));
});
