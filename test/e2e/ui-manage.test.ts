// The dashboard's Usage, Keys and Config pages in headless Chromium against a real gateway started
// from a config file, in front of a loopback mock provider: each page loads without a console
// error or a failed request (screenshots at 1280 and 390 px under test-artifacts/ui/); N requests
// sent → Usage shows N, their tokens and cost, and its CSV has the same totals; a key created on
// the Keys page (its secret shown once) serves a request whose usage then appears; a bad key is
// refused inline; a config edit with an error shows the problem at its line and changes nothing;
// a valid edit, reviewed as a diff and applied, leaves a stream begun before it whole.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfigFileInChild } from '../../src/config/subprocess.ts';
import { ConfigFile } from '../../src/cli/serve.ts';
import type { ServeArgs } from '../../src/cli/args.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { browserUnavailable, launchBrowser, type Browser } from '../helpers/browser.ts';
import { openPage, screenshot, signIn, type UiPage } from '../helpers/ui.ts';

const skip = browserUnavailable();
const ADMIN_KEY = 'admin-manage-secret-0123456789';
const CLIENT_KEY = 'sk-client-manage-0123456789';
const SENT = 3;
const T = { timeout: 90_000 };
const STREAM_PIECES = 6;

let mock: MockUpstream;
let gateway: RunningGateway;
let browser: Browser;
let configPath: string;
/** Holds the slow stream's later pieces until the test lets them go. */
let releaseStream: () => void = () => {};
let streamGate: Promise<void> = Promise.resolve();

function completion(model: string) {
  return {
    id: 'chatcmpl-manage', object: 'chat.completion', created: 1, model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the mock.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

const piece = (content: string, finish: string | null = null) => `data: ${JSON.stringify({
  id: 'chatcmpl-slow', object: 'chat.completion.chunk', created: 1, model: 'mock-gpt',
  choices: [{ index: 0, delta: finish === null ? { content } : {}, finish_reason: finish }],
})}\n\n`;

function fileText(state: string): string {
  return [
    '# the gateway of the dashboard tests',
    'server: { host: 127.0.0.1 }',
    'auth:',
    `  keys: [${CLIENT_KEY}]`,
    `  admin_keys: [${ADMIN_KEY}]`,
    'providers:',
    '  - name: main',
    '    type: openai',
    `    base_url: ${mock.url}/v1`,
    '    api_key: sk-literal-provider-key-0123456789',
    '    models: [mock-gpt]',
    `storage: { path: ${state} }`,
    'prices:',
    '  mock-gpt: { input: 1000, output: 1000 }',
    'models:',
    '  # the fast alias',
    '  - name: fast',
    '    targets: [{ provider: main, model: mock-gpt }]',
  ].join('\n') + '\n';
}

function chat(model: string, key = CLIENT_KEY, stream = false): Promise<Response> {
  return fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

function clean(ui: UiPage, what: string): void {
  assert.deepEqual(ui.problems, [], `${what}: ${ui.problems.join('\n')}`);
}

async function shots(name: string, hash: string, ready: string): Promise<void> {
  for (const width of [1280, 390]) {
    const ui = await openPage(browser, width);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY, hash);
      await ui.page.locator(ready).first().waitFor();
      await screenshot(ui, `${name}-${width}`);
      clean(ui, `${name} at ${width} px`);
    } finally {
      await ui.close();
    }
  }
}

before(async () => {
  if (skip !== undefined) return;
  mock = await startMockUpstream();
  mock.setScript((request) => {
    if (request.path.endsWith('/models')) return { kind: 'default' };
    if (request.body?.stream === true) {
      const pieces = Array.from({ length: STREAM_PIECES }, (_unused, index) => piece(`part${index} `));
      return {
        kind: 'chunks', contentType: 'text/event-stream',
        chunks: [...pieces, piece('', 'stop'), 'data: [DONE]\n\n'],
        // the first two pieces go at once, the rest once the test releases them
        gate: (index: number) => (index === 3 ? streamGate : Promise.resolve()),
      };
    }
    return { kind: 'json', status: 200, body: completion(request.body?.model) };
  });
  const state = mkdtempSync(join(tmpdir(), 'switchyard-ui-manage-'));
  configPath = join(state, 'switchyard.yaml');
  writeFileSync(configPath, fileText(state));
  const loaded = await loadConfigFileInChild(configPath);
  const logger = pino({ level: 'silent' });
  const control = new ConfigFile({ config: loaded.config, path: configPath, notes: [] }, { command: 'serve' } as ServeArgs, logger);
  gateway = await startGateway({ config: loaded.config, logger, discover: false, host: '127.0.0.1', port: 0, configControl: control });
  control.apply = async (config) => {
    await gateway.reload(config);
    return {};
  };
  browser = await launchBrowser();
});

after(async () => {
  releaseStream();
  await browser?.close();
  await gateway?.close();
  await mock?.close();
});

describe('the Usage, Keys and Config pages in a browser', { skip }, () => {
  test(`Usage shows the ${SENT} requests sent, their tokens and cost; the CSV has the same totals`, T, async () => {
    for (let i = 0; i < SENT; i++) assert.equal((await chat('fast')).status, 200);
    const ui = await openPage(browser);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY, '#/usage');
      const tile = (id: string) => ui.page.locator(`[data-testid="${id}"] .value`);
      await tile('usage-requests').waitFor();
      assert.equal(await tile('usage-requests').textContent(), String(SENT));
      assert.equal(await tile('usage-tokens').textContent(), String(SENT * 15));
      // 15 tokens at $1,000 per million each
      assert.equal(await tile('usage-cost').textContent(), `$${(SENT * 0.015).toFixed(4)}`);
      const total = ui.page.locator('[data-testid="usage-table"] tfoot tr');
      assert.match(await total.textContent(), new RegExp(`Total${SENT}0${SENT * 10}${SENT * 5}0\\$${(SENT * 0.015).toFixed(4).replace('.', '\\.')}0`));
      assert.match(await ui.page.locator('[data-testid="usage-table"] tbody tr[data-group="mock-gpt"]').textContent(), new RegExp(`mock-gpt${SENT}`));
      for (const chart of ['day', 'model', 'provider', 'key']) assert.equal(await ui.page.locator(`[data-testid="chart-${chart}"] canvas`).count(), 1, chart);
      // the CSV link: the table's rows and totals, over the same range
      const href = await ui.page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
      const csv: string = await ui.page.evaluate((url: string) => fetch(url).then((response) => response.text()), href);
      const lines = csv.trim().split('\r\n');
      assert.equal(lines[0]!.split(',')[0], 'model');
      assert.equal(lines.at(-1), `total,${SENT},0,${SENT * 10},${SENT * 5},0,0,0,${SENT * 0.015},0,0,,0`);
      // the link itself downloads that file (a navigation with the session cookie, past the browser guard)
      const [download] = await Promise.all([ui.page.waitForEvent('download'), ui.page.getByRole('link', { name: 'Download CSV' }).click()]);
      assert.match(download.suggestedFilename(), /^switchyard-usage-by-model-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv$/);
      assert.equal(readFileSync(await download.path(), 'utf8'), csv);
      // another grouping
      await ui.page.getByLabel('Table by').selectOption('provider');
      await ui.page.locator('[data-testid="usage-table"] tbody tr[data-group="main"]').waitFor();
      clean(ui, 'usage');
    } finally {
      await ui.close();
    }
    await shots('usage', '#/usage', '[data-testid="usage-table"]');
  });

  test('Keys: a key created on the page (its secret shown once) serves a request, whose usage then shows; a bad limit is refused inline', T, async () => {
    const ui = await openPage(browser);
    let secret: string;
    try {
      await signIn(ui, gateway.url, ADMIN_KEY, '#/keys');
      await ui.page.getByText('No keys yet.').waitFor();
      await ui.page.getByRole('button', { name: 'New key' }).click();
      const form = ui.page.locator('[data-testid="key-form"]');
      await form.getByLabel('Name').fill('ui-bot');
      await form.getByLabel('Requests per minute').fill('60');
      await form.getByLabel('Budget (USD)').fill('5');
      await form.getByRole('button', { name: 'Create key' }).click();
      const shown = ui.page.locator('[data-testid="new-secret"]');
      await shown.waitFor();
      secret = await shown.getByLabel('Key ui-bot').inputValue();
      assert.match(secret, /^sy-/);
      await shown.getByRole('button', { name: 'Done' }).click();
      assert.ok(!(await ui.page.content()).includes(secret), 'the secret is gone from the page');
      clean(ui, 'keys');
      // a bad limit: the API's message, next to the form
      await ui.page.getByRole('button', { name: 'Edit ui-bot' }).click();
      const edit = ui.page.locator('[data-testid="key-form"]');
      await edit.getByLabel('Requests per minute').fill('-5');
      await edit.getByRole('button', { name: 'Save' }).click();
      assert.match(await edit.locator('[data-testid="form-error"]').textContent(), /rpm/);
      assert.equal(await edit.getByLabel('Requests per minute').getAttribute('aria-invalid'), 'true');
      // the refused PATCH (and the browser's console line about it) is the only problem
      assert.deepEqual(ui.problems.filter((problem) => !/^HTTP 400: .*\/v0\/management\/keys\/vk-|status of 400/.test(problem)), [], ui.problems.join('\n'));
    } finally {
      await ui.close();
    }
    assert.equal((await chat('fast', secret)).status, 200);
    const again = await openPage(browser);
    try {
      await signIn(again, gateway.url, ADMIN_KEY, '#/keys');
      const row = again.page.locator('tr[data-key="ui-bot"]');
      await row.getByText('1 request in all').waitFor();
      assert.match(await row.textContent(), /\$0\.0150 of \$5\.00 \/ month/);
      assert.match(await row.textContent(), /59\/60 req\/min/);
      assert.equal(await row.locator('meter').getAttribute('value'), '0.015');
      // disable, then enable
      await row.getByRole('button', { name: 'Disable ui-bot' }).click();
      await row.locator('.badge', { hasText: 'disabled' }).waitFor();
      assert.equal((await chat('fast', secret)).status, 401);
      await row.getByRole('button', { name: 'Enable ui-bot' }).click();
      await row.locator('.badge', { hasText: 'active' }).waitFor();
      // Usage by key names it
      await again.page.getByRole('link', { name: 'Usage and cost' }).click();
      await again.page.getByLabel('Table by').selectOption('key');
      await again.page.locator('[data-testid="usage-table"] tbody th', { hasText: 'ui-bot' }).waitFor();
      clean(again, 'keys after use');
    } finally {
      await again.close();
    }
    await shots('keys', '#/keys', 'tr[data-key="ui-bot"]');
  });

  test('Config: an edit with an error shows the problem at its line and changes nothing; a valid edit applies without cutting a stream in flight', T, async () => {
    const before = readFileSync(configPath, 'utf8');
    const ui = await openPage(browser);
    try {
      await signIn(ui, gateway.url, ADMIN_KEY, '#/config');
      const editor = ui.page.getByLabel('Config file text');
      await editor.waitFor();
      const text = await editor.inputValue();
      assert.ok(text.includes('# the fast alias'), 'comments kept');
      assert.ok(!text.includes('sk-literal-provider-key'), 'the literal key is masked');
      assert.ok(text.includes('[redacted]'));
      const version = await ui.page.locator('.panel-head .small').textContent();
      // an error: a misspelt section on line 2
      const lines = text.split('\n');
      lines.splice(1, 0, 'provders: []');
      await editor.fill(lines.join('\n'));
      await ui.page.getByRole('button', { name: 'Review changes' }).click();
      const problems = ui.page.locator('[data-testid="config-problems"]');
      await problems.getByText('nothing was changed').waitFor();
      assert.match(await problems.textContent(), /Line 2.*provders/);
      assert.equal(await ui.page.locator('.gutter div.bad').count(), 1);
      assert.equal(await ui.page.locator('.gutter div.bad').textContent(), '2');
      assert.equal(await ui.page.getByRole('button', { name: 'Apply' }).count(), 0, 'nothing to apply');
      assert.equal(readFileSync(configPath, 'utf8'), before);
      // a valid edit: a new alias
      await editor.fill(`${text}  - name: slow\n    targets: [{ provider: main, model: mock-gpt }]\n`);
      await ui.page.getByRole('button', { name: 'Review changes' }).click();
      const diff = ui.page.locator('[data-testid="config-diff"]');
      await diff.waitFor();
      assert.match(await diff.locator('.added').first().textContent(), /- name: slow/);
      assert.equal(await diff.locator('.removed').count(), 0);
      // a stream begun before the apply
      streamGate = new Promise((resolve) => {
        releaseStream = resolve;
      });
      const streaming = await chat('fast', CLIENT_KEY, true);
      assert.equal(streaming.status, 200);
      const reader = streaming.body!.getReader();
      let received = '';
      const decoder = new TextDecoder();
      while (!received.includes('part1')) received += decoder.decode((await reader.read()).value);
      await ui.page.getByRole('button', { name: 'Apply' }).click();
      await ui.page.locator('[data-testid="config-result"]', { hasText: 'Applied' }).waitFor();
      releaseStream();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        received += decoder.decode(value);
      }
      for (let index = 0; index < STREAM_PIECES; index++) assert.ok(received.includes(`part${index} `), `piece ${index}: ${received}`);
      assert.ok(received.includes('[DONE]'), 'the stream ended normally');
      // applied: the file keeps its comments and its key, the alias serves, a new version
      const after = readFileSync(configPath, 'utf8');
      assert.ok(after.includes('# the fast alias') && after.includes('sk-literal-provider-key-0123456789') && after.includes('name: slow'), after);
      assert.equal((await chat('slow')).status, 200);
      assert.notEqual(await ui.page.locator('.panel-head .small').textContent(), version);
      clean(ui, 'config');
    } finally {
      await ui.close();
    }
    await shots('config', '#/config', '.editor textarea');
  });
});
