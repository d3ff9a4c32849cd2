// Hot reload: a new snapshot applies to new requests at once, while a stream started on the old
// one completes intact on the old pools, which close once they are idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliProcess, eventually } from '../helpers/cli-process.ts';
import { startTestGateway, testConfig } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const chatBody = (model: string, stream = false) => JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] });

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

test('reload swaps the provider list: an in-flight stream completes intact, new requests use the new config', async (t) => {
  const deltas = Array.from({ length: 30 }, (_, i) => ` d${i}`);
  const oldMock = await startMockUpstream({ streamDeltas: deltas, streamIntervalMs: 30 });
  t.after(() => oldMock.close());
  const newMock = await startMockUpstream();
  t.after(() => newMock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'old', baseUrl: `${oldMock.url}/v1`, models: ['old-model'] }] });
  t.after(() => gateway.close());

  // Start a stream on the old config and read its first events.
  const incoming = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const outgoing = http.request(`${gateway.url}/v1/chat/completions`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, resolve);
    outgoing.on('error', reject);
    outgoing.end(chatBody('old-model', true));
  });
  assert.equal(incoming.statusCode, 200);
  assert.equal(incoming.headers['x-switchyard-provider'], 'old');
  incoming.setEncoding('utf8');
  let streamed = '';
  const ended = new Promise<void>((resolve, reject) => {
    incoming.on('end', resolve);
    incoming.on('error', reject);
  });
  await new Promise<void>((resolve) => {
    incoming.on('data', (data: string) => {
      streamed += data;
      if (parseSse(streamed).length >= 3) resolve();
    });
  });

  await gateway.reload(testConfig({ providers: [{ name: 'new', baseUrl: `${newMock.url}/v1`, models: ['new-model'] }] }));
  assert.ok(!streamed.includes('[DONE]'), 'the reload happened mid-stream');

  const fresh = await post(gateway.url, chatBody('new-model'));
  assert.equal(fresh.status, 200);
  assert.equal(fresh.headers.get('x-switchyard-provider'), 'new');
  assert.equal(newMock.requests.length, 1);

  const gone = await post(gateway.url, chatBody('old-model'));
  assert.equal(gone.status, 404);
  assert.equal(gone.json.error.code, 'model_not_found');
  assert.match(gone.json.error.message, /'old-model'/);

  const models = await (await fetch(`${gateway.url}/v1/models`)).json() as { data: { id: string; owned_by: string }[] };
  assert.deepEqual(models.data.map((model) => [model.id, model.owned_by]), [['new-model', 'new']]);

  await ended;
  const events = parseSse(streamed);
  assert.equal(events.at(-1)!.data, '[DONE]');
  const text = events.slice(0, -1).map((event) => JSON.parse(event.data).choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, deltas.join(''));
  assert.ok(!events.some((event) => event.data.includes('"error"')));
  assert.equal(oldMock.requests.length, 1, 'the old upstream saw only the stream started before the reload');

  // Once its last request is done, the old runtime closes its pool: the old upstream's socket closes.
  await oldMock.socketClosed(0);
  assert.equal(oldMock.openSockets(), 0);
});

test('reload applies new client keys to the next request', async (t) => {
  const mock = await startMockUpstream();
  t.after(() => mock.close());
  const providers = [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }];
  const gateway = await startTestGateway({ providers });
  t.after(() => gateway.close());
  assert.equal((await post(gateway.url, chatBody('mock-gpt'))).status, 200);

  await gateway.reload(testConfig({ providers, keys: ['sk-after-reload'] }));
  const refused = await post(gateway.url, chatBody('mock-gpt'));
  assert.equal(refused.status, 401);
  assert.equal(refused.json.error.code, 'missing_api_key');
  assert.equal((await post(gateway.url, chatBody('mock-gpt'), { authorization: 'Bearer sk-after-reload' })).status, 200);
  assert.equal(mock.requests.length, 2);
});

test('a request whose body is still arriving during a reload is served, not failed', async (t) => {
  const oldMock = await startMockUpstream();
  t.after(() => oldMock.close());
  const newMock = await startMockUpstream();
  t.after(() => newMock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'old', baseUrl: `${oldMock.url}/v1`, models: ['mock-gpt'] }] });
  t.after(() => gateway.close());
  const body = chatBody('mock-gpt');
  const outgoing = http.request(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const reply = new Promise<{ status: number; text: string }>((resolve, reject) => {
    outgoing.on('response', (incoming) => {
      let text = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (data: string) => { text += data; });
      incoming.on('end', () => resolve({ status: incoming.statusCode!, text }));
    });
    outgoing.on('error', reject);
  });
  outgoing.write(body.slice(0, 10));
  // the head has reached the gateway (the request is in flight) before the reload
  for (let i = 0; i < 500 && gateway.gateway.inflight === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(gateway.gateway.inflight, 1);
  await gateway.reload(testConfig({ providers: [{ name: 'new', baseUrl: `${newMock.url}/v1`, models: ['mock-gpt'] }] }));
  outgoing.end(body.slice(10));
  const { status, text } = await reply;
  assert.equal(status, 200, text);
});

test('an editor truncating the file never turns authentication off: empty and partial files are refused, the full file applied once (the CLI, watcher and SIGHUP)', { timeout: 60_000 }, async (t) => {
  const mock = await startMockUpstream();
  t.after(() => mock.close());
  const dir = mkdtempSync(join(tmpdir(), 'swy-reload-'));
  const path = join(dir, 'switchyard.yaml');
  const providers = `providers:\n  - name: mock\n    type: openai\n    base_url: ${mock.url}/v1\n    models: [mock-gpt]\n`;
  const auth = 'auth:\n  keys: [sk-reload-test]\n';
  const alias = (name: string) => `models:\n  - name: ${name}\n    targets: [{ provider: mock, model: mock-gpt }]\n`;
  writeFileSync(path, providers + auth);
  const server = new CliProcess(['--config', path, '--port', '0'], { cwd: dir, env: { SWITCHYARD_STATE_DIR: join(dir, 'state') } });
  t.after(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const [, base] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const chat = async (model: string, key?: string) => {
    const response = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
    await response.arrayBuffer();
    return response.status;
  };
  const logs = (message: RegExp) => server.logs().filter((line) => message.test(String(line.msg)));
  assert.equal(await chat('mock-gpt', 'sk-reload-test'), 200);

  // Requests without a key, all along: every one must be refused.
  const unauthenticated: number[] = [];
  let polling = true;
  let pollFailure: unknown;
  const poller = (async () => {
    while (polling) {
      unauthenticated.push(await chat('mock-gpt'));
      await sleep(20);
    }
  })().catch((error: unknown) => { pollFailure = error; });
  t.after(async () => {
    polling = false;
    await poller;
  });

  // 1. Truncated to zero bytes and left so: a save in progress, never loaded.
  truncateSync(path, 0);
  await sleep(1000);
  assert.deepEqual(logs(/^reloading config/), [], 'an empty file is not acted on');

  // 2. Cut short before `auth:`: valid YAML that loses the keys — loaded, and refused.
  writeFileSync(path, providers);
  await eventually(() => logs(/^config reload refused: it would turn client authentication off/).length === 1);
  const refusal = logs(/^config reload refused:/)[0]!;
  assert.equal(refusal.level, 40, 'a warning');
  assert.deepEqual(refusal.removes, { clientKeys: 1 });
  assert.match(String(refusal.msg), /removes the only client key.*write auth\.keys: \[\]; keeping the previous config/);

  // 2b. Cut inside the key list: not YAML any more — refused as invalid, as any broken file is.
  writeFileSync(path, `${providers}auth:\n  keys: [sk-rel`);
  await eventually(() => logs(/^config reload refused; keeping the previous config$/).length === 1);
  assert.match(String(logs(/^config reload refused;/)[0]!.problems), /invalid YAML/);
  assert.ok(!String(logs(/^config reload refused;/)[0]!.problems).includes('sk-rel'), 'the problem names the place, not the text');

  // 3. The whole file back, with a real change: applied once, and the log says what changed.
  writeFileSync(path, providers + auth + alias('fast'));
  await eventually(async () => (await chat('fast', 'sk-reload-test')) === 200);
  await eventually(() => logs(/^config reloaded/).length > 0);
  const applied = logs(/^config reloaded/);
  assert.equal(applied.length, 1);
  assert.equal(applied[0]!.msg, 'config reloaded: aliases +fast');
  assert.deepEqual(applied[0]!.aliases, { added: ['fast'] });

  // 4. SIGHUP on an empty file goes through the same guard.
  truncateSync(path, 0);
  await sleep(300);
  server.child.kill('SIGHUP');
  await eventually(() => logs(/^config reload refused:/).length === 2);
  assert.match(String(logs(/^config reload refused:/)[1]!.msg), /client authentication off.*; and it would remove every provider \(mock\)/);
  assert.equal(await chat('fast', 'sk-reload-test'), 200, 'the previous config still serves');

  // 5. An editor's save at full speed: truncate, a first piece, the rest. One reload, of the whole file.
  truncateSync(path, 0);
  writeFileSync(path, providers);
  await sleep(10);
  writeFileSync(path, providers + auth + alias('quick'));
  await eventually(async () => (await chat('quick', 'sk-reload-test')) === 200);
  await eventually(() => logs(/^config reloaded/).length > 1);
  await sleep(500);
  assert.deepEqual(logs(/^config reloaded/).map((line) => line.msg), ['config reloaded: aliases +fast', 'config reloaded: aliases +quick -fast']);

  polling = false;
  await poller;
  assert.equal(pollFailure, undefined);
  assert.ok(unauthenticated.length > 20, `${unauthenticated.length} requests sent without a key`);
  assert.deepEqual(new Set(unauthenticated), new Set([401]), 'no request without a key was ever served');
  assert.ok(!server.stdout.includes('sk-reload-test'), 'the key never appears in a log line');
});
