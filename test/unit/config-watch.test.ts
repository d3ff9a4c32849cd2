import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchConfigFile } from '../../src/config/watch.ts';

// Longer than the 150 ms debounce plus fs event latency.
const SETTLE_MS = 500;

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
