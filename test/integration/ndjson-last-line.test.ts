// An Ollama stream passed through as bytes whose last line ends with the close, not a newline:
// whole JSON, it is the stream's last line — forwarded (with the newline), the stream complete and
// its usage read. A last line cut off mid-JSON is still a truncated stream: never forwarded half,
// an error line instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessLine, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

const line = (content: string) => JSON.stringify({ model: 'llama', created_at: '2026-01-01T00:00:00Z', message: { role: 'assistant', content }, done: false });
const DONE = JSON.stringify({ model: 'llama', created_at: '2026-01-01T00:00:01Z', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 12, eval_count: 7 });

async function setup(t: { after(fn: () => unknown): void }, chunks: string[]): Promise<TestGateway> {
  const mock = await startMockUpstream({ script: () => ({ kind: 'chunks', contentType: 'application/x-ndjson', chunks }) });
  t.after(() => mock.close());
  const gateway = await startTestGateway({ providers: [{ name: 'local', dialect: 'ollama', baseUrl: mock.url, models: ['llama'] }] });
  t.after(() => gateway.close());
  return gateway;
}

function chat(gateway: TestGateway, id: string): Promise<Response> {
  return fetch(`${gateway.url}/api/chat`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': id },
    body: JSON.stringify({ model: 'llama', stream: true, messages: [{ role: 'user', content: 'hi' }] }), signal: AbortSignal.timeout(5000),
  });
}

test('ollama pass-through: a final done line without its newline is forwarded, the stream complete and its usage read', async (t) => {
  const gateway = await setup(t, [`${line('Hel')}\n`, `${line('lo')}\n${DONE.slice(0, 40)}`, DONE.slice(40)]);
  const response = await chat(gateway, 'ndjson-last-line');
  assert.equal(response.status, 200);
  const body = await response.text();
  assert.equal(body, `${line('Hel')}\n${line('lo')}\n${DONE}\n`, 'every line, the last one ended with a newline, nothing appended');
  const access = await accessLine(gateway, 'ndjson-last-line');
  assert.equal(access.error, undefined);
  assert.equal(access.tokens.in, 12);
  assert.equal(access.tokens.out, 7);
});

test('ollama pass-through: a last line cut off mid-JSON is not forwarded; the stream ends with an error line', async (t) => {
  const gateway = await setup(t, [`${line('Hel')}\n`, DONE.slice(0, 40)]);
  const response = await chat(gateway, 'ndjson-cut-line');
  assert.equal(response.status, 200);
  const lines = (await response.text()).split('\n').filter((text) => text.length > 0);
  assert.equal(lines.length, 2);
  assert.equal(lines[0], line('Hel'));
  assert.match(JSON.parse(lines[1]!).error, /.+/);
  const access = await accessLine(gateway, 'ndjson-cut-line');
  assert.ok(access.error !== undefined, 'logged as failed');
});
