// `switchyard keys` as a user runs it: against a running gateway's management API (admin key from
// the environment), and offline against the key store when no gateway answers — the key made
// offline then works on a gateway started on the same store. The secret is printed once, by
// create and rotate, and nowhere else.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const T = { timeout: 120_000 };
const entry = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const ADMIN_KEY = 'admin-cli-0123456789';

let mock: MockUpstream;

before(async () => {
  mock = await startMockUpstream();
});

after(async () => {
  await mock?.close();
});

interface Run { code: number | null; stdout: string; stderr: string }

function run(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [entry, 'keys', ...args], { env: { PATH: process.env.PATH, ...env } });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => { stdout += data; });
    child.stderr.on('data', (data) => { stderr += data; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A port nothing listens on (taken and released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function chat(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.text();
  return response.status;
}

test('against a running gateway: create, list, usage, rotate, revoke, delete', T, async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'switchyard-cli-keys-'));
  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], storage: { path: state }, adminKeys: [ADMIN_KEY] });
  t.after(() => gateway.close());
  const env = { SWITCHYARD_URL: gateway.url, SWITCHYARD_ADMIN_KEY: ADMIN_KEY };

  const created = await run(t, ['create', '--name', 'ci-bot', '--models', 'mock-*,main:*', '--rpm', '60', '--budget', '10/day'], env);
  assert.equal(created.code, 0, created.stderr);
  const secret = /\b(sy-[A-Za-z0-9_-]{43})\b/.exec(created.stdout)?.[1];
  assert.ok(secret !== undefined, created.stdout);
  assert.match(created.stdout, /Created key 'ci-bot' \(vk-[0-9a-f]{16}\)/);
  assert.match(created.stdout, /only time the key is shown/);
  assert.match(created.stdout, /models mock-\*,main:\*, 60 rpm, \$10\/day/);
  assert.equal(await chat(gateway.url, secret), 200);

  const list = await run(t, ['list'], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /ci-bot/);
  assert.match(list.stdout, new RegExp(`${secret.slice(0, 7)}…`));
  assert.ok(!list.stdout.includes(secret));

  const usage = await run(t, ['usage', 'ci-bot'], env);
  assert.equal(usage.code, 0, usage.stderr);
  assert.match(usage.stdout, /^day\s+\S+\s+1\s/m);
  assert.ok(!usage.stdout.includes(secret));

  const rotated = await run(t, ['rotate', 'ci-bot'], env);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = /\b(sy-[A-Za-z0-9_-]{43})\b/.exec(rotated.stdout)?.[1];
  assert.ok(fresh !== undefined && fresh !== secret);
  assert.equal(await chat(gateway.url, secret), 401);
  assert.equal(await chat(gateway.url, fresh!), 200);

  const revoked = await run(t, ['revoke', 'ci-bot'], env);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /Revoked key 'ci-bot'/);
  assert.equal(await chat(gateway.url, fresh!), 401);

  // without the admin key: refused, with the hint
  const refused = await run(t, ['list'], { SWITCHYARD_URL: gateway.url });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /401.*--admin-key/s);

  // a key with its own response cache: its repeated request is answered from the cache
  const cachedKey = await run(t, ['create', '--name', 'cached-bot', '--cache', '3600'], env);
  assert.equal(cachedKey.code, 0, cachedKey.stderr);
  assert.match(cachedKey.stdout, /cached 3600 s/);
  const cachedSecret = /\b(sy-[A-Za-z0-9_-]{43})\b/.exec(cachedKey.stdout)![1]!;
  const cacheStates: (string | null)[] = [];
  for (let i = 0; i < 2; i++) {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${cachedSecret}` },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'cache me' }] }),
    });
    await response.text();
    cacheStates.push(response.headers.get('x-switchyard-cache'));
  }
  assert.deepEqual(cacheStates, ['miss', 'hit']);
  const badCache = await run(t, ['create', '--name', 'x', '--cache', 'forever'], env);
  assert.equal(badCache.code, 2);
  assert.match(badCache.stderr, /--cache must be seconds/);

  const bad = await run(t, ['create', '--name', 'x', '--budget', 'ten'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--budget must be USD\/PERIOD/);
  const unknown = await run(t, ['create', '--name', 'x', '--models', 'nowhere:*'], env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /400: models\[0\].*nowhere/);

  const deleted = await run(t, ['delete', 'ci-bot', '--json'], env);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.equal(JSON.parse(deleted.stdout).deleted, true);
  for (const output of [list, usage, revoked, deleted]) assert.ok(!output.stdout.includes(fresh!) && !output.stderr.includes(fresh!));
  assert.ok(!gateway.logText().includes(secret) && !gateway.logText().includes(fresh!));
});

test('offline: the key store directly, then a gateway on the same store takes the key', T, async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'switchyard-cli-keys-'));
  const port = await freePort();
  const config = join(state, 'switchyard.yaml');
  writeFileSync(config, `server:\n  port: ${port}\nstorage:\n  path: ${state}\nproviders:\n  - name: main\n    type: openai\n    base_url: ${mock.url}/v1\n    models: [mock-gpt]\n`);
  const created = await run(t, ['create', '--name', 'offline-bot', '--rpm', '5', '--config', config]);
  assert.equal(created.code, 0, created.stderr);
  assert.match(created.stderr, /no gateway answers.*using the key store directly/);
  const secret = /\b(sy-[A-Za-z0-9_-]{43})\b/.exec(created.stdout)![1]!;
  const teams = await run(t, ['team', 'create', '--name', 'ops', '--tpm', '1000', '--config', config]);
  assert.equal(teams.code, 0, teams.stderr);
  const moved = await run(t, ['update', 'offline-bot', '--team', 'ops', '--config', config, '--json']);
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(JSON.parse(moved.stdout).team, 'ops');
  const list = await run(t, ['list', '--config', config]);
  assert.match(list.stdout, /offline-bot.*ops.*active.*5 rpm/);
  assert.ok(!list.stdout.includes(secret));

  const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], storage: { path: state } });
  t.after(() => gateway.close());
  assert.equal(await chat(gateway.url, secret), 200);
  const entry = [...gateway.keys!.listKeys()][0]!;
  assert.equal(entry.name, 'offline-bot');
  // the offline changes are audited as the CLI's
  const audit = await fetch(`${gateway.url}/v0/management/audit`).then((response) => response.json()) as { data: { actor: string; action: string }[] };
  assert.deepEqual(audit.data.map((row) => `${row.actor} ${row.action}`), ['cli key.update', 'cli team.create', 'cli key.create']);
});
