import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, formatProblems, loadConfigFile, parseConfigText, type ConfigProblem } from '../../src/config/load.ts';

function problemsOf(lines: string[], env: NodeJS.ProcessEnv = {}): ConfigProblem[] {
  try {
    parseConfigText(lines.join('\n') + '\n', 'switchyard.yaml', env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

/** The single problem of a file, as `line:column path: message`. */
function only(lines: string[]): string {
  const problems = problemsOf(lines);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  const [problem] = problems;
  return `${problem!.line}:${problem!.column} ${problem!.path}: ${problem!.message}`;
}

const local = ['  - name: local', '    type: openai', '    base_url: http://127.0.0.1:11434/v1'];

test('port out of range', () => {
  assert.equal(only(['server:', '  host: 0.0.0.0', '  port: 70000']), '3:9 server.port: must be an integer between 1 and 65535');
});

test('wrong scalar types', () => {
  assert.equal(only(['server:', '  port: high']), '2:9 server.port: must be an integer between 1 and 65535');
  assert.equal(only(['auth:', '  allow_unauthenticated: yes please']), '2:26 auth.allow_unauthenticated: must be true or false');
  assert.equal(only(['server:', '  drain_timeout_ms: -1']), '2:21 server.drain_timeout_ms: must be a non-negative integer (0 or more)');
  assert.equal(only(['auth:', '  keys: secret']), '2:9 auth.keys: must be a list of strings');
  assert.equal(only(['providers:', '  name: x']), '2:3 providers: must be a list of providers, each item starting with \'- name:\'');
});

test('unions: workers and body_limit', () => {
  assert.equal(only(['server:', '  workers: many']), "2:12 server.workers: must be an integer between 1 and 256 or 'auto'");
  assert.equal(only(['server:', '  body_limit: 12 parsecs']), "2:15 server.body_limit: must be a number of bytes or a size such as '512kb', '32mb' or '1gb'");
  assert.equal(only(['server:', '  body_limit: 0kb']), '2:15 server.body_limit: must be at least 1 byte');
});

test('unknown keys, at the key, with a suggestion when one is close', () => {
  assert.equal(only(['server:', '  prot: 1']), "2:3 server.prot: unknown key (did you mean 'port'?)");
  assert.equal(only(['providers:', ...local, '    timeout: { connect_ms: 1 }']), "5:5 providers[0].timeout: unknown key (did you mean 'timeouts'?)");
  assert.equal(only(['colour: red']), '1:1 colour: unknown key; expected one of: server, auth, logging, media, providers, models');
});

test('enumerations name the choices and the closest one', () => {
  assert.equal(only(['logging:', '  level: inof']),
    "2:10 logging.level: unknown value 'inof'; expected one of fatal, error, warn, info, debug, trace, silent (did you mean 'info'?)");
  assert.equal(only(['logging:', '  format: xml']), "2:11 logging.format: unknown value 'xml'; expected one of json, pretty");
});

test('missing required keys point at the enclosing entry', () => {
  assert.equal(only(['providers:', '  - type: groq']), '2:5 providers[0].name: is required');
  assert.equal(only(['providers:', '  - name: g']), '2:5 providers[0].type: is required');
  assert.equal(only(['providers:', ...local, 'models:', '  - name: fast']), '6:5 models[0].targets: is required');
});

test('a key with no value', () => {
  assert.equal(only(['providers:', '  - name: g', '    type: groq', '    base_url:']), '4:5 providers[0].base_url: has no value; expected a non-empty string');
});

test('provider names: allowed characters and uniqueness', () => {
  assert.equal(only(['providers:', '  - name: "ollama:local"', '    type: ollama-openai']),
    "2:11 providers[0].name: must be letters, digits, '_', '.' and '-' only (':' and '/' separate provider and model in requests)");
  assert.equal(only(['providers:', ...local, ...local]), "5:11 providers[1].name: 'local' is already used by providers[0]");
});

test('unknown provider type, with the list of presets and a suggestion', () => {
  const [problem] = problemsOf(['providers:', '  - name: a', '    type: opnai']);
  assert.equal(problem!.path, 'providers[0].type');
  assert.equal(problem!.line, 3);
  assert.equal(problem!.column, 11);
  assert.match(problem!.message, /^unknown type 'opnai'; expected 'openai' or one of the presets: openrouter, groq, .*vllm \(did you mean 'openai'\?\)$/);
  assert.equal(only(['providers:', '  - name: a', '    type: anthropc']),
    "3:11 providers[0].type: unknown type 'anthropc'; expected 'openai' or one of the presets: openrouter, groq, together, mistral, deepseek, fireworks, xai, cerebras, deepinfra, anthropic, gemini, ollama, openai-responses, anthropic-openai, gemini-openai, azure-openai, ollama-openai, lmstudio, llamacpp, vllm (did you mean 'anthropic'?)");
});

test('base_url must be an http(s) URL without query', () => {
  assert.equal(only(['providers:', '  - name: a', '    type: openai', '    base_url: localhost:11434']), '4:15 providers[0].base_url: must be an http or https URL, not localhost');
  assert.equal(only(['providers:', '  - name: a', '    type: openai', '    base_url: not a url']),
    "4:15 providers[0].base_url: must be an http(s) URL such as http://127.0.0.1:11434/v1 (got 'not a url')");
  assert.equal(only(['providers:', '  - name: a', '    type: openai', '    base_url: https://x.test/v1?version=2']),
    '4:15 providers[0].base_url: must not have a query string or fragment (API paths are appended to it)');
});

test('a preset with no default URL requires base_url', () => {
  assert.equal(only(['providers:', '  - name: az', '    type: azure-openai', '    api_key: k']),
    "2:5 providers[0].base_url: is required for type 'azure-openai' (the preset has no default URL)");
});

test('api_key and api_keys together', () => {
  assert.equal(only(['providers:', '  - name: g', '    type: groq', '    api_key: a', '    api_keys: [b]']), '5:5 providers[0].api_keys: use either api_key or api_keys, not both');
});

test('header names must be valid and not managed by the gateway', () => {
  const problems = problemsOf(['providers:', ...local, '    headers:', '      Host: x', '      "bad name": y', '      x-ok: z']);
  assert.deepEqual(problems, [
    { path: 'providers[0].headers.Host', line: 6, column: 7, message: 'is managed by the gateway and cannot be set' },
    { path: 'providers[0].headers["bad name"]', line: 7, column: 7, message: 'is not a valid HTTP header name' },
  ]);
});

test('aliases: unique names, non-empty targets, known providers', () => {
  assert.equal(only(['providers:', ...local, 'models:', '  - name: fast', '    targets: [{ provider: local, model: a }]', '  - name: fast', '    targets: [{ provider: local, model: b }]']),
    "8:11 models[1].name: 'fast' is already used by models[0]");
  assert.equal(only(['providers:', ...local, 'models:', '  - name: fast', '    targets: []']),
    '7:14 models[0].targets: must be a non-empty list of targets, each { provider, model }');
  assert.equal(only(['providers:', ...local, 'models:', '  - name: fast', '    targets:', '      - { provider: lcoal, model: x }']),
    "8:21 models[0].targets[0].provider: no provider named 'lcoal' (did you mean 'local'?)");
  assert.equal(only(['providers:', ...local, 'models:', '  - name: fast', '    targets:', '      - { provider: remote, model: x }']),
    "8:21 models[0].targets[0].provider: no provider named 'remote'; configured providers: local");
  assert.equal(only(['models:', '  - name: fast', '    targets:', '      - { provider: local, model: x }']),
    "4:21 models[0].targets[0].provider: no provider named 'local'; no providers are configured");
  assert.equal(only(['providers:', ...local, 'models:', '  - name: fast', '    targets:', '      - { provider: local, modle: x }']),
    "8:28 models[0].targets[0].modle: unknown key (did you mean 'model'?)");
});

test('the file must be a mapping', () => {
  assert.equal(only(['- just', '- a list']), '1:1 : the file must be a mapping with the sections server, auth, logging, providers, models');
});

test('YAML syntax errors carry their line, and noise on the same line is dropped', () => {
  const problems = problemsOf(['server:', '  port: 1', '  port: 2', 'auth:', '  keys: [${KEY}]']);
  assert.deepEqual(problems.map((problem) => [problem.line, problem.path, problem.message.slice(0, 30)]), [
    [3, '', "invalid YAML: key 'port' appea"],
    [5, '', 'invalid YAML: missing , or : b'],
  ]);
  assert.match(problems[1]!.message, /quote values that contain '\$\{…\}' inside \[ \] or \{ \}/);
});

test('every problem is reported at once, in file order', () => {
  const problems = problemsOf([
    'server:',
    '  port: 0',
    '  workers: many',
    'logging:',
    '  level: loud',
    'providers:',
    '  - name: local',
    '    type: opnai',
    '  - name: local',
    '    type: groq',
    '    api_key: a',
    '    api_keys: [b]',
    'models:',
    '  - name: fast',
    '    targets: [{ provider: nowhere, model: m }]',
  ]);
  assert.deepEqual(problems.map((problem) => `${problem.line} ${problem.path}`), [
    '2 server.port',
    '3 server.workers',
    '5 logging.level',
    '8 providers[0].type',
    '9 providers[1].name',
    '12 providers[1].api_keys',
    '15 models[0].targets[0].provider',
  ]);
});

test('empty sections and an empty file are valid', () => {
  assert.equal(parseConfigText('', 'empty.yaml', {}).config.providers.length, 0);
  assert.equal(parseConfigText('# nothing yet\nproviders:\n  # - name: x\nmodels:\n', 'c.yaml', {}).config.models.length, 0);
});

test('formatProblems: file:line:column, then the path', () => {
  const text = formatProblems('switchyard.yaml', [
    { path: 'providers[0].type', line: 12, column: 5, message: 'unknown type' },
    { path: '', message: 'cannot read the config file: no such file' },
  ]);
  assert.equal(text, 'switchyard.yaml:12:5  providers[0].type: unknown type\nswitchyard.yaml  cannot read the config file: no such file');
});

test('ConfigError carries the source and a readable message', () => {
  try {
    parseConfigText('server:\n  port: 0\n', 'my.yaml', {});
    assert.fail('expected a ConfigError');
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.source, 'my.yaml');
    assert.equal(error.message, 'my.yaml: 1 problem in the config\nmy.yaml:2:9  server.port: must be an integer between 1 and 65535');
  }
});

test('loadConfigFile: a missing file is a ConfigError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-config-'));
  try {
    const path = join(dir, 'nope.yaml');
    assert.throws(() => loadConfigFile(path, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [{ path: '', message: 'cannot read the config file: no such file' }]);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
