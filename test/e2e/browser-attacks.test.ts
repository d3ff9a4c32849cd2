// A real browser (headless Chromium) on a page from another origin tries to spend and read
// through the gateway: no-cors POSTs, sendBeacon, CORS fetches, and DNS rebinding (the page's own
// host name resolving to 127.0.0.1). The browser's own local-network protections are turned off,
// so what is tested is the gateway's defence, as a browser without them (or an older one) would
// meet it. Controls with the page's origin or name allowed prove the requests really arrive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { browserUnavailable, launchBrowser, type Browser } from '../helpers/browser.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const skip = browserUnavailable();
const CLIENT_KEY = 'sk-client-browser-e2e';
const REBIND_HOST = 'rebind.attacker.test';

let mock: MockUpstream;
let open: TestGateway;
let keyed: TestGateway;
let allowing: TestGateway;
let attacker: http.Server;
let attackerOrigin: string;
let browser: Browser;

/** The attack, run inside the page: every surface, three ways to send, and reads. */
const ATTACK_PAGE = `<!doctype html><title>innocent page</title><script>
window.attack = async (base, key) => {
  const chat = { model: 'mock-gpt', messages: [{ role: 'user', content: 'spend' }] };
  const posts = [
    ['/v1/chat/completions', chat],
    ['/v1/messages', { model: 'mock-gpt', max_tokens: 5, messages: [{ role: 'user', content: 'spend' }] }],
    ['/v1beta/models/mock-gpt:generateContent', { contents: [{ role: 'user', parts: [{ text: 'spend' }] }] }],
    ['/api/chat', { model: 'mock-gpt', stream: false, messages: [{ role: 'user', content: 'spend' }] }],
    ['/v1/responses', { model: 'mock-gpt', input: 'spend' }],
  ];
  const results = {};
  for (const [path, body] of posts) {
    const url = base + path + (key ? '?key=' + key : '');
    try { await fetch(url, { method: 'POST', mode: 'no-cors', body: JSON.stringify(body) }); results['no-cors ' + path] = 'sent'; }
    catch (error) { results['no-cors ' + path] = 'failed: ' + error.message; }
    results['beacon ' + path] = navigator.sendBeacon(url, JSON.stringify(body)) ? 'queued' : 'refused';
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      results['cors ' + path] = response.status + ' ' + (await response.text()).slice(0, 200);
    } catch (error) { results['cors ' + path] = 'blocked'; }
  }
  for (const path of ['/v0/status', '/v1/providers', '/v0/usage', '/metrics', '/v1/models']) {
    try {
      const response = await fetch(base + path, key ? { headers: { authorization: 'Bearer ' + key } } : {});
      results['read ' + path] = response.status + ' ' + (await response.text()).slice(0, 200);
    } catch (error) { results['read ' + path] = 'blocked'; }
  }
  return results;
};
</script>`;

before(async () => {
  if (skip !== undefined) return;
  mock = await startMockUpstream();
  const providers = [{ name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'] }];
  attacker = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(ATTACK_PAGE);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  open = await startTestGateway({ providers });
  keyed = await startTestGateway({ providers, keys: [CLIENT_KEY] });
  allowing = await startTestGateway({ providers, allowedOrigins: [attackerOrigin], allowedHosts: [REBIND_HOST] });
  browser = await launchBrowser({
    args: [
      `--host-resolver-rules=MAP ${REBIND_HOST} 127.0.0.1`,
      // the gateway must hold without the browser's help: Local/Private Network Access off
      '--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests',
    ],
  });
});

after(async () => {
  await browser?.close();
  await open?.close();
  await keyed?.close();
  await allowing?.close();
  await mock?.close();
  attacker?.close();
});

/** Runs the attack from a page at `pageUrl` (served by the attacker, or stubbed in for rebinding). */
async function attackFrom(pageUrl: string, base: string, key = ''): Promise<Record<string, string>> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    if (!pageUrl.startsWith(attackerOrigin)) {
      // DNS rebinding: the page came from the attacker's server under this name; now the name points at 127.0.0.1
      await page.route(pageUrl, (route: any) => route.fulfill({ status: 200, contentType: 'text/html', body: ATTACK_PAGE }));
    }
    await page.goto(pageUrl);
    const results = await page.evaluate(([target, secret]: string[]) => (globalThis as any).attack(target, secret), [base, key]);
    // beacons are sent after the call returns; give the browser a moment to flush them to the gateway
    await page.close({ runBeforeUnload: true });
    return results as Record<string, string>;
  } finally {
    await context.close();
  }
}

/** Waits until the gateway has answered `count` more requests than it had (so beacons are counted too). */
async function settle(gateway: TestGateway, before: number, atLeast: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (accessLines(gateway) - before < atLeast && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

function accessLines(gateway: TestGateway): number {
  return gateway.logs.filter((line) => line.msg === 'request').length;
}

describe('a page in the browser cannot spend or read', { skip }, () => {
  for (const name of ['without client keys', 'with client keys (the page guesses none)'] as const) {
    test(`cross-origin: no-cors POST, sendBeacon and CORS fetch on every surface, and reads — ${name}`, async () => {
      const gateway = name === 'without client keys' ? open : keyed;
      const upstreamBefore = mock.requests.length;
      const seenBefore = accessLines(gateway);
      const results = await attackFrom(`${attackerOrigin}/`, gateway.url);
      // 5 no-cors + 5 beacons + 5 reads reach the gateway (CORS POSTs stop at the refused preflight)
      await settle(gateway, seenBefore, 15);
      assert.equal(mock.requests.length, upstreamBefore, `the provider was called: ${JSON.stringify(results)}`);
      for (const [what, outcome] of Object.entries(results)) {
        if (what.startsWith('cors ') || what.startsWith('read ')) assert.equal(outcome, 'blocked', `${what}: ${outcome}`);
      }
      const refused = gateway.logs.filter((line) => line.msg === 'request').slice(seenBefore);
      assert.ok(refused.length >= 15, `the browser's requests reached the gateway (${refused.length})`);
      for (const line of refused) assert.equal(line.status, 403, JSON.stringify(line));
    });
  }

  test('DNS rebinding: a same-origin page under a foreign name is refused every request', async () => {
    for (const [gateway, key] of [[open, ''], [keyed, CLIENT_KEY]] as const) {
      const port = new URL(gateway.url).port;
      const upstreamBefore = mock.requests.length;
      const results = await attackFrom(`http://${REBIND_HOST}:${port}/`, `http://${REBIND_HOST}:${port}`, key);
      assert.equal(mock.requests.length, upstreamBefore, `the provider was called: ${JSON.stringify(results)}`);
      for (const [what, outcome] of Object.entries(results)) {
        if (what.startsWith('cors ') || what.startsWith('read ')) assert.match(outcome, new RegExp(`^403 .*Host '${REBIND_HOST}:${port}' is not one of the gateway's names`), `${what}: ${outcome}`);
      }
    }
  });

  test('controls: with the origin and the name allowed, the same page calls and reads', async () => {
    const upstreamBefore = mock.requests.length;
    const crossOrigin = await attackFrom(`${attackerOrigin}/`, allowing.url);
    assert.match(crossOrigin['cors /v1/chat/completions']!, /^200 /);
    assert.match(crossOrigin['read /v0/status']!, /^200 /);
    const port = new URL(allowing.url).port;
    const rebound = await attackFrom(`http://${REBIND_HOST}:${port}/`, `http://${REBIND_HOST}:${port}`);
    assert.match(rebound['cors /v1/chat/completions']!, /^200 /);
    assert.match(rebound['read /v1/models']!, /^200 /);
    assert.ok(mock.requests.length > upstreamBefore);
  });
});
