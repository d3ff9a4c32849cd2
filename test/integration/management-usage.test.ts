// GET /v0/management/usage: the sums of GET /v0/usage for admins (a client key is refused), each
// key's name beside its id, and format=csv — the same rows and totals; CSV fields quoted as RFC
// 4180 says, a formula-looking text neutralised.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvField, usageCsv } from '../../src/admin/management-usage.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const T = { timeout: 30_000 };
const ADMIN_KEY = 'admin-usage-0123456789abcdef';
const CLIENT_KEY = 'client-usage-0123456789abcdef';

let mock: MockUpstream;
let gateway: TestGateway;

before(async () => {
  mock = await startMockUpstream();
  mock.setScript((request) => request.path.endsWith('/models') ? { kind: 'default' } : {
    kind: 'json', status: 200,
    body: {
      id: 'c', object: 'chat.completion', created: 1, model: request.body?.model,
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    },
  });
  gateway = await startTestGateway({
    providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt', 'other-gpt'] }],
    keys: [CLIENT_KEY],
    adminKeys: [ADMIN_KEY],
    prices: [{ model: 'mock-gpt', price: { input: 1000, output: 1000 } }],
    storage: { path: mkdtempSync(join(tmpdir(), 'switchyard-mgmt-usage-')) },
  });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${gateway.url}/v0/management${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', ...init.headers } });
}

async function chat(model: string, key: string): Promise<void> {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(response.status, 200, await response.text());
}

describe('GET /v0/management/usage', () => {
  test('the sums of /v0/usage, key names beside ids, admins only', T, async () => {
    const created = await (await admin('/keys', { method: 'POST', body: JSON.stringify({ name: 'ci-bot' }) })).json() as any;
    assert.match(created.key, /^sy-/);
    await chat('mock-gpt', created.key);
    await chat('mock-gpt', CLIENT_KEY);
    await chat('other-gpt', CLIENT_KEY);
    const byKey = await (await admin('/usage?group_by=key&from=1h')).json() as any;
    assert.equal(byKey.totals.requests, 3);
    const mine = byKey.data.find((row: { group: string }) => row.group === created.id);
    assert.equal(mine.name, 'ci-bot');
    assert.equal(mine.requests, 1);
    const byModel = await (await admin('/usage?group_by=model&from=1h')).json() as any;
    const publicAnswer = await (await fetch(`${gateway.url}/v0/usage?group_by=model&from=${encodeURIComponent(byModel.from)}&to=${encodeURIComponent(byModel.to)}`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json() as any;
    assert.deepEqual(byModel.data, publicAnswer.data, 'the same sums as /v0/usage');
    assert.equal(byModel.data.find((row: { group: string }) => row.group === 'mock-gpt').cost_usd, 0.03);
    // a client key is no admin key
    assert.equal((await fetch(`${gateway.url}/v0/management/usage`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).status, 401);
    assert.equal((await admin('/usage?group_by=color')).status, 400);
  });

  test('format=csv: the same rows and the total the JSON has', T, async () => {
    const json = await (await admin('/usage?group_by=key&from=1h')).json() as any;
    const response = await admin(`/usage?group_by=key&format=csv&from=${encodeURIComponent(json.from)}&to=${encodeURIComponent(json.to)}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/csv/);
    assert.match(response.headers.get('content-disposition')!, /^attachment; filename="switchyard-usage-by-key-/);
    const lines = (await response.text()).split('\r\n');
    assert.equal(lines[0], 'key,name,requests,errors,input_tokens,output_tokens,cached_tokens,cache_write_tokens,reasoning_tokens,cost_usd,unpriced_requests,subscription_requests,reported_cost_usd,cached_requests');
    assert.ok(lines.some((line) => line.startsWith(`${json.data.find((row: { name: string }) => row.name === 'ci-bot').group},ci-bot,1,0,10,5,`)), lines.join('\n'));
    assert.equal(lines.at(-1), '');
    assert.match(lines.at(-2)!, new RegExp(`^total,,${json.totals.requests},0,${json.totals.input_tokens},${json.totals.output_tokens},`));
  });
});

describe('CSV fields', () => {
  test('quotes, line breaks, formulas and numbers', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('@cmd'), "'@cmd");
    assert.equal(csvField('-1+2'), "'-1+2");
    assert.equal(csvField(-1.5), '-1.5');
    assert.equal(csvField(null), '');
    const csv = usageCsv({
      object: 'usage', group_by: 'day', from: '', to: '', store: 'sqlite', dropped: 0,
      data: [{ group: '2026-01-01', requests: 1, errors: 0, input_tokens: 1, output_tokens: 2, cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: null, unpriced_requests: 1, subscription_requests: 0, reported_cost_usd: null, cached_requests: 0 }],
      totals: { requests: 1, errors: 0, input_tokens: 1, output_tokens: 2, cached_tokens: 0, cache_write_tokens: 0, reasoning_tokens: 0, cost_usd: null, unpriced_requests: 1, subscription_requests: 0, reported_cost_usd: null, cached_requests: 0 },
    });
    assert.equal(csv, 'day,requests,errors,input_tokens,output_tokens,cached_tokens,cache_write_tokens,reasoning_tokens,cost_usd,unpriced_requests,subscription_requests,reported_cost_usd,cached_requests\r\n2026-01-01,1,0,1,2,0,0,0,,1,0,,0\r\ntotal,1,0,1,2,0,0,0,,1,0,,0\r\n');
  });
});
