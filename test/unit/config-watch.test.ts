import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigFile } from '../../src/config/watch.ts';

// Longer than the 150 ms debounce and the 150 ms stability check, plus fs event latency.
const SETTLE_MS = 800;

function fixture(): { dir: string; path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'swy-watch-'));
  const path = join(dir, 'switchyard.yaml');
  writeFileSync(path, 'server: { port: 1 }\n');
  return { dir, path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a write fires once, debounced', async () => {
  const { path, cleanup } = fixture();
  let calls = 0;
  const stop = watchConfigFile(path, () => calls++);
  try {
    await sleep(50);
    writeFileSync(path, 'server: { port: 2 }\n');
    writeFileSync(path, 'server: { port: 3 }\n');
    writeFileSync(path, 'server: { port: 4 }\n');
    await sleep(SETTLE_MS);
    assert.equal(calls, 1);
  } finally {
    stop();
    cleanup();
  }
});

test('an editor-style save (write a temp file, rename over) fires', async () => {
  const { dir, path, cleanup } = fixture();
  let calls = 0;
  const stop = watchConfigFile(path, () => calls++);
  try {
    await sleep(50);
    const temp = join(dir, '.switchyard.yaml.swp');
    writeFileSync(temp, 'server: { port: 5 }\n');
    renameSync(temp, path);
    await sleep(SETTLE_MS);
    assert.equal(calls, 1);
    // the watch survives the inode change
    writeFileSync(path, 'server: { port: 6 }\n');
    await sleep(SETTLE_MS);
    assert.equal(calls, 2);
  } finally {
    stop();
    cleanup();
  }
});

test('other files in the directory and unchanged rewrites are ignored', async () => {
  const { dir, path, cleanup } = fixture();
  let calls = 0;
  const stop = watchConfigFile(path, () => calls++);
  try {
    await sleep(50);
    writeFileSync(join(dir, 'other.yaml'), 'x: 1\n');
    writeFileSync(path, 'server: { port: 1 }\n');
    await sleep(SETTLE_MS);
    assert.equal(calls, 0);
  } finally {
    stop();
    cleanup();
  }
});

test('stop() ends the watch, including a pending debounce', async () => {
  const { path, cleanup } = fixture();
  let calls = 0;
  const stop = watchConfigFile(path, () => calls++);
  try {
    await sleep(50);
    writeFileSync(path, 'server: { port: 7 }\n');
    await sleep(20);
    stop();
    await sleep(SETTLE_MS);
    writeFileSync(path, 'server: { port: 8 }\n');
    await sleep(SETTLE_MS);
    assert.equal(calls, 0);
  } finally {
    stop();
    cleanup();
  }
});

test('an empty file is a save in progress: nothing fires until it has content again', async () => {
  const { path, cleanup } = fixture();
  const seen: string[] = [];
  const stop = watchConfigFile(path, () => seen.push(readFileSync(path, 'utf8')));
  try {
    await sleep(50);
    truncateSync(path, 0);
    await sleep(SETTLE_MS);
    assert.deepEqual(seen, [], 'a zero-byte file is never reported by itself');
    writeFileSync(path, 'server: { port: 9 }\n');
    await sleep(SETTLE_MS);
    assert.deepEqual(seen, ['server: { port: 9 }\n']);
    // truncated and written back unchanged: nothing changed
    truncateSync(path, 0);
    await sleep(100);
    writeFileSync(path, 'server: { port: 9 }\n');
    await sleep(SETTLE_MS);
    assert.deepEqual(seen, ['server: { port: 9 }\n']);
  } finally {
    stop();
    cleanup();
  }
});

test('a file written in pieces is reported once, whole, when it has stopped changing', async () => {
  const { path, cleanup } = fixture();
  const seen: string[] = [];
  // the pause between the pieces is longer than the debounce: only the stability check holds the first piece back
  const stop = watchConfigFile(path, () => seen.push(readFileSync(path, 'utf8')), { debounceMs: 30, settleMs: 400 });
  try {
    await sleep(50);
    writeFileSync(path, 'server:\n');
    await sleep(150);
    appendFileSync(path, '  port: 10\n');
    await sleep(1000);
    assert.deepEqual(seen, ['server:\n  port: 10\n']);
  } finally {
    stop();
    cleanup();
  }
});
