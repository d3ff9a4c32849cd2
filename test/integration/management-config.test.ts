// The config endpoints of the management API through a real gateway started from a file: the
// effective config with every secret masked (the raw answer scanned for each), a candidate
// validated with check-config's problems, a replacement written over the file (its comments and
// `${VAR}` references kept) and applied, an invalid one refused with the file untouched, a reload
// from disk, zero-config's 409, admin-key auth and the audit log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { loadConfigFileInChild } from '../../src/config/subprocess.ts';
import { ConfigFile } from '../../src/cli/serve.ts';
import type { ServeArgs } from '../../src/cli/args.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';

const T = { timeout: 60_000 };
const ADMIN_KEY = 'admin-canary-0123456789abcdef';
const CLIENT_KEY = 'client-canary-0123456789abcdef';
// secrets the file takes from the environment, and ones written in it
const ENV = {
  SWY_TEST_PROVIDER_KEY: 'sk-provider-canary-0123456789',
  SWY_TEST_HEADER_SECRET: 'header-canary-0123456789',
  SWY_TEST_URL_PASSWORD: 'urlpass-canary-0123456789',
};
const LITERAL_PROVIDER_KEY = 'sk-literal-canary-0123456789';
const SECRETS = [ADMIN_KEY, CLIENT_KEY, LITERAL_PROVIDER_KEY, ...Object.values(ENV)];

let mock: MockUpstream;
const savedEnv: Record<string, string | undefined> = {};

before(async () => {
  mock = await startMockUpstream();
  for (const [name, value] of Object.entries(ENV)) {
    savedEnv[name] = process.env[name];
    process.env[name] = value;
  }
});

after(async () => {
  await mock?.close();
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function fileText(state: string): string {
  return [
    '# the gateway of the config tests',
    'server: { host: 127.0.0.1 }',
    'auth:',
    `  keys: [${CLIENT_KEY}]`,
    `  admin_keys: [${ADMIN_KEY}]`,
    'providers:',
    '  # the mock, with its key from the environment',
    '  - name: mock',
    '    type: openai',
    `    base_url: ${mock.url.replace('http://', 'http://user:${SWY_TEST_URL_PASSWORD}@')}/v1`,
    '    api_key: ${SWY_TEST_PROVIDER_KEY}  # kept as a reference',
    '    headers: { x-extra-secret: "${SWY_TEST_HEADER_SECRET}" }',
    '    models: [mock-gpt]',
    '  - name: other',
    '    type: openai',
    `    base_url: ${mock.url}/v1`,
    `    api_key: ${LITERAL_PROVIDER_KEY}`,
    '    models: [other-gpt]',
    `storage: { path: ${state} }`,
    'models:',
    '  # the fast alias',
    '  - name: fast',
    '    targets: [{ provider: mock, model: mock-gpt }]',
  ].join('\n') + '\n';
}

interface Started {
  running: RunningGateway;
  control: ConfigFile;
  path: string | undefined;
  logText(): string;
}

async function start(withFile: boolean): Promise<Started> {
  const state = mkdtempSync(join(tmpdir(), 'switchyard-mgmt-config-'));
  const path = join(state, 'switchyard.yaml');
  writeFileSync(path, fileText(state));
  const loaded = await loadConfigFileInChild(path);
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  }));
  const control = new ConfigFile({ config: loaded.config, path: withFile ? path : undefined, notes: [] }, { command: 'serve' } as ServeArgs, logger);
  const running = await startGateway({ config: loaded.config, logger, discover: false, host: '127.0.0.1', port: 0, configControl: control });
  control.apply = async (config) => {
    await running.reload(config);
    return {};
  };
  return { running, control, path: withFile ? path : undefined, logText: () => lines.join('') };
}

async function call(gateway: { url: string }, method: string, path: string, options: { body?: string; type?: string; key?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? ADMIN_KEY}`;
  if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/yaml';
  const response = await fetch(`${gateway.url}/v0/management${path}`, { method, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

function assertNoSecret(text: string): void {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `a secret leaked (${secret.slice(0, 12)}…): ${text.slice(0, 400)}`);
}

describe('the config endpoints', () => {
  let gateway: Started;

  before(async () => {
    gateway = await start(true);
  });

  after(async () => {
    await gateway?.running.close();
  });

  test('GET: the effective config with every secret masked; only admin keys may ask', T, async () => {
    const answer = await call(gateway.running, 'GET', '/config');
    assert.equal(answer.status, 200, answer.text);
    assertNoSecret(answer.text);
    const body = answer.json();
    assert.match(body.version, /^[0-9a-f]{12}$/);
    assert.equal(body.path, gateway.path);
    const [main, other] = body.config.providers;
    assert.deepEqual(main.apiKeys, ['[redacted]']);
    assert.equal(main.headers['x-extra-secret'], '[redacted]');
    assert.match(main.baseUrl, /^http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/v1$/);
    assert.deepEqual(other.apiKeys, ['[redacted]']);
    assert.deepEqual(body.config.auth.keys, ['[redacted]']);
    assert.deepEqual(body.config.auth.adminKeys, ['[redacted]']);
    assert.equal(body.config.models[0].name, 'fast', 'what is no secret is shown');
    // a client key is not an admin key; no key at all is refused too
    assert.equal((await call(gateway.running, 'GET', '/config', { key: CLIENT_KEY })).status, 401);
    assert.equal((await call(gateway.running, 'GET', '/config', { key: null })).status, 401);
  });

  test('validate: check-config\'s problems for an invalid candidate (its own lines), none for a valid one; YAML only', T, async () => {
    const invalid = 'server: { port: "eighty" }\nprovders: []\nmodels:\n  - name: x\n';
    const answer = await call(gateway.running, 'POST', '/config/validate', { body: invalid });
    assert.equal(answer.status, 200, answer.text);
    const body = answer.json();
    assert.equal(body.valid, false);
    let expected: unknown;
    try {
      parseConfigText(invalid, 'candidate', process.env);
    } catch (error) {
      expected = (error as ConfigError).problems;
    }
    assert.ok(Array.isArray(expected) && expected.length >= 2);
    assert.deepEqual(body.problems, expected, 'the same problems as check-config, with the candidate\'s lines');
    assert.ok(body.problems.some((problem: { path: string; line: number }) => problem.path === 'provders' && problem.line === 2));
    const valid = await call(gateway.running, 'POST', '/config/validate', { body: fileText('/tmp/x') });
    assert.deepEqual({ valid: valid.json().valid, problems: valid.json().problems }, { valid: true, problems: [] });
    // JSON is YAML
    const json = await call(gateway.running, 'POST', '/config/validate', { body: JSON.stringify({ providers: [] }), type: 'application/json' });
    assert.equal(json.json().valid, true);
    const plain = await call(gateway.running, 'POST', '/config/validate', { body: invalid, type: 'text/plain' });
    assert.equal(plain.status, 415);
    assert.equal((await call(gateway.running, 'POST', '/config/validate', { body: invalid, key: CLIENT_KEY })).status, 401);
  });

  test('what runs code is changed in the file only: a candidate that adds a plugin or an agent CLI is refused before anything of it is loaded', T, async () => {
    const before = readFileSync(gateway.path!, 'utf8');
    const marker = join(tmpdir(), `switchyard-never-${process.pid}-${Date.now()}`);
    const plugin = join(tmpdir(), `switchyard-evil-${process.pid}-${Date.now()}.mjs`);
    writeFileSync(plugin, `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, 'ran'); export default { name: 'evil', hooks: {} };\n`);
    const withPlugin = `${fileText(join(gateway.path!, '..'))}plugins:\n  - use: ${plugin}\n`;
    for (const [method, path] of [['POST', '/config/validate'], ['PUT', '/config']] as const) {
      const answer = await call(gateway.running, method, path, { body: withPlugin });
      const body = answer.json();
      assert.equal(body.valid, false, `${method} ${path}: ${answer.text}`);
      assert.ok(body.problems.some((problem: { path: string; message: string }) => problem.path === 'plugins[0].use' && /changed in the config file itself/.test(problem.message)), answer.text);
    }
    assert.equal(existsSync(marker), false, 'the plugin was never loaded');
    const withCli = fileText(join(gateway.path!, '..')).replace('providers:\n', 'providers:\n  - name: sneaky\n    type: codex\n    command: /bin/sh\n    models: [x]\n');
    const cli = (await call(gateway.running, 'PUT', '/config', { body: withCli })).json();
    assert.ok(cli.problems.some((problem: { path: string; message: string }) => problem.path === 'providers[0]' && /agent CLI/.test(problem.message)), JSON.stringify(cli));
    assert.equal(readFileSync(gateway.path!, 'utf8'), before);
  });

  test('PUT an invalid candidate: 400 with the problems, the file and the running config untouched', T, async () => {
    const before = readFileSync(gateway.path!, 'utf8');
    const version = (await call(gateway.running, 'GET', '/config')).json().version;
    const answer = await call(gateway.running, 'PUT', '/config', { body: 'providers:\n  - name: broken\n    type: nowhere\n' });
    assert.equal(answer.status, 400, answer.text);
    assert.equal(answer.json().valid, false);
    assert.ok(answer.json().problems.length > 0);
    assert.equal(readFileSync(gateway.path!, 'utf8'), before);
    assert.equal((await call(gateway.running, 'GET', '/config')).json().version, version);
    // refused by the reload guard (every provider gone without saying so): unchanged too
    const emptied = await call(gateway.running, 'PUT', '/config', { body: fileText('/tmp/x').replace(/providers:[^]*?(?=storage:)/, '') });
    assert.equal(emptied.status, 400, emptied.text);
    assert.equal(readFileSync(gateway.path!, 'utf8'), before);
  });

  test('PUT a valid candidate: written over the file with its comments and ${VAR} references kept, applied, a new version; audited', T, async () => {
    const state = join(gateway.path!, '..');
    const oldVersion = (await call(gateway.running, 'GET', '/config')).json().version;
    // the candidate as a script would write it: no comments, the provider key as its value (what a
    // caller that knows it writes), and a new alias
    const candidate = fileText(state)
      .split('\n').filter((line) => !line.trimStart().startsWith('#')).join('\n')
      .replace('  # kept as a reference', '')
      .replace('${SWY_TEST_PROVIDER_KEY}', ENV.SWY_TEST_PROVIDER_KEY)
      + '  - name: smart\n    targets: [{ provider: mock, model: mock-gpt }]\n';
    const answer = await call(gateway.running, 'PUT', '/config', { body: candidate });
    assert.equal(answer.status, 200, answer.text);
    assertNoSecret(answer.text);
    const body = answer.json();
    assert.match(body.version, /^[0-9a-f]{12}$/);
    assert.notEqual(body.version, oldVersion);
    const written = readFileSync(gateway.path!, 'utf8');
    assert.match(written, /^# the gateway of the config tests$/m, 'the file\'s comments stay');
    assert.match(written, /# the mock, with its key from the environment/);
    assert.match(written, /api_key: \$\{SWY_TEST_PROVIDER_KEY\} +# kept as a reference/, 'the reference and its comment stay');
    assert.ok(!written.includes(ENV.SWY_TEST_PROVIDER_KEY), 'the secret\'s value is never written');
    assert.ok(written.includes('${SWY_TEST_HEADER_SECRET}'));
    assert.match(written, /name: smart/);
    // applied: the new alias answers, and GET says the new version
    assert.equal((await call(gateway.running, 'GET', '/config')).json().version, body.version);
    const chat = await fetch(`${gateway.running.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: 'smart', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(chat.status, 200);
    await chat.text();
    const audit = await call(gateway.running, 'GET', '/audit');
    const entry = audit.json().data.find((row: { action: string }) => row.action === 'config.replace');
    assert.ok(entry !== undefined, audit.text);
    assert.equal(entry.target, 'config');
    assert.equal(entry.detail.version, body.version);
    assert.match(entry.actor, /^admin/);
    assertNoSecret(audit.text);
    assertNoSecret(gateway.logText());
  });

  test('GET /config/file: the file as written, literal credentials masked; sent back with an edit, the masks keep the file\'s values', T, async () => {
    const answer = await call(gateway.running, 'GET', '/config/file');
    assert.equal(answer.status, 200, answer.text);
    assertNoSecret(answer.text);
    const { text, path } = answer.json();
    assert.equal(path, gateway.path);
    assert.match(text, /^# the gateway of the config tests$/m, 'comments are shown');
    assert.match(text, /api_key: \$\{SWY_TEST_PROVIDER_KEY\} +# kept as a reference/, 'a reference is no secret: shown as written');
    assert.match(text, /api_key: "\[redacted\]"/, 'the literal key is masked in place');
    assert.match(text, /keys: \[ ?"\[redacted\]" ?\]/);
    assert.match(text, /admin_keys: \[ ?"\[redacted\]" ?\]/);
    assert.match(text, /base_url: http:\/\/user:\$\{SWY_TEST_URL_PASSWORD\}@/, 'a URL whose password is a reference is shown');
    assert.match(text, /name: other/, 'what is no secret is shown');
    // an editor sends it back with one change: the masked values stay the file's
    const edited = text + '  - name: edited\n    targets: [{ provider: other, model: other-gpt }]\n';
    assert.equal((await call(gateway.running, 'POST', '/config/validate', { body: edited })).json().valid, true);
    const put = await call(gateway.running, 'PUT', '/config', { body: edited });
    assert.equal(put.status, 200, put.text);
    const written = readFileSync(gateway.path!, 'utf8');
    assert.ok(written.includes(`api_key: ${LITERAL_PROVIDER_KEY}`), 'the literal key is still in the file');
    assert.ok(written.includes(ADMIN_KEY) && written.includes(CLIENT_KEY));
    assert.ok(!written.includes('[redacted]'));
    assert.match(written, /name: edited/);
    const chat = await fetch(`${gateway.running.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: 'edited', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(chat.status, 200, 'the client key still works: it was kept, not replaced by the mask');
    await chat.text();
    // a mask where the file has no value is a problem, and nothing is written
    const before = readFileSync(gateway.path!, 'utf8');
    const orphan = await call(gateway.running, 'PUT', '/config', { body: edited.replace('  - name: edited', '  - name: edited\n    description: "[redacted]"').replace('providers:', 'tracing: { headers: { x-new: "[redacted]" } }\nproviders:') });
    assert.equal(orphan.status, 400, orphan.text);
    assert.ok(orphan.json().problems.some((problem: { path: string }) => problem.path === 'tracing.headers.x-new'), orphan.text);
    assert.equal(readFileSync(gateway.path!, 'utf8'), before);
    assert.equal((await call(gateway.running, 'GET', '/config/file', { key: CLIENT_KEY })).status, 401);
  });

  test('POST reload: reads the file again; a broken file is refused with its problems and the config stays', T, async () => {
    const current = readFileSync(gateway.path!, 'utf8');
    writeFileSync(gateway.path!, current + '  - name: reloaded\n    targets: [{ provider: mock, model: mock-gpt }]\n');
    const answer = await call(gateway.running, 'POST', '/config/reload');
    assert.equal(answer.status, 200, answer.text);
    assert.ok(gateway.running.gateway.runtime.config.models.some((alias) => alias.name === 'reloaded'));
    const version = answer.json().version;
    writeFileSync(gateway.path!, 'providers: [ { name: x\n');
    const broken = await call(gateway.running, 'POST', '/config/reload');
    assert.equal(broken.status, 400, broken.text);
    assert.ok(broken.json().problems.length > 0);
    assert.equal((await call(gateway.running, 'GET', '/config')).json().version, version);
    writeFileSync(gateway.path!, current);
    assert.equal((await call(gateway.running, 'POST', '/config/reload', { key: CLIENT_KEY })).status, 401);
  });
});

test('zero-config: no file to write or reload is a 409 that says so; GET and validate still answer', T, async () => {
  const gateway = await start(false);
  try {
    const put = await call(gateway.running, 'PUT', '/config', { body: 'providers: []\n' });
    assert.equal(put.status, 409, put.text);
    assert.match(put.text, /zero-config.*no file to write/);
    assert.equal((await call(gateway.running, 'POST', '/config/reload')).status, 409);
    assert.equal((await call(gateway.running, 'GET', '/config')).status, 200);
    assert.equal((await call(gateway.running, 'POST', '/config/validate', { body: 'providers: []\n' })).json().valid, true);
  } finally {
    await gateway.running.close();
  }
});
