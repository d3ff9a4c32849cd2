// A web page in the user's browser must not spend or read through the gateway: cross-origin
// "simple" requests, DNS rebinding (a foreign Host), pages that send no Origin, non-JSON bodies.
// Raw node:http requests, so Host, Origin and Sec-Fetch-* are exactly what a browser would send.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const CLIENT_KEY = 'sk-client-browser';
const ALLOWED = 'http://localhost:5173';

let mock: MockUpstream;
let open: TestGateway;
let keyed: TestGateway;
let configured: TestGateway;

before(async () => {
  mock = await startMockUpstream();
  const providers = [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }];
  open = await startTestGateway({ providers });
  keyed = await startTestGateway({ providers, keys: [CLIENT_KEY] });
  configured = await startTestGateway({ providers, allowedHosts: ['gateway.internal', '*.corp.example'], allowedOrigins: [ALLOWED, 'chrome-extension://abcdefghijklmnop'] });
});

after(async () => {
  await open?.close();
  await keyed?.close();
  await configured?.close();
  await mock?.close();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(target: { url: string }, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  const url = new URL(target.url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, method, path, headers, setHost: headers.host === undefined }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

const hostOf = (target: { url: string }) => new URL(target.url).host;
const portOf = (target: { url: string }) => new URL(target.url).port;

/** One JSON request per proxied surface, each naming the mock's model. */
const surfaces: { path: string; body: object }[] = [
  { path: '/v1/chat/completions', body: { model: 'mock-gpt', messages: [{ role: 'user', content: 'spend' }] } },
  { path: '/v1/messages', body: { model: 'mock-gpt', max_tokens: 10, messages: [{ role: 'user', content: 'spend' }] } },
  { path: '/v1beta/models/mock-gpt:generateContent', body: { contents: [{ role: 'user', parts: [{ text: 'spend' }] }] } },
  { path: '/api/chat', body: { model: 'mock-gpt', stream: false, messages: [{ role: 'user', content: 'spend' }] } },
  { path: '/v1/responses', body: { model: 'mock-gpt', input: 'spend' } },
];

/** The gateway's own GET endpoints a rebinding page would like to read. */
const readable = ['/v0/status', '/v1/providers', '/v0/usage', '/metrics', '/v1/models', '/api/tags'];

async function assertNoUpstreamCall(action: () => Promise<void>): Promise<void> {
  const before = mock.requests.length;
  await action();
  assert.equal(mock.requests.length, before, 'the request reached the provider');
}

describe('a page on another origin cannot spend', () => {
  for (const target of ['open', 'keyed'] as const) {
    test(`a no-cors text/plain POST with a foreign Origin is refused on every surface (${target === 'open' ? 'no client keys' : 'client keys set'})`, async () => {
      const gateway = target === 'open' ? open : keyed;
      await assertNoUpstreamCall(async () => {
        for (const { path, body } of surfaces) {
          const reply = await send(gateway, 'POST', path, { origin: 'https://evil.example', 'content-type': 'text/plain;charset=UTF-8', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }, JSON.stringify(body));
          assert.equal(reply.status, 403, `${path}: ${reply.text}`);
          assert.equal(reply.headers['x-switchyard-error-code'], 'SWY_ERR_REQUEST_ORIGIN_NOT_ALLOWED', path);
          assert.equal(reply.headers['access-control-allow-origin'], undefined);
          assert.match(reply.text, /server\.cors\.allowed_origins/);
        }
      });
    });
  }

  test('the refusal is in the dialect of the path asked', async () => {
    const headers = { origin: 'https://evil.example', 'content-type': 'application/json' };
    const anthropic = await send(open, 'POST', '/v1/messages', headers, '{}');
    assert.equal(JSON.parse(anthropic.text).type, 'error');
    assert.equal(JSON.parse(anthropic.text).error.type, 'permission_error');
    const gemini = await send(open, 'POST', '/v1beta/models/mock-gpt:generateContent', headers, '{}');
    assert.equal(JSON.parse(gemini.text).error.status, 'PERMISSION_DENIED');
    const openai = await send(open, 'POST', '/v1/chat/completions', headers, '{}');
    assert.equal(JSON.parse(openai.text).error.code, 'origin_not_allowed');
  });

  test('a form-encoded or text/plain body without Origin (an old browser) is not parsed as JSON: 415', async () => {
    await assertNoUpstreamCall(async () => {
      for (const { path, body } of surfaces) {
        for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
          const reply = await send(open, 'POST', path, { 'content-type': type }, JSON.stringify(body));
          assert.equal(reply.status, 415, `${path} ${type}: ${reply.text}`);
          assert.equal(reply.headers['x-switchyard-error-code'], 'SWY_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE');
          assert.match(reply.text, /application\/json/);
        }
      }
      const none = await send(open, 'POST', '/v1/chat/completions', {}, JSON.stringify(surfaces[0]!.body));
      assert.equal(none.status, 415, none.text);
      const show = await send(open, 'POST', '/api/show', { 'content-type': 'text/plain' }, '{"model":"mock-gpt"}');
      assert.equal(show.status, 415, show.text);
    });
  });

  test('JSON media types with parameters or a +json suffix are accepted', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/vnd.api+json']) {
      const reply = await send(open, 'POST', '/v1/chat/completions', { 'content-type': type }, JSON.stringify(surfaces[0]!.body));
      assert.equal(reply.status, 200, `${type}: ${reply.text}`);
    }
  });

  test('a page request without Origin but marked cross-site or same-site is refused; a navigation is not', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const reply = await send(open, 'GET', '/v0/status', { 'sec-fetch-site': site, 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' });
      assert.equal(reply.status, 403, reply.text);
    }
    const navigation = await send(open, 'GET', '/v1/models', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' });
    assert.equal(navigation.status, 200, navigation.text);
    for (const site of ['same-origin', 'none']) {
      const reply = await send(open, 'GET', '/v0/status', { 'sec-fetch-site': site, 'sec-fetch-mode': 'cors' });
      assert.equal(reply.status, 200, reply.text);
    }
  });

  test("the gateway's own origin may call it (a page it serves)", async () => {
    const reply = await send(open, 'POST', '/v1/chat/completions', { origin: `http://${hostOf(open)}`, 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' }, JSON.stringify(surfaces[0]!.body));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers['access-control-allow-origin'], undefined, 'same-origin needs no CORS headers');
  });

  test("Origin: null (sandboxed frames, file:// pages) is refused unless listed", async () => {
    const reply = await send(open, 'POST', '/v1/chat/completions', { origin: 'null', 'content-type': 'application/json' }, JSON.stringify(surfaces[0]!.body));
    assert.equal(reply.status, 403, reply.text);
  });
});

describe('DNS rebinding: a foreign Host cannot read', () => {
  test('every endpoint refuses a Host that is not one of the gateway names, with or without keys', async () => {
    for (const gateway of [open, keyed]) {
      const host = `rebind.attacker.example:${portOf(gateway)}`;
      for (const path of readable) {
        const reply = await send(gateway, 'GET', path, { host, authorization: `Bearer ${CLIENT_KEY}` });
        assert.equal(reply.status, 403, `${path}: ${reply.text}`);
        assert.equal(reply.headers['x-switchyard-error-code'], 'SWY_ERR_REQUEST_HOST_NOT_ALLOWED');
        assert.match(reply.text, /server\.allowed_hosts/);
      }
      await assertNoUpstreamCall(async () => {
        // after rebinding the page is same-origin, so it can send JSON with any header it likes
        const reply = await send(gateway, 'POST', '/v1/chat/completions', { host, origin: `http://${host}`, 'content-type': 'application/json' }, JSON.stringify(surfaces[0]!.body));
        assert.equal(reply.status, 403, reply.text);
      });
    }
  });

  test('loopback names, IP addresses and *.localhost are the gateway', async () => {
    const port = portOf(open);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST.:${port}`, `[::1]:${port}`, `agent.localhost:${port}`, '127.0.0.1', `192.168.1.20:${port}`]) {
      const reply = await send(open, 'GET', '/v0/status', { host });
      assert.equal(reply.status, 200, `${host}: ${reply.text}`);
    }
  });

  test('server.allowed_hosts adds names and *.suffix patterns', async () => {
    const port = portOf(configured);
    for (const host of [`gateway.internal:${port}`, `GATEWAY.internal`, `a.corp.example:${port}`, `b.c.corp.example`]) {
      const reply = await send(configured, 'GET', '/v0/status', { host });
      assert.equal(reply.status, 200, `${host}: ${reply.text}`);
    }
    for (const host of [`corp.example:${port}`, `gateway.internal.evil.example`, `evilcorp.example`]) {
      const reply = await send(configured, 'GET', '/v0/status', { host });
      assert.equal(reply.status, 403, `${host}: ${reply.text}`);
    }
  });

  test('/healthz refuses a foreign Host too (nothing is answered under an attacker name)', async () => {
    const reply = await send(open, 'GET', '/healthz', { host: 'rebind.attacker.example' });
    assert.equal(reply.status, 403);
  });
});

describe('server.cors.allowed_origins', () => {
  test('an allowed origin calls and reads, with CORS headers on the answer', async () => {
    const reply = await send(configured, 'POST', '/v1/chat/completions', { origin: ALLOWED, 'content-type': 'application/json', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' }, JSON.stringify(surfaces[0]!.body));
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(reply.headers.vary), /origin/i);
    assert.match(String(reply.headers['access-control-expose-headers']), /x-request-id/);
    const extension = await send(configured, 'GET', '/v1/models', { origin: 'chrome-extension://abcdefghijklmnop' });
    assert.equal(extension.status, 200, extension.text);
    assert.equal(extension.headers['access-control-allow-origin'], 'chrome-extension://abcdefghijklmnop');
  });

  test('an error to an allowed origin carries the CORS headers, so the page can read why', async () => {
    const reply = await send(configured, 'POST', '/v1/chat/completions', { origin: ALLOWED, 'content-type': 'application/json' }, '{"model":"nope","messages":[{"role":"user","content":"hi"}]}');
    assert.equal(reply.status, 404, reply.text);
    assert.equal(reply.headers['access-control-allow-origin'], ALLOWED);
  });

  test('a preflight from an allowed origin is answered; from another origin it is refused', async () => {
    const asked = {
      origin: ALLOWED,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-stainless-os',
      'access-control-request-private-network': 'true',
    };
    const preflight = await send(configured, 'OPTIONS', '/v1/chat/completions', asked);
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    assert.equal(preflight.headers['access-control-allow-headers'], 'authorization, content-type, x-stainless-os');
    assert.equal(preflight.headers['access-control-allow-private-network'], 'true');
    assert.ok(Number(preflight.headers['access-control-max-age']) > 0);
    const refused = await send(configured, 'OPTIONS', '/v1/chat/completions', { ...asked, origin: 'https://evil.example' });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['access-control-allow-origin'], undefined);
    const unconfigured = await send(open, 'OPTIONS', '/v1/chat/completions', asked);
    assert.equal(unconfigured.status, 403);
  });

  test('origins are compared in the form browsers send (scheme, host, port)', async () => {
    for (const origin of ['http://localhost:5174', 'https://localhost:5173', 'http://localhost']) {
      const reply = await send(configured, 'GET', '/v1/models', { origin });
      assert.equal(reply.status, 403, origin);
    }
  });
});
