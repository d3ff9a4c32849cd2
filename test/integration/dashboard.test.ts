// The dashboard's server side without a browser: /ui served from an allow-list (the page never
// cached, assets immutable under their hash, vendor files from node_modules, 404 for anything
// else, the CSP on every answer), the session (admin key → HttpOnly SameSite=Strict cookie,
// wrong keys throttled, logout), the management API taking the cookie with the CSRF token on
// changes, the playground's path taking a session instead of a client key, the loopback session
// without admin keys, and the live view (history then a snapshot a second, with the numbers of
// the requests sent). The dashboard's own requests are not counted as traffic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { UI_CSP } from '../../src/admin/ui-assets.ts';

const ADMIN_KEY = 'admin-dash-secret-0123456789';
const CLIENT_KEY = 'sk-client-dash-0123456789';
const T = { timeout: 30_000 };

let mock: MockUpstream;
let keyed: TestGateway;
let open: TestGateway;

function json(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

async function login(gateway: TestGateway, key = ADMIN_KEY): Promise<{ cookie: string; csrf: string; response: Response }> {
  const response = await fetch(`${gateway.url}/ui/session`, json({ key }));
  const setCookie = response.headers.get('set-cookie') ?? '';
  const body = await response.json() as { csrf?: string };
  return { cookie: setCookie.split(';')[0]!, csrf: body.csrf ?? '', response };
}

/** Reads server-sent events until `count` of them arrived. */
async function events(response: Response, count: number): Promise<{ event: string; data: any }[]> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const found: { event: string; data: any }[] = [];
  while (found.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    let end;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) found.push({ event, data: JSON.parse(data) });
    }
  }
  await reader.cancel();
  return found;
}

before(async () => {
  mock = await startMockUpstream();
  mock.setScript((request) => request.body?.stream === true || request.method === 'GET' ? { kind: 'default' } : {
    kind: 'json', status: 200,
    body: { id: 'c', object: 'chat.completion', created: 1, model: 'mock-gpt', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } },
  });
  const providers = [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }];
  keyed = await startTestGateway({ providers, keys: [CLIENT_KEY], adminKeys: [ADMIN_KEY], prices: [{ model: 'mock-gpt', price: { input: 1000, output: 1000 } }] });
  open = await startTestGateway({ providers, keys: [CLIENT_KEY] });
});

after(async () => {
  await keyed?.close();
  await open?.close();
  await mock?.close();
});

describe('serving /ui', () => {
  test('the page: no-cache, the CSP and its assets under their hash, immutable; vendor files from node_modules', T, async () => {
    const page = await fetch(`${keyed.url}/ui`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-security-policy'), UI_CSP);
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    const html = await page.text();
    const base = /\/ui\/assets\/[0-9a-f]{12}\//.exec(html)?.[0];
    assert.ok(base !== undefined, html);
    assert.ok(!html.includes('<script>') && !/ on[a-z]+=/.test(html), 'no inline script');
    for (const [file, type] of [['main.js', 'text/javascript'], ['app.css', 'text/css'], ['vendor/htm-preact.js', 'text/javascript'], ['vendor/uplot.js', 'text/javascript'], ['vendor/uplot.css', 'text/css']]) {
      const asset = await fetch(`${keyed.url}${base}${file}`);
      assert.equal(asset.status, 200, file);
      assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable', file);
      assert.match(asset.headers.get('content-type')!, new RegExp(`^${type}`), file);
      assert.equal(asset.headers.get('content-security-policy'), UI_CSP);
      const etag = asset.headers.get('etag')!;
      assert.equal((await fetch(`${keyed.url}${base}${file}`, { headers: { 'if-none-match': etag } })).status, 304);
    }
    // the same page at /ui/
    assert.equal((await fetch(`${keyed.url}/ui/`)).status, 200);
  });

  test('anything else under /ui is a 404: unknown files, an old hash, paths that climb out, node_modules', T, async () => {
    const html = await (await fetch(`${keyed.url}/ui`)).text();
    const base = /\/ui\/assets\/[0-9a-f]{12}\//.exec(html)![0];
    for (const path of ['/ui/nope', '/ui/main.js', '/ui/assets/000000000000/main.js', `${base}../../package.json`, `${base}%2e%2e/%2e%2e/package.json`,
      `${base}vendor/../../../package.json`, `${base}node_modules/htm/package.json`, `${base}index.html`, `${base}`, '/ui/assets/']) {
      const response = await fetch(`${keyed.url}${path}`);
      assert.equal(response.status, 404, path);
      await response.body?.cancel();
    }
    assert.equal((await fetch(`${keyed.url}/ui/anything`, { method: 'POST' })).status, 405);
  });

  test('the dashboard\'s own requests are not counted as traffic', T, async () => {
    const before = keyed.metrics.liveTotals(Date.now()).requests;
    await (await fetch(`${keyed.url}/ui`)).text();
    await (await fetch(`${keyed.url}/ui/nope`)).text();
    await (await fetch(`${keyed.url}/ui/session`)).text();
    await (await fetch(`${keyed.url}/v0/management/models`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
    await (await fetch(`${keyed.url}/v0/management/requests/none`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
    assert.equal(keyed.metrics.liveTotals(Date.now()).requests, before);
  });
});

describe('the session and CSRF', () => {
  test('an admin key is exchanged for an HttpOnly, SameSite=Strict cookie; GET tells the page its CSRF token; DELETE ends it', T, async () => {
    const anonymous = await (await fetch(`${keyed.url}/ui/session`)).json();
    assert.deepEqual(anonymous, { authenticated: false, login_required: true });
    const { cookie, csrf, response } = await login(keyed);
    assert.equal(response.status, 200);
    const setCookie = response.headers.get('set-cookie')!;
    assert.match(setCookie, /^switchyard_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    assert.ok(!setCookie.includes(ADMIN_KEY));
    assert.ok(csrf.length >= 32);
    const session = await (await fetch(`${keyed.url}/ui/session`, { headers: { cookie } })).json() as any;
    assert.equal(session.authenticated, true);
    assert.equal(session.csrf, csrf);
    assert.match(session.admin, /^admin-[0-9a-f]{8}$/);
    assert.equal((await fetch(`${keyed.url}/v0/management/providers`, { headers: { cookie } })).status, 200);
    const logout = await fetch(`${keyed.url}/ui/session`, { method: 'DELETE', headers: { cookie } });
    assert.match(logout.headers.get('set-cookie')!, /Max-Age=0/);
    assert.equal((await fetch(`${keyed.url}/v0/management/providers`, { headers: { cookie } })).status, 401);
  });

  test('a wrong key is refused, a client key too; past 5 failures the address is throttled (429), the right key as well', T, async () => {
    const gateway = await startTestGateway({ providers: [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }], keys: [CLIENT_KEY], adminKeys: [ADMIN_KEY] });
    try {
      assert.equal((await login(gateway, CLIENT_KEY)).response.status, 401);
      for (let i = 0; i < 4; i++) assert.equal((await login(gateway, `wrong-${i}`)).response.status, 401);
      const throttled = await login(gateway);
      assert.equal(throttled.response.status, 429);
      assert.equal(throttled.cookie, '');
      // the same count as the management API's: its calls are throttled too
      assert.equal((await fetch(`${gateway.url}/v0/management/providers`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).status, 429);
    } finally {
      await gateway.close();
    }
  });

  test('a change the cookie authenticates needs the CSRF token; one sent with the admin key does not', T, async () => {
    const { cookie, csrf } = await login(keyed);
    const clear = (headers: Record<string, string>) => fetch(`${keyed.url}/v0/management/providers/main/cooldowns/clear`, { method: 'POST', headers }).then((response) => response.status);
    assert.equal(await clear({ cookie }), 403);
    assert.equal(await clear({ cookie, 'x-switchyard-csrf': 'nope' }), 403);
    assert.equal(await clear({ cookie, 'x-switchyard-csrf': csrf }), 200);
    assert.equal(await clear({ authorization: `Bearer ${ADMIN_KEY}` }), 200);
    // another session's token is not this one's
    const other = await login(keyed);
    assert.equal(await clear({ cookie, 'x-switchyard-csrf': other.csrf }), 403);
    // reads need none
    assert.equal((await fetch(`${keyed.url}/v0/management/models`, { headers: { cookie } })).status, 200);
  });

  test('the playground\'s path takes a session with its CSRF token instead of a client key; other paths do not', T, async () => {
    const { cookie, csrf } = await login(keyed);
    const body = JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] });
    const post = (path: string, headers: Record<string, string>) => fetch(`${keyed.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).then((response) => response.status);
    assert.equal(await post('/v1/chat/completions', {}), 401);
    assert.equal(await post('/v1/chat/completions', { cookie }), 401);
    assert.equal(await post('/v1/chat/completions', { cookie, 'x-switchyard-csrf': csrf }), 200);
    assert.equal(await post('/v1/completions', { cookie, 'x-switchyard-csrf': csrf }), 401);
  });

  test('without admin keys: a loopback caller gets a loopback session at once, no login', T, async () => {
    const answer = await fetch(`${open.url}/ui/session`);
    const session = await answer.json() as any;
    assert.equal(session.authenticated, true);
    assert.equal(session.login_required, false);
    assert.equal(session.admin, 'loopback');
    const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
    // the same session again, not a new one
    assert.equal((await (await fetch(`${open.url}/ui/session`, { headers: { cookie } })).json() as any).csrf, session.csrf);
    const chat = await fetch(`${open.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-switchyard-csrf': session.csrf }, body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(chat.status, 200);
  });
});

describe('the live view', () => {
  test('history first, then a snapshot a second with the requests, tokens and cost sent', T, async () => {
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${keyed.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` }, body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }) });
      assert.equal(response.status, 200);
    }
    const before = keyed.metrics.liveTotals(Date.now());
    assert.equal((await fetch(`${keyed.url}/v0/management/live`)).status, 401);
    const { cookie } = await login(keyed);
    const response = await fetch(`${keyed.url}/v0/management/live`, { headers: { cookie } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/event-stream/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const received = await events(response, 3);
    assert.deepEqual(received.map((entry) => entry.event), ['history', 'snapshot', 'snapshot']);
    assert.equal(received[0]!.data.interval_s, 10);
    assert.ok(Array.isArray(received[0]!.data.points));
    const snapshot = received[2]!.data;
    assert.equal(snapshot.totals.requests, before.requests);
    assert.equal(snapshot.totals.tokens.input, before.inputTokens);
    assert.equal(snapshot.totals.tokens.output, before.outputTokens);
    assert.ok(snapshot.totals.requests >= 2);
    assert.equal(snapshot.totals.cost_usd, Math.round(before.costUsd * 1e6) / 1e6);
    assert.equal(snapshot.spend_today_usd, snapshot.totals.cost_usd);
    assert.ok(received[2]!.data.time - received[1]!.data.time >= 900, 'a snapshot each second');
    for (const field of ['requests_per_second', 'output_tokens_per_second', 'inflight', 'streams']) assert.equal(typeof snapshot[field], 'number', field);
    for (const field of ['latency_ms', 'overhead_ms', 'ttft_ms']) assert.ok('p50' in snapshot[field] && 'p99' in snapshot[field], field);
    assert.deepEqual(Object.keys(snapshot.errors), ['client', 'server', 'upstream_attempts']);
    // the watcher's own connection is not a request in flight
    assert.equal(snapshot.inflight, 0);
  });
});
