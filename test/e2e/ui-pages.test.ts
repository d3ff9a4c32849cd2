// The dashboard (/ui) in headless Chromium against a real gateway in front of a loopback mock
// provider: sign-in (a wrong key refused), every page loading without a console error or a failed
// request at 1280 and 390 px (screenshots under test-artifacts/ui/), Overview showing the
// requests, tokens and cost just sent, a provider put into cooldown by faults shown on Providers
// and cleared from the page, the request list and one request's detail, the playground streaming
// an answer, the CSP header, and the CSRF token required of cookie-authenticated changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { browserUnavailable, launchBrowser, type Browser } from '../helpers/browser.ts';
import { openPage, screenshot, signIn, type UiPage } from '../helpers/ui.ts';

const skip = browserUnavailable();
const ADMIN_KEY = 'admin-ui-secret-0123456789';
const CLIENT_KEY = 'sk-client-ui-0123456789';
const PROVIDER_KEY = 'sk-provider-ui-secret-abcdefghijkl';
const SENT = 3;
const T = { timeout: 60_000 };

let mock: MockUpstream;
let gateway: TestGateway;
let browser: Browser;
let flakyDown = false;

function completion(model: string) {
  return {
    id: 'chatcmpl-ui', object: 'chat.completion', created: 1, model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the mock.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

function chat(model: string, key = CLIENT_KEY): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

/** Asserts the page recorded no console error, page error or failed request. */
function clean(ui: UiPage, what: string): void {
  assert.deepEqual(ui.problems, [], `${what}: ${ui.problems.join('\n')}`);
}

before(async () => {
  if (skip !== undefined) return;
  mock = await startMockUpstream({ streamIntervalMs: 20 });
  mock.setScript((request) => {
    const model = request.body?.model;
    if (request.path.endsWith('/models')) return { kind: 'default' };
    if (model === 'flaky-gpt' && flakyDown) {
      return { kind: 'json', status: 429, body: { error: { message: 'slow down', type: 'rate_limit_error' } }, headers: { 'retry-after': '120' } };
    }
    if (request.body?.stream === true) return { kind: 'default' };
    return { kind: 'json', status: 200, body: completion(model) };
  });
  gateway = await startTestGateway({
    providers: [
      { name: 'main', baseUrl: `${mock.url}/v1`, models: ['mock-gpt'], apiKeys: [PROVIDER_KEY] },
      { name: 'flaky', baseUrl: `${mock.url}/v1`, models: ['flaky-gpt'] },
    ],
    models: [{ name: 'fast', targets: [{ provider: 'main', model: 'mock-gpt', weight: 2 }], fallbacks: ['flaky:flaky-gpt'] }],
    keys: [CLIENT_KEY],
    adminKeys: [ADMIN_KEY],
    prices: [{ model: 'mock-gpt', price: { input: 1000, output: 1000 } }],
    bodies: { maxBytes: 65_536, keep: 50 },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await gateway?.close();
  await mock?.close();
});

describe('the dashboard in a browser', { skip }, () => {
  test('sign-in: a wrong admin key is refused, the right one opens the dashboard; the page carries the CSP', T, async () => {
    const ui = await openPage(browser);
    try {
      const response = await ui.page.goto(`${gateway.url}/ui`);
      const csp = response.headers()['content-security-policy'];
      assert.match(csp, /default-src 'self'; script-src 'self'; style-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      await ui.page.getByLabel('Admin key').fill('not-the-admin-key');
      await ui.page.getByRole('button', { name: 'Sign in' }).click();
      await ui.page.getByRole('alert').filter({ hasText: 'not one of this gateway' }).waitFor();
      assert.equal(await ui.page.getByRole('navigation', { name: 'Pages' }).count(), 0);
      // a client key is not an admin key either
      await ui.page.getByLabel('Admin key').fill(CLIENT_KEY);
      await ui.page.getByRole('button', { name: 'Sign in' }).click();
      await ui.page.getByRole('alert').waitFor();
      await ui.page.getByLabel('Admin key').fill(ADMIN_KEY);
      await ui.page.getByRole('button', { name: 'Sign in' }).click();
      await ui.page.getByRole('navigation', { name: 'Pages' }).waitFor();
      const cookies = await ui.page.context().cookies();
      const session = cookies.find((cookie: { name: string }) => cookie.name === 'switchyard_session');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      assert.ok(!JSON.stringify(cookies).includes(ADMIN_KEY), 'the cookie is not the key');
    } finally {
      await ui.close();
    }
  });

  test(`Overview shows the ${SENT} requests sent, their tokens and cost`, T, async () => {
    for (let i = 0; i < SENT; i++) assert.equal((await chat('mock-gpt')).status, 200);
    const ui = await openPage(browser);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY);
      const tile = (id: string) => ui.page.locator(`[data-testid="${id}"] .value`);
      await ui.page.locator('[data-testid="total-requests"] .value', { hasText: String(SENT) }).waitFor();
      assert.equal(await tile('total-requests').textContent(), String(SENT));
      assert.equal(await tile('total-tokens').textContent(), String(SENT * 15));
      assert.match(await ui.page.locator('[data-testid="total-tokens"] .detail').textContent(), new RegExp(`${SENT * 10} in · ${SENT * 5} out`));
      // 15 tokens at $1,000 per million each
      assert.equal(await tile('total-cost').textContent(), `$${(SENT * 0.015).toFixed(4)}`);
      assert.equal(await tile('spend').textContent(), `$${(SENT * 0.015).toFixed(4)}`);
      clean(ui, 'overview');
    } finally {
      await ui.close();
    }
  });

  test('Providers: a provider cooled down by faults shows it; clearing it from the page makes it healthy', T, async () => {
    flakyDown = true;
    assert.equal((await chat('flaky-gpt')).status, 429);
    flakyDown = false;
    const ui = await openPage(browser);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY, '#/providers');
      const panel = ui.page.locator('[data-provider="flaky"]');
      const row = panel.locator('tr[data-model="flaky-gpt"]');
      await row.locator('.badge', { hasText: 'cooling' }).waitFor();
      assert.match(await row.textContent(), /rate-limited/);
      // keys are masked on the page
      assert.ok(!(await ui.page.content()).includes(PROVIDER_KEY));
      await panel.getByRole('button', { name: 'Clear cooldowns' }).click();
      await panel.getByRole('status').filter({ hasText: 'Cleared 1 target' }).waitFor();
      await row.locator('.badge', { hasText: 'healthy' }).waitFor();
      // routing uses it again
      assert.equal((await chat('flaky-gpt')).status, 200);
      await panel.getByRole('button', { name: 'Test connection' }).click();
      await panel.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      clean(ui, 'providers');
    } finally {
      await ui.close();
    }
  });

  test('Requests: the list, a filter, and one request with its attempts and captured bodies', T, async () => {
    const ui = await openPage(browser);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY, '#/requests');
      await ui.page.locator('tr[data-request]').first().waitFor();
      assert.ok(await ui.page.locator('tr[data-request]').count() >= SENT);
      await ui.page.getByLabel('Status').selectOption('4xx');
      await ui.page.locator('tr[data-request]', { hasText: '429' }).first().waitFor();
      await ui.page.getByLabel('Status').selectOption('ok');
      await ui.page.locator('tr[data-request]', { hasText: '200' }).first().waitFor();
      await ui.page.locator('tr[data-request] a').first().click();
      await ui.page.getByRole('heading', { name: 'Attempts' }).waitFor();
      await ui.page.getByRole('heading', { name: 'Request', exact: true }).waitFor();
      assert.match(await ui.page.locator('pre', { hasText: 'messages' }).first().textContent(), /"messages": \[/);
      clean(ui, 'requests');
    } finally {
      await ui.close();
    }
  });

  test('Models and routes: the alias and its route; the playground streams an answer with who answered', T, async () => {
    const ui = await openPage(browser);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY, '#/models');
      const alias = ui.page.locator('tr[data-alias="fast"]');
      await alias.waitFor();
      assert.match(await alias.textContent(), /main:mock-gpt \(2\)/);
      assert.match(await alias.textContent(), /flaky:flaky-gpt/);
      await ui.page.getByLabel('Model or alias').selectOption('fast');
      await ui.page.getByLabel('Prompt').fill('Say hello');
      await ui.page.getByRole('button', { name: 'Send' }).click();
      await ui.page.locator('[data-testid="playground-answer"]', { hasText: 'Hello from the mock.' }).waitFor();
      const meta = ui.page.locator('[data-testid="playground-meta"]');
      await meta.getByText('Total').waitFor();
      await meta.locator('dd', { hasText: /^main:mock-gpt/ }).waitFor();
      assert.match(await meta.textContent(), /gateway/);
      // the mock streamed with a delay between pieces: the page saw them come one by one
      const streamed = mock.requests.at(-1)!;
      assert.equal(streamed.body.stream, true);
      assert.equal(streamed.headers.authorization, `Bearer ${PROVIDER_KEY}`);
      clean(ui, 'playground');
    } finally {
      await ui.close();
    }
  });

  test('CSRF: a cookie-authenticated change without the token is refused; with it, it is made', T, async () => {
    const ui = await openPage(browser);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY);
      const statuses = await ui.page.evaluate(async () => {
        const session = await (await fetch('/ui/session')).json() as { csrf: string };
        const clear = (headers: Record<string, string>) => fetch('/v0/management/providers/main/cooldowns/clear', { method: 'POST', headers }).then((response) => response.status);
        const prompt = (headers: Record<string, string>) => fetch('/v1/chat/completions', {
          method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
        }).then((response) => response.status);
        return {
          read: await fetch('/v0/management/providers').then((response) => response.status),
          without: await clear({}),
          wrong: await clear({ 'x-switchyard-csrf': 'x'.repeat(session.csrf.length) }),
          with: await clear({ 'x-switchyard-csrf': session.csrf }),
          promptWithout: await prompt({}),
          promptWith: await prompt({ 'x-switchyard-csrf': session.csrf }),
        };
      });
      assert.deepEqual(statuses, { read: 200, without: 403, wrong: 403, with: 200, promptWithout: 401, promptWith: 200 });
    } finally {
      await ui.close();
    }
  });

  for (const width of [1280, 390]) {
    test(`every page loads cleanly at ${width} px (screenshots)`, T, async () => {
      const ui = await openPage(browser, width);
      try {
        await ui.page.goto(`${gateway.url}/ui`);
        await ui.page.getByLabel('Admin key').waitFor();
        await screenshot(ui, `login-${width}`);
        await signIn(ui, gateway.url, ADMIN_KEY);
        const links = await ui.page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents();
        assert.deepEqual(links, ['Overview', 'Providers', 'Models and routes', 'Usage and cost', 'Keys', 'Requests', 'Config']);
        for (const [hash, title, ready] of [
          ['overview', 'Overview', '[data-testid="total-requests"]'],
          ['providers', 'Providers', '[data-provider="main"]'],
          ['models', 'Models and routes', 'tr[data-alias="fast"]'],
          ['requests', 'Requests', 'tr[data-request]'],
          ['usage', 'Usage and cost', 'main p'],
          ['keys', 'Keys', 'main p'],
          ['config', 'Config', 'main p'],
        ] as const) {
          await ui.page.goto(`${gateway.url}/ui#/${hash}`);
          await ui.page.getByRole('heading', { level: 1, name: title }).waitFor();
          await ui.page.locator(ready).first().waitFor();
          assert.equal(await ui.page.locator(`nav a[aria-current="page"]`).textContent(), title);
          // nothing wider than the viewport but tables, which scroll in their own box
          const overflow = await ui.page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).document.documentElement.clientWidth);
          assert.ok(overflow <= 1, `${hash} at ${width} px is ${overflow} px too wide`);
          // Usage, Keys and Config are shown with data by ui-manage.test.ts, which takes their screenshots
          if (hash !== 'usage' && hash !== 'keys' && hash !== 'config') await screenshot(ui, `${hash}-${width}`);
        }
        // keyboard: on a fresh load the first Tab reaches the skip link (after the hash changes
        // above, focus is on the last page's heading, whose controls come next)
        await ui.page.reload();
        await ui.page.getByRole('heading', { level: 1, name: 'Config' }).waitFor();
        await ui.page.keyboard.press('Tab');
        assert.equal(await ui.page.evaluate(() => (globalThis as any).document.activeElement?.textContent), 'Skip to content');
        clean(ui, `pages at ${width} px`);
      } finally {
        await ui.close();
      }
    });
  }
});
