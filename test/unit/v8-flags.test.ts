// The V8 flags bin/switchyard.js sets at start (bin/v8-flags.js): the ones this V8 knows, and a
// flag the user gave node on its command line is left to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFlags as flags } from '../../bin/v8-flags.js';

test('old space grows 2× per full collection (peak RSS under load), Buffers count toward the heap limit on V8 13.6+', () => {
  assert.deepEqual(flags('13.6.233.17-node.53', []), ['--external-memory-accounted-in-global-limit', '--heap-growing-percent=100']);
  assert.deepEqual(flags('12.4.254.21-node.33', ['--max-semi-space-size=16']), ['--heap-growing-percent=100']);
});

test('a flag given to node itself wins, in either spelling, and its negation too', () => {
  assert.deepEqual(flags('13.6.233.17-node.53', ['--heap-growing-percent=50']), ['--external-memory-accounted-in-global-limit']);
  assert.deepEqual(flags('13.6.233.17-node.53', ['--heap_growing_percent=0', '--no-external-memory-accounted-in-global-limit']), []);
});

test('this node knows every flag: the command starts without a word on stderr', () => {
  const bin = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));
  const run = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, '');
  assert.match(run.stdout, /^\d+\.\d+\.\d+/);
});
