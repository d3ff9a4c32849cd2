import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultMaxConnections, openFileLimit } from '../../src/server/connection-cap.ts';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            20000                40000                files
Max locked memory         8388608              8388608              bytes
`;

test('the open-file limit is the soft limit /proc reports; unreadable or odd files give undefined', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-limits-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.equal(openFileLimit(file('linux', LIMITS)), 20000);
  assert.equal(openFileLimit(file('unlimited', LIMITS.replace('20000', 'unlimited'))), Number.MAX_SAFE_INTEGER);
  assert.equal(openFileLimit(file('other', 'nothing here\n')), undefined);
  assert.equal(openFileLimit(join(dir, 'missing')), undefined);
  if (process.platform === 'linux') assert.ok((openFileLimit() ?? 0) > 0, 'this process has a limit');
});

test('the default cap leaves room for an upstream socket per connection and a reserve, within bounds', () => {
  assert.equal(defaultMaxConnections(1024), 448);
  assert.equal(defaultMaxConnections(20000), 9936);
  assert.equal(defaultMaxConnections(Number.MAX_SAFE_INTEGER), 65536);
  assert.equal(defaultMaxConnections(100), 32);
  assert.ok(defaultMaxConnections() >= 32);
});

test('server timeouts: the defaults, explicit values, and a request timeout shorter than the headers one refused', () => {
  const defaults = parseConfigText('{}\n', 'switchyard.yaml', {}).config.server;
  assert.equal(defaults.headersTimeoutMs, 10_000);
  assert.equal(defaults.requestTimeoutMs, 120_000);
  assert.equal(defaults.maxConnections, undefined, 'derived at start');
  const set = parseConfigText('server:\n  headers_timeout_ms: 2000\n  request_timeout_ms: 0\n  max_connections: 500\n', 'switchyard.yaml', {}).config.server;
  assert.deepEqual([set.headersTimeoutMs, set.requestTimeoutMs, set.maxConnections], [2000, 0, 500]);
  for (const [text, pattern] of [
    ['server:\n  request_timeout_ms: 5000\n', /server\.request_timeout_ms: must be at least server\.headers_timeout_ms \(10000\)/],
    ['server:\n  headers_timeout_ms: 3000\n  request_timeout_ms: 2000\n', /must be at least server\.headers_timeout_ms \(3000\)/],
    ['server:\n  max_connections: 0\n', /server\.max_connections/],
  ] as const) {
    assert.throws(() => parseConfigText(text, 'switchyard.yaml', {}), (error: unknown) => error instanceof ConfigError && pattern.test(error.problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n')));
  }
});
