// Headless Chromium for browser tests: Debian's `chromium` driven by playwright-core from .tools/
// (installed by scripts/install-test-tools.sh, never by `npm install`). Locally, a test without
// them skips and says how to get them; with SWITCHYARD_TEST_BROWSER set (as .ci/run does) a
// missing browser or driver fails the test instead.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const driverPath = join(root, '.tools', 'node_modules', 'playwright-core', 'index.js');
const required = process.env.SWITCHYARD_TEST_BROWSER !== undefined && process.env.SWITCHYARD_TEST_BROWSER !== '';
const executable = required ? process.env.SWITCHYARD_TEST_BROWSER! : '/usr/bin/chromium';

/** The flags the machine needs (closed network, root, no GPU), plus the browser's own protections off where noted. */
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** Why the browser tests cannot run here, or undefined when they can. Throws in CI when they cannot. */
export function browserUnavailable(): string | undefined {
  let reason: string | undefined;
  if (!existsSync(driverPath)) reason = 'playwright-core is not in .tools/ (run: bash scripts/install-test-tools.sh)';
  else if (!existsSync(executable)) reason = `no browser at ${executable} (install Debian's chromium: apt-get install chromium)`;
  if (reason !== undefined && required) throw new Error(`SWITCHYARD_TEST_BROWSER is set but ${reason}`);
  return reason;
}

export interface BrowserOptions {
  /** Extra Chromium flags (e.g. --host-resolver-rules). */
  args?: string[];
}

// playwright-core's types are not installed with the project; the tests use a small surface of it
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Browser = any;

export async function launchBrowser(options: BrowserOptions = {}): Promise<Browser> {
  const driver = await import(pathToFileURL(driverPath).href);
  const chromium = driver.chromium ?? driver.default.chromium;
  return chromium.launch({ executablePath: executable, headless: true, args: [...FLAGS, ...(options.args ?? [])] });
}
