// Zero-config and agent CLIs: a CLI on PATH is registered only when its login is present on disk
// (looked at for presence only), only for types this build has a driver for, and the banner line
// says it is for personal use. A temporary HOME and PATH stand in for the user's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildZeroConfig } from '../../src/config/zero-config.ts';
import { renderBanner } from '../../src/cli/banner.ts';
import type { AgentCliKind } from '../../src/config/types.ts';
import { buildRuntime } from '../../src/main.ts';
import { pino } from 'pino';

const never = async () => false;
const noKeychain = () => false;
const ALL: AgentCliKind[] = ['claude-code', 'codex', 'gemini-cli', 'opencode'];

interface Machine { home: string; bin: string; env: NodeJS.ProcessEnv }

function machine(t: { after(fn: () => void): void }): Machine {
  const root = mkdtempSync(join(tmpdir(), 'swy-zero-cli-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const home = join(root, 'home');
  const bin = join(root, 'bin');
  mkdirSync(home, { recursive: true });
  mkdirSync(bin, { recursive: true });
  return { home, bin, env: { HOME: home, PATH: bin } };
}

function install(m: Machine, command: string): string {
  const file = join(m.bin, command);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

function login(m: Machine, relative: string, content = '{"secret":"never-read-never-sent"}'): void {
  const file = join(m.home, relative);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, content, { mode: 0o600 });
}

test('every CLI installed and logged in is registered, named after its type, with the binary found on PATH', async (t) => {
  const m = machine(t);
  const paths = Object.fromEntries(['claude', 'codex', 'gemini', 'opencode'].map((command) => [command, install(m, command)]));
  login(m, '.claude/.credentials.json');
  login(m, '.codex/auth.json');
  login(m, '.gemini/oauth_creds.json');
  login(m, '.local/share/opencode/auth.json');
  const { config, found } = await buildZeroConfig(m.env, { probe: never, agentCliTypes: ALL, keychainHas: noKeychain });
  assert.deepEqual(config.providers.map((provider) => [provider.name, provider.agentCli?.type, provider.agentCli?.command, provider.agentCli?.mode]), [
    ['claude-code', 'claude-code', paths.claude, 'llm'],
    ['codex', 'codex', paths.codex, 'llm'],
    ['gemini-cli', 'gemini-cli', paths.gemini, 'llm'],
    ['opencode', 'opencode', paths.opencode, 'llm'],
  ]);
  assert.ok(config.providers.every((provider) => provider.discover), 'models come from the CLI');
  assert.equal(found.length, 4);
  assert.match(found[0]!, /^claude-code: Claude Code CLI at .*\/bin\/claude, logged in \(~\/\.claude\/\.credentials\.json\) — personal use/);
  assert.match(found[1]!, /logged in \(~\/\.codex\/auth\.json\)/);
  assert.ok(!found.join('\n').includes('never-read-never-sent'), 'a login file is never read, let alone shown');
});

test('not without the login: an installed CLI that is not logged in is only mentioned', async (t) => {
  const m = machine(t);
  install(m, 'claude');
  install(m, 'codex');
  login(m, '.codex/other.json');
  const { config, found } = await buildZeroConfig(m.env, { probe: never, agentCliTypes: ALL, keychainHas: noKeychain });
  assert.deepEqual(config.providers, []);
  assert.equal(found.length, 2);
  assert.match(found[0]!, /^claude-code: Claude Code CLI at .*, not logged in/);
});

test('not without the binary: a login on disk with nothing on PATH registers nothing', async (t) => {
  const m = machine(t);
  login(m, '.codex/auth.json');
  const { config, found } = await buildZeroConfig(m.env, { probe: never, agentCliTypes: ALL, keychainHas: noKeychain });
  assert.deepEqual(config.providers, []);
  assert.deepEqual(found, []);
});

test('login locations follow the CLIs\' own variables (CLAUDE_CONFIG_DIR, CODEX_HOME, XDG_DATA_HOME); Claude Code on macOS: the keychain item', async (t) => {
  const m = machine(t);
  install(m, 'claude');
  install(m, 'codex');
  install(m, 'opencode');
  login(m, 'work-claude/.credentials.json');
  login(m, 'codex-home/auth.json');
  login(m, 'data/opencode/auth.json');
  const env = { ...m.env, CLAUDE_CONFIG_DIR: join(m.home, 'work-claude'), CODEX_HOME: join(m.home, 'codex-home'), XDG_DATA_HOME: join(m.home, 'data') };
  const { config } = await buildZeroConfig(env, { probe: never, agentCliTypes: ALL, keychainHas: noKeychain });
  assert.deepEqual(config.providers.map((provider) => provider.name), ['claude-code', 'codex', 'opencode']);
  const asked: string[] = [];
  const keychain = await buildZeroConfig(m.env, { probe: never, agentCliTypes: ALL, keychainHas: (service) => (asked.push(service), true) });
  assert.deepEqual(keychain.config.providers.map((provider) => provider.name), ['claude-code']);
  assert.deepEqual(asked, ['Claude Code-credentials']);
  assert.match(keychain.found[0]!, /logged in \(the macOS keychain \("Claude Code-credentials"\)\)/);
});

test('only types this build has a driver for; SWITCHYARD_AGENT_CLIS=off leaves every CLI out', async (t) => {
  const m = machine(t);
  install(m, 'claude');
  install(m, 'codex');
  login(m, '.claude/.credentials.json');
  login(m, '.codex/auth.json');
  const some = await buildZeroConfig(m.env, { probe: never, agentCliTypes: ['codex'], keychainHas: noKeychain });
  assert.deepEqual(some.config.providers.map((provider) => provider.name), ['codex']);
  assert.match(some.found.join('\n'), /claude-code: Claude Code CLI at .* is logged in, but this build has no driver for it/);
  const none = await buildZeroConfig(m.env, { probe: never, keychainHas: noKeychain });
  assert.deepEqual(none.config.providers, [], 'by default a build has no drivers');
  const off = await buildZeroConfig({ ...m.env, SWITCHYARD_AGENT_CLIS: 'off' }, { probe: never, agentCliTypes: ALL, keychainHas: noKeychain });
  assert.deepEqual(off.config.providers, []);
  assert.deepEqual(off.found, []);
});

test('the banner labels an agent CLI provider "personal use"', async (t) => {
  const m = machine(t);
  install(m, 'codex');
  login(m, '.codex/auth.json');
  const { config, found } = await buildZeroConfig(m.env, { probe: never, agentCliTypes: ALL, keychainHas: noKeychain });
  const runtime = buildRuntime({ ...config, providers: [] }, pino({ level: 'silent' }));
  const banner = renderBanner('0.0.0', 'http://127.0.0.1:18080', config, runtime, 1, found);
  assert.match(banner, /codex {2}codex CLI, mode llm \(personal use\)/);
  assert.match(banner, /Detected:\n {2}codex: Codex CLI at .*personal use/);
  assert.match(banner, /^Dashboard: http:\/\/127\.0\.0\.1:18080\/ui$/m, 'the dashboard is named, with no login on loopback');
  const keyed = renderBanner('0.0.0', 'http://127.0.0.1:18080', { ...config, auth: { ...config.auth, adminKeys: ['admin-0123456789abcdef'] } }, runtime, 1, found);
  assert.match(keyed, /^Dashboard: http:\/\/127\.0\.0\.1:18080\/ui \(sign in with an admin key\)$/m);
});
