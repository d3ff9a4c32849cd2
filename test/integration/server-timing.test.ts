// Every response says, in W3C Server-Timing, how long the gateway itself took and how long it
// waited on the upstream, so the overhead can be checked per request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { startTestGateway } from '../helpers/gateway.ts';

const mock = await startMockUpstream({ script: () => ({ kind: 'delay', ms: 50 }) });
const gateway = await startTestGateway({ providers: [{ name: 'mock', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }] });
after(async () => {
  await gateway.close();
  await mock.close();
});

function timings(header: string | null): Record<string, number> {
  assert.ok(header !== null, 'server-timing header present');
  const out: Record<string, number> = {};
  for (const entry of header.split(',')) {
    const match = /^\s*([a-z]+);dur=(\d+(?:\.\d+)?)\s*$/.exec(entry);
    assert.ok(match !== null, `well-formed entry: ${entry}`);
    out[match[1]!] = Number(match[2]);
  }
  return out;
}

async function chat(stream: boolean, model = 'mock-gpt'): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

test('a proxied answer carries gateway and upstream durations; the upstream one covers its delay', async () => {
  for (const stream of [false, true]) {
    const response = await chat(stream);
    assert.equal(response.status, 200);
    const timing = timings(response.headers.get('server-timing'));
    assert.ok(timing.upstream! >= 45, `upstream waited for the mock's 50 ms delay: ${timing.upstream}`);
    assert.ok(timing.gateway! >= 0);
    await response.text();
  }
});

test('an answer the gateway gives alone carries only its own duration', async () => {
  const response = await chat(false, 'no-such-model');
  assert.equal(response.status, 404);
  const timing = timings(response.headers.get('server-timing'));
  assert.deepEqual(Object.keys(timing), ['gateway']);
});
