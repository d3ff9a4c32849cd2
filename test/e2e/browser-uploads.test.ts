// A real browser (headless Chromium) on a page from another origin tries the upload endpoints,
// whose multipart/form-data bodies a page may send without any CORS preflight: a no-cors fetch of
// a FormData, sendBeacon, and a plain HTML form posted into a hidden frame (a navigation, the
// oldest way of all). The browser's local-network protections are off, so what is tested is the
// gateway's own defence. The control, with the page's origin allowed, proves the uploads arrive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { browserUnavailable, launchBrowser, type Browser } from '../helpers/browser.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const skip = browserUnavailable();
const PATHS = ['/v1/audio/transcriptions', '/v1/audio/translations', '/v1/images/edits'];

const ATTACK_PAGE = `<!doctype html><title>innocent page</title><iframe name="sink" style="display:none"></iframe><script>
const formData = () => {
  const data = new FormData();
  data.append('model', 'whisper-1');
  data.append('prompt', 'spend');
  data.append('file', new Blob([new Uint8Array(2048)], { type: 'audio/wav' }), 'a.wav');
  data.append('image', new Blob([new Uint8Array(2048)], { type: 'image/png' }), 'a.png');
  return data;
};
const postForm = (action) => new Promise((resolve) => {
  const form = document.createElement('form');
  form.method = 'POST';
  form.enctype = 'multipart/form-data';
  form.action = action;
  form.target = 'sink';
  for (const [name, value] of [['model', 'whisper-1'], ['prompt', 'spend']]) {
    const input = document.createElement('input');
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  const file = document.createElement('input');
  file.type = 'file';
  file.name = 'file';
  const transfer = new DataTransfer();
  transfer.items.add(new File([new Uint8Array(2048)], 'a.wav', { type: 'audio/wav' }));
  file.files = transfer.files;
  form.appendChild(file);
  document.body.appendChild(form);
  const frame = document.querySelector('iframe');
  const done = () => resolve('posted');
  frame.addEventListener('load', done, { once: true });
  setTimeout(done, 3000);
  form.submit();
});
window.attack = async (base) => {
  const results = {};
  for (const path of ${JSON.stringify(PATHS)}) {
    try { await fetch(base + path, { method: 'POST', mode: 'no-cors', body: formData() }); results['no-cors ' + path] = 'sent'; }
    catch (error) { results['no-cors ' + path] = 'failed: ' + error.message; }
    results['beacon ' + path] = navigator.sendBeacon(base + path, formData()) ? 'queued' : 'refused';
    results['form ' + path] = await postForm(base + path);
    try {
      const response = await fetch(base + path, { method: 'POST', headers: { authorization: 'Bearer guessed' }, body: formData() });
      results['cors ' + path] = response.status + ' ' + (await response.text()).slice(0, 200);
    } catch (error) { results['cors ' + path] = 'blocked'; }
  }
  return results;
};
</script>`;

let mock: MockUpstream;
let open: TestGateway;
let allowing: TestGateway;
let attacker: http.Server;
let attackerOrigin: string;
let browser: Browser;

before(async () => {
  if (skip !== undefined) return;
  mock = await startMockUpstream({ script: () => ({ kind: 'json', status: 200, body: { text: 'spent' } }) });
  const providers = [{
    name: 'main', baseUrl: `${mock.url}/v1`, models: ['whisper-1'],
    capabilities: { chat: true, completions: true, embeddings: true, responses: true, transcriptions: true, translations: true, imageEdits: true },
  }];
  attacker = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end(ATTACK_PAGE);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  open = await startTestGateway({ providers });
  allowing = await startTestGateway({ providers, allowedOrigins: [attackerOrigin] });
  browser = await launchBrowser({
    args: ['--disable-features=LocalNetworkAccessChecks,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests'],
  });
});

after(async () => {
  await browser?.close();
  await open?.close();
  await allowing?.close();
  await mock?.close();
  attacker?.close();
});

async function attackFrom(base: string): Promise<Record<string, string>> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${attackerOrigin}/`);
    const results = await page.evaluate((target: string) => (globalThis as any).attack(target), base);
    await page.close({ runBeforeUnload: true });
    return results as Record<string, string>;
  } finally {
    await context.close();
  }
}

function accessLines(gateway: TestGateway): Record<string, unknown>[] {
  return gateway.logs.filter((line) => line.msg === 'request');
}

describe('a page in the browser cannot upload through the gateway', { skip }, () => {
  test('no-cors FormData, sendBeacon, an HTML form post and a CORS fetch with a guessed key: all refused, the provider never called', async () => {
    const upstreamBefore = mock.requests.length;
    const seenBefore = accessLines(open).length;
    const results = await attackFrom(open.url);
    // per path: the no-cors fetch, the beacon, the form and the CORS preflight reach the gateway
    const deadline = Date.now() + 5000;
    while (accessLines(open).length - seenBefore < PATHS.length * 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(mock.requests.length, upstreamBefore, `the provider was called: ${JSON.stringify(results)}`);
    for (const path of PATHS) assert.equal(results[`cors ${path}`], 'blocked', JSON.stringify(results));
    const refused = accessLines(open).slice(seenBefore);
    assert.ok(refused.length >= PATHS.length * 4, `the browser's requests reached the gateway (${refused.length}): ${JSON.stringify(refused)}`);
    for (const line of refused) assert.equal(line.status, 403, JSON.stringify(line));
  });

  test('with the page\'s origin allowed: its CORS uploads (which carry a key header) arrive, its header-less forms still do not', async () => {
    const upstreamBefore = mock.requests.length;
    const seenBefore = accessLines(allowing).length;
    const results = await attackFrom(allowing.url);
    for (const path of PATHS) assert.match(results[`cors ${path}`]!, /^200 /, JSON.stringify(results));
    const deadline = Date.now() + 5000;
    // per path: preflight and CORS upload (answered), and the no-cors fetch, beacon and form (refused)
    while (accessLines(allowing).length - seenBefore < PATHS.length * 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(mock.requests.length, upstreamBefore + PATHS.length, 'only the uploads with a key header went upstream');
    const uploads = accessLines(allowing).slice(seenBefore).filter((line) => line.method === 'POST');
    assert.equal(uploads.filter((line) => line.status === 200).length, PATHS.length);
    assert.equal(uploads.filter((line) => line.status === 403).length, PATHS.length * 3, JSON.stringify(uploads));
  });
});
