// The Gemini CLI driver against a stand-in for `gemini --acp` (test/fixtures/agent-clis/
// fake-gemini-acp.mjs) that misbehaves on cue: what the real CLI does not do on demand. Runs
// without the real CLI. Proves: a CLI that ignores a cancel is ended with everything it started;
// a crash mid-answer is an error with the stderr tail (keys redacted), never a clean end; the
// driver approves nothing and lends no file access; odd stop reasons are errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { AgentCliDriver } from '../../src/agent-clis/driver.ts';
import { createGeminiCliDriver } from '../../src/agent-clis/gemini-cli/index.ts';

const fake = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'agent-clis', 'fake-gemini-acp.mjs');
const KEY = 'fake-key-0123456789';

let root: string;
let driver: AgentCliDriver;

interface Run {
  parts: StreamPart[];
  done: Promise<void>;
  firstText: Promise<void>;
}

function start(text: string, signal: AbortSignal = new AbortController().signal): Run {
  const parts: StreamPart[] = [];
  let finish!: () => void;
  let textSeen!: () => void;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  const firstText = new Promise<void>((resolve) => { textSeen = resolve; });
  signal.addEventListener('abort', () => finish(), { once: true });
  driver.run({ request: { model: 'fake-pro', messages: [{ role: 'user', content: [{ type: 'text', text }] }], sampling: {}, stream: true }, model: 'fake-pro', conversation: undefined, signal }, {
    onPart(part) {
      parts.push(part);
      if (part.type === 'text-delta') textSeen();
      if (part.type === 'response-end' || part.type === 'error') finish();
    },
  }, () => {});
  return { parts, done, firstText };
}

async function turn(text: string): Promise<StreamPart[]> {
  const run = start(text);
  await run.done;
  return run.parts;
}

function textOf(parts: StreamPart[]): string {
  return parts.map((part) => (part.type === 'text-delta' ? part.delta : '')).join('');
}

/** A process has ended: it no longer exists, or it is a zombie (ended, waiting for its parent to read its status). */
function isGone(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    } catch {
      return true;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function waitUntil(check: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting: ${what}`);
}

function workerPids(): number[] {
  const pool = (driver as unknown as { pool: { workers: Set<{ pid: number | undefined }> } }).pool;
  return [...pool.workers].map((worker) => worker.pid!).filter((pid) => pid !== undefined);
}

describe('Gemini CLI driver against a misbehaving ACP agent', () => {
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'switchyard-gemini-fake-'));
    const command = join(root, 'gemini');
    writeFileSync(command, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(fake)} "$@"\n`);
    chmodSync(command, 0o755);
    driver = createGeminiCliDriver({
      name: 'fake', type: 'gemini-cli', command, args: [], env: { PATH: process.env.PATH, GEMINI_API_KEY: KEY }, mode: 'llm', workDir: join(root, 'work'), models: [],
    });
  });

  after(async () => {
    await driver.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('a plain turn, the model listed without auto', async () => {
    const parts = await turn('hello');
    assert.equal(textOf(parts), 'ab');
    assert.deepEqual((parts.at(-1) as Extract<StreamPart, { type: 'response-end' }>).usage, { inputTokens: 4, outputTokens: 2 });
    assert.deepEqual(await driver.listModels(new AbortController().signal), ['fake-pro']);
    assert.equal(driver.describe().version, '0.0.1-fake');
  });

  test('a CLI that ignores the cancel is ended, with the processes it started', async () => {
    const pidFile = join(root, 'child.pid');
    const controller = new AbortController();
    const run = start(`ignore cancel with a child pidfile=${pidFile}`, controller.signal);
    await run.firstText;
    await waitUntil(() => existsSync(pidFile), 'the fake started its child');
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    const workers = workerPids();
    assert.equal(workers.length, 1);
    const count = run.parts.length;
    controller.abort();
    await waitUntil(() => isGone(workers[0]!) && isGone(grandchild), 'the worker and its child are gone');
    assert.equal(run.parts.length, count, 'nothing after the abort');
    // the next turn gets a new worker
    assert.equal(textOf(await turn('hello again')), 'ab');
  });

  test('a crash mid-answer is an error with the stderr tail, keys redacted', async () => {
    const parts = await turn('crash now');
    assert.equal(textOf(parts), 'partial');
    const last = parts.at(-1)!;
    assert.equal(last.type, 'error');
    const error = (last as Extract<StreamPart, { type: 'error' }>).error;
    assert.equal(error.status, 502);
    assert.equal(error.errorClass, 'reset');
    assert.match(error.message, /exited with code 3/);
    assert.match(error.message, /boom: the fake CLI broke/);
    assert.doesNotMatch(error.message, new RegExp(KEY));
    assert.equal(textOf(await turn('and then hello')), 'ab');
  });

  test('a permission request gets the reject option; file access is refused', async () => {
    assert.equal(textOf(await turn('ask permission to delete everything')), '{"outcome":"selected","optionId":"cancel"}');
    const answer = textOf(await turn('read a file for me'));
    assert.match(answer, /^fs answered \{"code":-32601/);
  });

  test('stop reasons that are not an answer become errors', async () => {
    const overflow = (await turn('max tokens')).at(-1) as Extract<StreamPart, { type: 'error' }>;
    assert.equal(overflow.type, 'error');
    assert.equal(overflow.error.status, 400);
    assert.equal(overflow.error.errorClass, 'context-length');
    const empty = (await turn('say nothing')).at(-1) as Extract<StreamPart, { type: 'error' }>;
    assert.equal(empty.type, 'error');
    assert.equal(empty.error.status, 502);
  });

  test('an abort while the turn waits for its worker to start ends the turn at once; no session is made for it', async () => {
    // a worker that starts only when the test says so (the real CLI takes 1–2 s)
    const gate = join(root, 'start-gate');
    const log = join(root, 'gated-requests.log');
    const command = join(root, 'gemini-gated');
    writeFileSync(command, `#!/bin/sh\nwhile [ ! -f ${JSON.stringify(gate)} ]; do sleep 0.02; done\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(fake)} "$@"\n`);
    chmodSync(command, 0o755);
    const gated = createGeminiCliDriver({
      name: 'gated', type: 'gemini-cli', command, args: [], env: { PATH: process.env.PATH, GEMINI_API_KEY: KEY, FAKE_ACP_LOG: log }, mode: 'llm', workDir: join(root, 'work-gated'), models: [],
    });
    try {
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      gated.run({ request: { model: 'fake-pro', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], sampling: {}, stream: true }, model: 'fake-pro', conversation: undefined, signal: controller.signal }, { onPart: (part) => parts.push(part) }, () => {});
      await waitUntil(() => gated.describe().workers === 1, 'the worker was started');
      assert.equal(gated.describe().running, 1);
      controller.abort();
      assert.equal(gated.describe().running, 0, 'the turn ended with the abort, not when the worker is ready');
      writeFileSync(gate, '');
      // the next turn runs on the worker once it is up; the aborted one made no session and sent no prompt
      const next: StreamPart[] = [];
      await new Promise<void>((resolve) => {
        gated.run({ request: { model: 'fake-pro', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], sampling: {}, stream: true }, model: 'fake-pro', conversation: undefined, signal: new AbortController().signal }, {
          onPart(part) {
            next.push(part);
            if (part.type === 'response-end' || part.type === 'error') resolve();
          },
        }, () => {});
      });
      assert.equal(textOf(next), 'ab');
      assert.deepEqual(parts, [], 'nothing for the aborted turn');
      const methods = readFileSync(log, 'utf8').trim().split('\n');
      assert.equal(methods.filter((method) => method === 'session/new').length, 1, `one session, the second turn's: ${methods.join(', ')}`);
      assert.equal(methods.filter((method) => method === 'session/prompt').length, 1);
    } finally {
      await gated.close();
    }
  });

  test('a worker left holding a cancelled turn is not ended while another turn is setting up on it', async () => {
    const gate = join(root, 'session-gate');
    const shared = createGeminiCliDriver({
      name: 'shared', type: 'gemini-cli', command: join(root, 'gemini'), args: [], env: { PATH: process.env.PATH, GEMINI_API_KEY: KEY, FAKE_ACP_SESSION_GATE: gate }, mode: 'llm', workDir: join(root, 'work-shared'), models: [],
    });
    try {
      const run = (text: string, signal: AbortSignal, parts: StreamPart[]): Promise<void> => new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
        shared.run({ request: { model: 'fake-pro', messages: [{ role: 'user', content: [{ type: 'text', text }] }], sampling: {}, stream: true }, model: 'fake-pro', conversation: undefined, signal }, {
          onPart(part) {
            parts.push(part);
            if (part.type === 'text-delta' || part.type === 'response-end' || part.type === 'error') resolve();
          },
        }, () => {});
      });
      // A: its prompt ignores the cancel (the first session is not held)
      const stuck = new AbortController();
      await run('ignore cancel', stuck.signal, []);
      // B: on the same worker, held in session/new
      const second: StreamPart[] = [];
      const secondDone = new Promise<void>((resolve) => {
        shared.run({ request: { model: 'fake-pro', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], sampling: {}, stream: true }, model: 'fake-pro', conversation: undefined, signal: new AbortController().signal }, {
          onPart(part) {
            second.push(part);
            if (part.type === 'response-end' || part.type === 'error') resolve();
          },
        }, () => {});
      });
      await waitUntil(() => shared.describe().running === 2, 'both turns run');
      const [worker] = (shared as unknown as { pool: { workers: Set<{ pid: number | undefined; turns: number }> } }).pool.workers;
      await waitUntil(() => worker!.turns === 2, 'the second turn is bound to the worker');
      stuck.abort();
      // past the cancel's grace: the worker must still be there for B
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.ok(!isGone(worker!.pid!), 'the worker was not ended under the turn setting up on it');
      writeFileSync(gate, '');
      await secondDone;
      assert.equal(textOf(second), 'ab', JSON.stringify(second));
    } finally {
      await shared.close();
    }
  });

  test('close() ends the workers; turns after it are refused', async () => {
    await turn('hello');
    const pids = workerPids();
    assert.ok(pids.length >= 1);
    await driver.close();
    for (const pid of pids) assert.ok(isGone(pid));
    const [refused] = await turn('hello');
    assert.equal(refused!.type, 'error');
    assert.equal((refused as Extract<StreamPart, { type: 'error' }>).error.status, 503);
  });
});
