// Canary keys sent through every path — client keys in each place a client can put them (and wrong
// ones), provider keys of every dialect that upstream errors echo back, status endpoints, config
// checks, the start-up banner — then every byte the process wrote and every answer it gave is
// searched for them. Run as the real command at trace level, so debug logging is covered too.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream, type Behavior, type RecordedRequest } from '../helpers/mock-upstream.ts';

const entry = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'switchyard-canary-'));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

const CLIENT = 'sk-canary-client-7f3a9c1e55d24b08';
const WRONG = 'sk-canary-wrong-91b2c3d4e5f60718';
const OPENAI = 'sk-canary-openai-0a1b2c3d4e5f6071';
const ANTHROPIC_1 = 'sk-ant-canary-one-aa11bb22cc33dd44';
const ANTHROPIC_2 = 'sk-ant-canary-two-ee55ff66aa77bb88';
const GEMINI = 'AIzaCanaryGemini00112233445566778899';
const CANARIES = [CLIENT, WRONG, OPENAI, ANTHROPIC_1, ANTHROPIC_2, GEMINI];

/** Every upstream answers with an error that echoes the credential it received, as real ones do. */
function echoKey(request: RecordedRequest): Behavior {
  const header = request.headers.authorization ?? request.headers['x-api-key'] ?? request.headers['x-goog-api-key'] ?? '';
  const key = String(header).replace(/^Bearer /, '');
  const model = String(request.body?.model ?? request.path);
  if (model.includes('fivehundred')) return { kind: 'json', status: 500, body: { error: { message: `internal failure for key ${key}`, type: 'server_error' } } };
  if (request.path.includes('/messages')) return { kind: 'json', status: 401, body: { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${key}` } } };
  if (request.path.includes('generateContent')) return { kind: 'json', status: 400, body: { error: { code: 400, message: `API key not valid: ${key}`, status: 'INVALID_ARGUMENT' } } };
  return { kind: 'json', status: 401, body: { error: { message: `Incorrect API key provided: ${key}.`, type: 'invalid_request_error', code: 'invalid_api_key' } } };
}

test('no canary key appears in any output, log line or answer', { timeout: 60_000 }, async (t) => {
  const mock = await startMockUpstream({ script: echoKey });
  t.after(() => mock.close());
  const config = join(dir, 'switchyard.yaml');
  writeFileSync(config, [
    'auth:',
    `  keys: ["${CLIENT}"]`,
    'routing:',
    '  cooldowns: { auth_s: 0, not_found_s: 0, rate_limit_s: 0, rate_limit_max_s: 0 }',
    'providers:',
    '  - name: oai',
    '    type: openai',
    `    base_url: ${mock.url}/v1`,
    `    api_key: ${OPENAI}`,
    '    models: ["gpt-*", "fivehundred"]',
    '  - name: claude',
    '    type: anthropic',
    `    base_url: ${mock.url}/v1`,
    `    api_keys: ["${ANTHROPIC_1}", "${ANTHROPIC_2}"]`,
    '    models: ["claude-*"]',
    '  - name: gem',
    '    type: gemini',
    `    base_url: ${mock.url}/v1beta`,
    `    api_key: ${GEMINI}`,
    '    models: ["gemini-*"]',
    '',
  ].join('\n'));

  const child = spawn(process.execPath, [entry, '--config', config, '--port', '0', '--log-level', 'trace'], { env: { PATH: process.env.PATH, SWITCHYARD_STATE_DIR: join(dir, 'state') }, cwd: dir });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const deadline = Date.now() + 15_000;
  let base: string | undefined;
  while (base === undefined) {
    const match = output.match(/http:\/\/127\.0\.0\.1:(\d+)/);
    if (match !== null && Number(match[1]) > 0) base = `http://127.0.0.1:${match[1]}`;
    else if (Date.now() > deadline) assert.fail(`the gateway did not start:\n${output}`);
    else await new Promise((resolve) => setTimeout(resolve, 25));
  }

  const answers: string[] = [];
  const send = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) => {
    const response = await fetch(`${base}${path}`, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { 'content-type': 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${await response.text()}`);
    return response.status;
  };
  const chat = (model: string, stream = false) => ({ model, stream, messages: [{ role: 'user', content: 'hi' }] });
  const bearer = { authorization: `Bearer ${CLIENT}` };

  // every client-key position, and wrong keys in each
  assert.equal(await send('/v1/chat/completions', { headers: bearer, body: chat('gpt-4o') }), 401);
  assert.equal(await send('/v1/chat/completions', { headers: bearer, body: chat('gpt-4o', true) }), 401);
  assert.equal(await send('/v1/chat/completions', { headers: bearer, body: chat('fivehundred') }), 502);
  assert.equal(await send('/v1/chat/completions', { headers: { authorization: `Bearer ${WRONG}` }, body: chat('gpt-4o') }), 401);
  assert.equal(await send('/v1/messages', { headers: { 'x-api-key': CLIENT, 'anthropic-version': '2023-06-01' }, body: { ...chat('claude-sonnet-4-5'), max_tokens: 10 } }), 401);
  assert.equal(await send('/v1/messages', { headers: { 'x-api-key': WRONG, 'anthropic-version': '2023-06-01' }, body: { ...chat('claude-sonnet-4-5'), max_tokens: 10 } }), 401);
  // translated across dialects: an OpenAI client whose model is served by Anthropic and Gemini
  await send('/v1/chat/completions', { headers: bearer, body: chat('claude-sonnet-4-5') });
  await send('/v1/chat/completions', { headers: bearer, body: chat('gemini-2.5-flash', true) });
  // Gemini's own surface with the key in the query string and in its header
  await send(`/v1beta/models/gemini-2.5-flash:generateContent?key=${CLIENT}`, { body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } });
  await send(`/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=${WRONG}`, { body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } });
  await send('/v1beta/models/gemini-2.5-flash:generateContent', { headers: { 'x-goog-api-key': CLIENT }, body: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] } });
  // status and listing endpoints
  for (const path of ['/v1/providers', '/v0/status', '/v1/models', '/metrics', '/healthz', '/readyz']) await send(path, { headers: bearer });
  await send(`/v1/models?key=${CLIENT}`);

  // the provider keys did reach the provider (so the test is not vacuous) …
  const sent = mock.requests.map((request) => JSON.stringify(request.headers)).join('\n');
  for (const key of [OPENAI, ANTHROPIC_1, ANTHROPIC_2, GEMINI]) assert.ok(sent.includes(key), `the upstream received ${key.slice(0, 16)}…`);
  // … and its errors echoed them, yet nothing the gateway said or wrote contains any canary
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  const everything = `${output}\n${answers.join('\n')}`;
  assert.ok(output.split('\n').length > 10, 'the process did write logs');
  for (const canary of CANARIES) {
    assert.ok(!everything.includes(canary), `canary ${canary.slice(0, 16)}… leaked:\n${everything.split('\n').filter((line) => line.includes(canary)).join('\n').slice(0, 2000)}`);
    assert.ok(!everything.includes(canary.slice(4, 24)), `a fragment of ${canary.slice(0, 16)}… leaked`);
  }

  // check-config output on a file with a problem next to the keys
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, `providers:\n  - name: bad\n    type: nosuchtype\n    api_key: ${OPENAI}\n    base_url: ${mock.url}/v1\nauth:\n  keys: ["${CLIENT}", 12]\n`);
  const check = spawn(process.execPath, [entry, 'check-config', broken], { env: { PATH: process.env.PATH, SWITCHYARD_STATE_DIR: join(dir, 'state') }, cwd: dir });
  let checkOutput = '';
  check.stdout.on('data', (chunk) => { checkOutput += chunk; });
  check.stderr.on('data', (chunk) => { checkOutput += chunk; });
  const code = await new Promise((resolve) => check.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(checkOutput, /nosuchtype/);
  for (const canary of CANARIES) assert.ok(!checkOutput.includes(canary), `check-config printed ${canary.slice(0, 16)}…`);
});
