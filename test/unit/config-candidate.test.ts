// A candidate config laid over the file it replaces (config/candidate.ts): the file's comments and
// `${VAR}` references stay where the values did not change, what the candidate changes or drops
// goes, its own comments win, anchors are taken as the candidate wrote them, and a candidate with
// problems is refused with its own lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateOver } from '../../src/config/candidate.ts';
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
