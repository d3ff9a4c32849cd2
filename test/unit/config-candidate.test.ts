// A candidate config laid over the file it replaces (config/candidate.ts): the file's comments and
// `${VAR}` references stay where the values did not change, what the candidate changes or drops
// goes, its own comments win, anchors are taken as the candidate wrote them, and a candidate with
// problems is refused with its own lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateOver, maskedFileText } from '../../src/config/candidate.ts';
import { ConfigError } from '../../src/config/config-error.ts';

const ENV = { OPENAI_KEY: 'sk-from-the-environment' };

const FILE = `# Switchyard
server:
  port: 8080 # the usual port
providers:
  # the main provider
  - name: openai
    type: openai
    api_key: \${OPENAI_KEY}
    models: [gpt-4o]
models:
  - name: fast # quick answers
    targets: [{ provider: openai, model: gpt-4o }]
`;

test('comments and references of the file stay where the values do; changes and removals are the candidate\'s', () => {
  const candidate = `server:
  port: 9090
providers:
  - name: openai
    type: openai
    api_key: sk-from-the-environment
    models: [gpt-4o, gpt-4o-mini]
`;
  const { text, loaded } = candidateOver(FILE, candidate, 'candidate', ENV);
  assert.match(text, /^# Switchyard$/m);
  assert.match(text, /port: 9090 # the usual port/, 'a changed value keeps its comment');
  assert.match(text, /# the main provider/);
  assert.match(text, /api_key: \$\{OPENAI_KEY\}/, 'the value the reference expands to: the reference stays');
  assert.ok(!text.includes('sk-from-the-environment'));
  assert.match(text, /gpt-4o-mini/);
  assert.ok(!text.includes('fast'), 'what the candidate leaves out goes');
  assert.equal(loaded.config.server.port, 9090);
  assert.deepEqual(loaded.config.providers[0]!.apiKeys, ['sk-from-the-environment']);
});

test('a candidate\'s own comments win; another value replaces the reference', () => {
  const candidate = `# written by the API
providers:
  # another comment
  - name: openai
    type: openai
    api_key: sk-another-key-entirely
    models: [gpt-4o]
`;
  const { text } = candidateOver(FILE, candidate, 'candidate', ENV);
  assert.match(text, /^# written by the API$/m);
  assert.match(text, /# another comment/);
  assert.ok(!text.includes('# the main provider'));
  assert.match(text, /api_key: sk-another-key-entirely/);
});

test('anchors and aliases are taken as the candidate wrote them', () => {
  const candidate = `x-target: &target { provider: openai, model: gpt-4o }
providers:
  - { name: openai, type: openai, api_key: k, models: [gpt-4o] }
models:
  - name: fast
    targets: [*target]
`;
  const { text, loaded } = candidateOver(FILE, candidate, 'candidate', ENV);
  assert.match(text, /&target/);
  assert.match(text, /\*target/);
  assert.equal(loaded.config.models[0]!.targets[0]!.model, 'gpt-4o');
});

test('a candidate with problems is refused with its own lines; with no file, it is written as it came', () => {
  assert.throws(() => candidateOver(FILE, 'server:\n  prot: 1\n', 'candidate', ENV), (error: unknown) => error instanceof ConfigError && error.problems[0]!.line === 2);
  const candidate = 'providers: []\n# as it came\n';
  assert.equal(candidateOver(undefined, candidate, 'candidate', ENV).text, candidate);
});

test('maskedFileText: literal credentials masked in place, references and everything else byte for byte', () => {
  const file = [
    '# comment kept',
    'auth: { keys: [sk-literal-1, "${CLIENT_KEY}"], admin_keys: [admin-literal-2] }',
    'providers:',
    '  - name: a   # trailing comment',
    '    type: openai',
    '    base_url: https://user:pw-literal-3@example.test/v1?key=q-literal-4',
    '    api_key: ${OPENAI_API_KEY}',
    '    headers: { x-title: my-app, authorization: Bearer h-literal-5 }',
    '  - name: cli',
    '    type: codex',
    '    env: { OPENAI_API_KEY: e-literal-6, HOME: /home/me }',
    'tracing: { endpoint: "http://collector:4318/v1/traces" }',
  ].join('\n') + '\n';
  const masked = maskedFileText(file);
  for (const secret of ['sk-literal-1', 'admin-literal-2', 'pw-literal-3', 'q-literal-4', 'h-literal-5', 'e-literal-6']) assert.ok(!masked.includes(secret), secret);
  // a header or environment map: every value is masked (a header set from a secret looks like any other)
  assert.ok(masked.includes('x-title: "[redacted]"') && masked.includes('HOME: "[redacted]"'));
  for (const kept of ['# comment kept', '"${CLIENT_KEY}"', '# trailing comment', 'api_key: ${OPENAI_API_KEY}', 'endpoint: "http://collector:4318/v1/traces"', 'name: cli']) assert.ok(masked.includes(kept), kept);
  assert.equal(masked.split('\n').length, file.split('\n').length, 'line for line');
});

test('a masked text sent back keeps the file\'s values; a mask the file has nothing under is a problem', () => {
  const file = 'auth: { keys: [sk-literal-1] }\nproviders:\n  - { name: a, type: openai, base_url: "http://127.0.0.1:1/v1", api_key: sk-literal-2, models: [m] }\n';
  const masked = maskedFileText(file);
  const { text } = candidateOver(file, masked.replace('models: [m]', 'models: [m, n]'), 'candidate', {});
  assert.ok(text.includes('sk-literal-1') && text.includes('sk-literal-2') && !text.includes('[redacted]'), text);
  assert.match(text, /models: \[ ?m, n ?\]/);
  assert.throws(() => candidateOver(file, masked + 'tracing: { headers: { x-new: "[redacted]" } }\n', 'candidate', {}), (error: unknown) => error instanceof ConfigError && error.problems.some((problem) => problem.path === 'tracing.headers.x-new'));
});
