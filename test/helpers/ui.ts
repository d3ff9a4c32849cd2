// The dashboard in a real browser: a page at a viewport width that records console errors,
// uncaught exceptions and failed requests (the pages must have none), signs in with an admin
// key, and saves screenshots under test-artifacts/ui/ (git-ignored).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from './browser.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(root, 'test-artifacts', 'ui');

export interface UiPage {
  // playwright-core's types are not installed with the project
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  page: any;
  /** Console errors, page errors and failed requests (network failures and HTTP statuses ≥ 400). */
  problems: string[];
  close(): Promise<void>;
}

/** A fresh browser context (no cookies) at `width` px, problems recorded from the first request. */
export async function openPage(browser: Browser, width = 1280): Promise<UiPage> {
  const context = await browser.newContext({ viewport: { width, height: width < 600 ? 844 : 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message: { type(): string; text(): string }) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error: Error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request: { url(): string; failure(): { errorText: string } | null }) => {
    // a live view or a stream the page closed on purpose is not a failure
    const reason = request.failure()?.errorText ?? '';
    if (reason !== 'net::ERR_ABORTED') problems.push(`request failed: ${request.url()} ${reason}`);
  });
  page.on('response', (response: { status(): number; url(): string }) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, problems, close: () => context.close() };
}

/** Signs in on the login page with `key`; resolves once the shell's navigation shows. */
export async function signIn(ui: UiPage, baseUrl: string, key: string, hash = '#/overview'): Promise<void> {
  await ui.page.goto(`${baseUrl}/ui${hash}`);
  await ui.page.getByLabel('Admin key').fill(key);
  await ui.page.getByRole('button', { name: 'Sign in' }).click();
  await ui.page.getByRole('navigation', { name: 'Pages' }).waitFor();
}

export async function screenshot(ui: UiPage, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await ui.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
