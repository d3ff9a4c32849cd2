// `POST /v1/models/refresh` runs model discovery now: a model the provider has just started to
// list is served at once, without waiting for discover_interval_s. Concurrent refreshes ask each
// provider once; a provider that cannot be asked is reported, not fatal. With `--workers N` every
// worker refreshes, whichever one the client reached.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcess, eventually } from '../helpers/cli-process.ts';
import { openAiError } from '../helpers/default-answer.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream } from '../helpers/mock-upstream.ts';
import { freePort } from '../helpers/ports.ts';

const KEY = 'sk-refresh';

let listed = ['first-model'];
/** While set, the model-list answer waits for it (to hold a refresh open). */
let hold: Promise<unknown> | undefined;
let mock: MockUpstream;
let broken: MockUpstream;
let gateway: TestGateway;

function models(): Behavior {
  const answer: Behavior = { kind: 'json', status: 200, body: { object: 'list', data: listed.map((id) => ({ id, object: 'model', created: 1, owned_by: 'mock' })) } };
  return hold === undefined ? answer : { kind: 'hold', until: hold, then: answer };
}

const isModelList = (path: string) => path.startsWith('/v1/models');

before(async () => {
  mock = await startMockUpstream({ script: (request) => (request.method === 'GET' && isModelList(request.path) ? models() : { kind: 'default' }) });
  broken = await startMockUpstream({ script: () => ({ kind: 'json', status: 503, body: openAiError('down for maintenance', 'server_error') }) });
  gateway = await startTestGateway({
    keys: [KEY],
    discover: true,
    providers: [
      { name: 'local', baseUrl: `${mock.url}/v1`, models: [], discover: true },
      { name: 'down', baseUrl: `${broken.url}/v1`, models: [], discover: true },
    ],
  });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
  await broken?.close();
});

const auth = { authorization: `Bearer ${KEY}` };
const refresh = (path = '/v1/models/refresh') => fetch(`${gateway.url}${path}`, { method: 'POST', headers: auth });
const chat = (model: string) => fetch(`${gateway.url}/v1/chat/completions`, {
  method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
});
const listIds = async () => ((await (await fetch(`${gateway.url}/v1/models`, { headers: auth })).json()) as any).data.map((model: any) => model.id);

describe('POST /v1/models/refresh', () => {
  test('a model the provider lists since start-up is served right after a refresh', async () => {
    assert.deepEqual(await listIds(), ['first-model']);
    const before = await chat('new-model');
    assert.equal(before.status, 404);
    await before.text();

    listed = ['first-model', 'new-model'];
    const response = await refresh();
    assert.equal(response.status, 200);
    const answer = await response.json() as any;
    assert.equal(answer.object, 'list');
    assert.deepEqual(answer.data.map((model: any) => model.id), ['first-model', 'new-model']);
    assert.equal(answer.data[1].owned_by, 'local');
    const local = answer.providers.find((provider: any) => provider.name === 'local');
    assert.deepEqual(local, { name: 'local', models: 2 });
    const down = answer.providers.find((provider: any) => provider.name === 'down');
    assert.equal(down.models, 0);
    assert.match(down.error, /503/);

    assert.deepEqual(await listIds(), ['first-model', 'new-model']);
    const after = await chat('new-model');
    assert.equal(after.status, 200);
    assert.equal(((await after.json()) as any).model, 'new-model');
  });

  test('without /v1 too; a model no longer listed is no longer served', async () => {
    listed = ['first-model'];
    const response = await refresh('/models/refresh');
    assert.equal(response.status, 200);
    await response.text();
    const gone = await chat('new-model');
    assert.equal(gone.status, 404);
    await gone.text();
  });

  test('refreshes that arrive while one runs share it: the provider is asked once', async () => {
    let release!: () => void;
    hold = new Promise<void>((resolve) => { release = resolve; });
    const asked = () => mock.requests.filter((request) => request.method === 'GET' && isModelList(request.path)).length;
    const before = asked();
    const first = refresh();
    await mock.waitForRequests(mock.requests.length + 1);
    // the second reaches the gateway while the first waits on the provider
    const second = refresh();
    await eventually(() => gateway.gateway.inflight >= 2, 5000);
    hold = undefined;
    release();
    const answers = await Promise.all([first, second]);
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      await answer.text();
    }
    assert.equal(asked(), before + 1);
  });

  test('needs a client key like every endpoint; GET is not a refresh', async () => {
    const anonymous = await fetch(`${gateway.url}/v1/models/refresh`, { method: 'POST' });
    assert.equal(anonymous.status, 401);
    await anonymous.text();
    // GET /v1/models/refresh is the model named "refresh", which does not exist
    const get = await fetch(`${gateway.url}/v1/models/refresh`, { headers: auth });
    assert.equal(get.status, 404);
    assert.equal(((await get.json()) as any).error.code, 'model_not_found');
  });

  test('a web page cannot trigger one, even with a valid key: a foreign Origin or Sec-Fetch-Site is refused before discovery runs', async () => {
    const asked = () => mock.requests.filter((request) => isModelList(request.path)).length;
    const before = asked();
    for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }]) {
      const response = await fetch(`${gateway.url}/v1/models/refresh`, { method: 'POST', headers: { ...auth, ...headers } });
      assert.equal(response.status, 403, JSON.stringify(headers));
      assert.equal(response.headers.get('x-switchyard-error-code'), 'SWY_ERR_REQUEST_ORIGIN_NOT_ALLOWED');
      await response.text();
    }
    assert.equal(asked(), before, 'no provider was asked for its list');
  });
});

test('--workers 2: a refresh reaching one worker refreshes the other too', { timeout: 60_000 }, async () => {
  const upstream = await startMockUpstream({ script: (request) => (request.method === 'GET' && isModelList(request.path) ? models() : { kind: 'default' }) });
  try {
    listed = ['first-model'];
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-refresh-'));
    const path = join(dir, 'workers.yaml');
    // discovery at start only: without the refresh, a worker would keep its list
    writeFileSync(path, `auth:\n  keys: [${KEY}]\nproviders:\n  - name: local\n    type: openai\n    base_url: ${upstream.url}/v1\n    discover: true\n    discover_interval_s: 0\n`);
    const port = await freePort();
    const server = new CliProcess(['--config', path, '--port', String(port), '--workers', '2'], { cwd: dir });
    await server.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+\s+\(2 workers/);
    const base = `http://127.0.0.1:${port}`;
    const ids = async () => {
      // a new connection each time, so the kernel spreads them over both workers
      const response = await fetch(`${base}/v1/models`, { headers: { ...auth, connection: 'close' } });
      return ((await response.json()) as any).data.map((model: any) => model.id) as string[];
    };
    const pids = () => new Set(server.logs().filter((line) => line.msg === 'request').map((line) => line.pid)).size;
    // both workers up and answering (access lines are written in batches)
    await eventually(async () => (await ids()).includes('first-model') && pids() === 2, 15_000);
    listed = ['first-model', 'new-model'];
    const response = await fetch(`${base}/v1/models/refresh`, { method: 'POST', headers: { ...auth, connection: 'close' } });
    assert.equal(response.status, 200);
    await response.text();
    // every worker lists it: 20 answers in a row over fresh connections
    await eventually(async () => {
      for (let i = 0; i < 20; i++) if (!(await ids()).includes('new-model')) return false;
      return true;
    }, 15_000);
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0);
  } finally {
    await upstream.close();
  }
});
