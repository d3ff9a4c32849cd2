// The `switchyard` command as a user runs it: real processes, real config files, signals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { freePort } from '../helpers/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_ENTRY as entry, CliProcess, eventually } from '../helpers/cli-process.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-'));

interface Run { code: number | null; stdout: string; stderr: string }

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, ...args], { env: { PATH: process.env.PATH, SWITCHYARD_STATE_DIR: join(dir, 'state'), ...env }, cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

class Server extends CliProcess {
  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    super(args, { cwd: dir, env: { SWITCHYARD_STATE_DIR: join(dir, 'state'), ...env } });
  }
}

function configFile(name: string, mock: MockUpstream, extra = ''): string {
  const path = join(dir, name);
  writeFileSync(path, `providers:\n  - name: mock\n    type: openai\n    base_url: ${mock.url}/v1\n    models: [mock-gpt]\n${extra}`);
  return path;
}

async function chat(base: string, model: string, stream = false): Promise<Response> {
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

test('--help and --version', async () => {
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /switchyard \[serve\] \[--config FILE\]/);
  assert.match(help.stdout, /check-config FILE/);
  const version = await run(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const bad = await run(['--no-such-flag']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Unknown option '--no-such-flag'/);
});

test('check-config: OK with counts, or every problem with its line and exit 1', async () => {
  const mock = await startMockUpstream();
  try {
    const good = await run(['check-config', configFile('good.yaml', mock)]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /OK \(1 provider, 0 aliases\)/);
    const badPath = join(dir, 'bad.yaml');
    writeFileSync(badPath, 'server:\n  port: 70000\nproviders:\n  - name: x\n    type: opnai\n');
    const bad = await run(['check-config', badPath]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.yaml:2:\d+\s+server\.port/);
    assert.match(bad.stderr, /bad\.yaml:5:\d+\s+providers\[0\]\.type: unknown type 'opnai'.*did you mean 'openai'/);
    assert.match(bad.stderr, /2 problems/);
    const missing = await run(['check-config', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
  } finally {
    await mock.close();
  }
});

test('refuses a non-loopback address without client keys', async () => {
  const result = await run(['--host', '0.0.0.0', '--port', '0']);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Refusing to listen on 0\.0\.0\.0 with no client keys/);
});

test('serve --config --port: banner, requests, reload on file change and SIGHUP, invalid file refused, SIGTERM drains a stream', async () => {
  const mock = await startMockUpstream({ streamDeltas: Array.from({ length: 20 }, (_, i) => `t${i} `), streamIntervalMs: 50 });
  try {
    const path = configFile('serve.yaml', mock);
    const server = new Server(['--config', path, '--port', '0']);
    const [, base] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    assert.match(server.stderr, /mock\s+http:\/\/127\.0\.0\.1:\d+\/v1\s+mock-gpt/);
    assert.equal((await chat(base!, 'mock-gpt')).status, 200);
    assert.equal((await chat(base!, 'fast')).status, 404);

    // a valid edit is picked up by the watcher
    configFile('serve.yaml', mock, 'models:\n  - name: fast\n    targets: [{ provider: mock, model: mock-gpt }]\n');
    await eventually(async () => (await chat(base!, 'fast')).status === 200);

    // an invalid edit is refused and the previous config keeps serving
    writeFileSync(path, 'providers: [{ name: mock, type: nonsense }]\n');
    await server.waitFor(/config reload refused/, 'stdout');
    assert.equal((await chat(base!, 'fast')).status, 200);

    // SIGHUP reloads too
    configFile('serve.yaml', mock, 'models:\n  - name: quick\n    targets: [{ provider: mock, model: mock-gpt }]\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.child.kill('SIGHUP');
    await eventually(async () => (await chat(base!, 'quick')).status === 200);

    // SIGTERM while a stream is in flight: the stream completes, the process exits 0
    const streaming = await chat(base!, 'mock-gpt', true);
    assert.equal(streaming.status, 200);
    const text = streaming.text();
    server.child.kill('SIGTERM');
    const body = await text;
    assert.match(body, /t19 /);
    assert.match(body, /data: \[DONE\]/);
    assert.equal(await server.exited, 0);
    assert.match(server.stdout, /drained; exiting/);
  } finally {
    await mock.close();
  }
});

test('--workers 2: both serve one port, a killed worker is replaced, SIGTERM exits 0', async () => {
  const mock = await startMockUpstream();
  try {
    const port = await freePort();
    const server = new Server(['--config', configFile('workers.yaml', mock), '--port', String(port), '--workers', '2']);
    await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\s+\(2 workers/);
    const base = `http://127.0.0.1:${port}`;
    const pids = new Set<number>();
    await eventually(async () => {
      // new connections spread over the workers; the access log names the pid that answered
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST', headers: { connection: 'close', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }),
      });
      assert.equal(response.status, 200);
      for (const line of server.stdout.split('\n')) {
        const match = line.match(/"pid":(\d+).*"msg":"request"/);
        if (match !== null) pids.add(Number(match[1]));
      }
      return pids.size === 2;
    });
    const victim = [...pids][0]!;
    process.kill(victim, 'SIGKILL');
    await server.waitFor(/worker exited unexpectedly; starting a replacement/, 'stdout');
    await eventually(async () => (await fetch(`${base}/healthz`, { headers: { connection: 'close' } })).status === 200);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  } finally {
    await mock.close();
  }
});
