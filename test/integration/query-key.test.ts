// A client key in the query string, however it is percent-encoded, authenticates the caller and
// never reaches a provider that is sent the client's query (Anthropic's `?beta=true`, Gemini's `?alt=sse`).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type Behavior, type MockUpstream, type RecordedRequest } from '../helpers/mock-upstream.ts';

const CLIENT_KEY = 'sk-client-query';

const anthropicAnswer = {
  id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'Hi' }],
  stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 },
};
const geminiAnswer = { candidates: [{ content: { parts: [{ text: 'Hi' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 } };

function script(request: RecordedRequest): Behavior {
  return { kind: 'json', status: 200, body: request.path.includes('generateContent') ? geminiAnswer : anthropicAnswer };
}

let mock: MockUpstream;
let gateway: TestGateway;

before(async () => {
  mock = await startMockUpstream({ script });
  gateway = await startTestGateway({
    keys: [CLIENT_KEY],
    providers: [
      { name: 'claude', dialect: 'anthropic', baseUrl: `${mock.url}/v1`, apiKeys: ['sk-ant-upstream'], auth: { header: 'x-api-key', prefix: '' }, models: ['claude-x'] },
      { name: 'google', dialect: 'gemini', baseUrl: `${mock.url}/v1beta`, apiKeys: ['AIza-upstream'], auth: { header: 'x-goog-api-key', prefix: '' }, models: ['gem-x'] },
    ],
  });
});

after(async () => {
  await gateway?.close();
  await mock?.close();
});

const post = (path: string, body: object) => fetch(gateway.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body) });

for (const name of ['key', '%6bey', 'k%65y', '%6B%65%79']) {
  test(`?${name}= authenticates and is not forwarded to Anthropic or Gemini`, async () => {
    const seen = mock.requests.length;
    const messages = await post(`/v1/messages?beta=true&${name}=${CLIENT_KEY}`, { model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(messages.status, 200, await messages.text());
    const generate = await post(`/v1beta/models/gem-x:generateContent?${name}=${CLIENT_KEY}&alt=json`, { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
    assert.equal(generate.status, 200, await generate.text());
    const [toAnthropic, toGemini] = mock.requests.slice(seen);
    assert.equal(toAnthropic!.path, '/v1/messages?beta=true');
    assert.equal(toGemini!.path, '/v1beta/models/gem-x:generateContent?alt=json');
    for (const request of [toAnthropic!, toGemini!]) assert.ok(!JSON.stringify(request.headers).includes(CLIENT_KEY));
  });
}

test('?KEY= is not a client key (401), and with a right key beside it, it is not forwarded either', async () => {
  const refused = await post(`/v1/messages?KEY=${CLIENT_KEY}`, { model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(refused.status, 401);
  const seen = mock.requests.length;
  const accepted = await post(`/v1/messages?KEY=other-secret&key=${CLIENT_KEY}&beta=true`, { model: 'claude-x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(accepted.status, 200);
  assert.equal(mock.requests[seen]!.path, '/v1/messages?beta=true');
});
