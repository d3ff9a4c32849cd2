// A pass-through body is read only as far as routing needs (its structure, the top-level members
// the surface names) and forwarded as its bytes; it is parsed whole only for a translated attempt,
// which then checks what inspect left out. So what a same-dialect upstream would judge — a
// message's role, a string's escapes — reaches it untouched, while a translated request still gets
// the gateway's own 400 in the caller's dialect, before anything goes upstream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway } from '../helpers/gateway.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';

function post(url: string, body: string | Buffer): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
}

/** One OpenAI provider (gpt-x) and one Anthropic provider (claude-x) on the same mock. */
async function gateway(t: test.TestContext) {
  const mock = await startMockUpstream({});
  t.after(() => mock.close());
  const started = await startTestGateway({
    providers: [
      { name: 'openai', baseUrl: `${mock.url}/v1`, models: ['gpt-x'] },
      { name: 'anthropic', dialect: 'anthropic', baseUrl: `${mock.url}/v1`, models: ['claude-x'], auth: { header: 'x-api-key', prefix: '' } },
    ],
  });
  t.after(() => started.close());
  return { mock, url: started.url };
}

test('what only the upstream reads goes to a same-dialect upstream byte for byte', async (t) => {
  const { mock, url } = await gateway(t);
  // a role OpenAI does not know, an escape JSON.parse refuses and bytes that are not UTF-8, all in
  // strings the gateway does not read: the same-dialect upstream judges them
  const body = Buffer.concat([
    Buffer.from('{"model":"gpt-x","messages":[{"role":"narrator","content":"a \\q escape and '),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('"}],"stream":false}'),
  ]);
  const response = await post(`${url}/v1/chat/completions`, body);
  await response.arrayBuffer();
  assert.equal(mock.requests.length, 1);
  assert.deepEqual(mock.requests[0]!.rawBody, body, 'forwarded as sent');
});

test('a translated attempt parses the body whole and refuses what inspect left out, in the caller\'s dialect', async (t) => {
  const { mock, url } = await gateway(t);
  const role = await post(`${url}/v1/chat/completions`, '{"model":"claude-x","messages":[{"role":"user","content":"hi"},{"content":"no role"}]}');
  assert.equal(role.status, 400);
  const roleError = (await role.json() as { error: { param: string; message: string } }).error;
  assert.equal(roleError.param, 'messages[1]');
  assert.match(roleError.message, /string 'role'/);
  const escape = await post(`${url}/v1/messages`, '{"model":"gpt-x","max_tokens":5,"messages":[{"role":"user","content":"a \\q escape"}]}');
  assert.equal(escape.status, 400);
  const escapeBody = await escape.json() as { type: string; error: { type: string; message: string } };
  assert.equal(escapeBody.type, 'error');
  assert.equal(escapeBody.error.type, 'invalid_request_error');
  assert.match(escapeBody.error.message, /Could not parse the request body as JSON/);
  assert.equal(mock.requests.length, 0, 'nothing went upstream');
});

test('structure the gateway cannot follow, and members it reads, are still its own 400 before anything goes upstream', async (t) => {
  const { mock, url } = await gateway(t);
  for (const [path, text, pattern] of [
    ['/v1/chat/completions', '{"model":"gpt-x","messages":[{"role":"user","content":"hi"}],}', /Could not parse the request body as JSON/],
    ['/v1/chat/completions', '{"model":"gpt-x","messages":[{"role":"user","content":"hi"}]', /Could not parse the request body as JSON/],
    ['/v1/chat/completions', '{"model":"gpt\\q","messages":[{"role":"user","content":"hi"}]}', /Could not parse the request body as JSON/],
    ['/v1/chat/completions', '{"model":"gpt-x","messages":[]}', /at least one message/],
    ['/v1/chat/completions', '{"model":"gpt-x","messages":"hi"}', /expected an array/],
    ['/v1/messages', '{"model":"claude-x","max_tokens":"5","messages":[{"role":"user","content":"hi"}]}', /max_tokens/],
    // metadata is read only for session affinity, which this route does not use: the upstream
    // (the mock, like OpenAI) judges it and its own 400 is passed on
    ['/v1/chat/completions', '{"model":"gpt-x","messages":[{"role":"user","content":"hi"}],"metadata":{"user_id":"\\q"}}', /could not parse the JSON body/],
  ] as const) {
    const response = await post(`${url}${path}`, text);
    const answer = await response.text();
    assert.equal(response.status, 400, `${text}: ${answer}`);
    assert.match(answer, pattern, text);
  }
  assert.equal(mock.requests.length, 1, 'only the last body went upstream');
});
