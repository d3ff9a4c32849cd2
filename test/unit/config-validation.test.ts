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
  assert.equal(only(['auth:', '  keys: secret']), '2:9 auth.keys: must be a list of strings or mappings');
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
  assert.equal(only(['colour: red']), '1:1 colour: unknown key; expected one of: server, auth, logging, media, storage, prices, providers, models, routing, tracing, cache, state, plugins');
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
  assert.match(problem!.message, /^unknown type 'opnai'; expected 'openai', one of the presets: openrouter, groq, .*vllm, jina, cohere, or an agent CLI: claude-code, codex, gemini-cli, opencode \(did you mean 'openai'\?\)$/);
  assert.equal(only(['providers:', '  - name: a', '    type: anthropc']),
    "3:11 providers[0].type: unknown type 'anthropc'; expected 'openai', one of the presets: openrouter, groq, together, mistral, deepseek, fireworks, xai, cerebras, deepinfra, anthropic, gemini, ollama, openai-responses, anthropic-openai, gemini-openai, azure-openai, ollama-openai, lmstudio, llamacpp, vllm, jina, cohere, or an agent CLI: claude-code, codex, gemini-cli, opencode (did you mean 'anthropic'?)");
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

const two = [
  'providers:',
  '  - { name: local, type: openai, base_url: "http://127.0.0.1:1/v1" }',
  '  - { name: openai, type: openai, api_key: k }',
];

test('routing enumerations: strategy, affinity, key_strategy', () => {
  assert.equal(only([...two, 'models:', '  - name: a', '    strategy: wieghted', '    targets: [{ provider: local, model: m }]']),
    "6:15 models[0].strategy: unknown value 'wieghted'; expected one of weighted, round-robin, fill-first, least-busy, latency, auto (did you mean 'weighted'?)");
  assert.equal(only([...two, 'models:', '  - name: a', '    affinity: sticky', '    targets: [{ provider: local, model: m }]']),
    "6:15 models[0].affinity: unknown value 'sticky'; expected one of none, session");
  assert.equal(only(['providers:', '  - { name: g, type: groq, api_key: k, key_strategy: random }']),
    "2:54 providers[0].key_strategy: unknown value 'random'; expected one of round-robin, fill-first");
});

test('routing number ranges', () => {
  assert.equal(only(['routing:', '  retry: { attempts: 0 }']), '2:22 routing.retry.attempts: must be an integer between 1 and 10');
  assert.equal(only(['routing:', '  max_attempts: 51']), '2:17 routing.max_attempts: must be an integer between 1 and 50');
  assert.equal(only(['routing:', '  retry_budget: { ratio: 11 }']), '2:26 routing.retry_budget.ratio: must be a number between 0 and 10');
  assert.equal(only(['routing:', '  cooldowns: { auth_s: -1 }']), '2:24 routing.cooldowns.auth_s: must be a number, 0 or more');
  assert.equal(only(['routing:', '  cooldowns: { eject_after: 1.5 }']), '2:29 routing.cooldowns.eject_after: must be a positive integer');
  assert.equal(only(['routing:', '  cooldowns: { max_ejection_percent: 101 }']), '2:38 routing.cooldowns.max_ejection_percent: must be an integer between 0 and 100');
  assert.equal(only(['routing:', '  cooldowns: { panic_threshold_percent: -1 }']), '2:41 routing.cooldowns.panic_threshold_percent: must be an integer between 0 and 100');
  assert.equal(only(['routing:', '  cooldowns: { success_rate_request_volume: 0 }']), '2:45 routing.cooldowns.success_rate_request_volume: must be a positive integer');
  assert.equal(only(['providers:', '  - { name: g, type: groq, api_key: k, health_check: { interval_s: 0 } }']),
    '2:68 providers[0].health_check.interval_s: must be a positive integer');
  assert.equal(only([...two, 'models:', '  - { name: a, targets: [{ provider: local, model: m, weight: -1 }] }']),
    '5:63 models[0].targets[0].weight: must be a number, 0 or more');
  assert.equal(only([...two, 'models:', '  - { name: a, targets: [{ provider: local, model: m, context_window: 0 }] }']),
    '5:71 models[0].targets[0].context_window: must be a positive integer');
  assert.equal(only(['routing:', '  colldowns: {}']), "2:3 routing.colldowns: unknown key (did you mean 'cooldowns'?)");
});

test('fallbacks and on_context_overflow name an alias or a configured provider:model', () => {
  const alias = (...lines: string[]) => [...two, 'models:', '  - { name: cheap, targets: [{ provider: openai, model: gpt-4o-mini }] }', '  - name: smart', '    targets: [{ provider: local, model: m }]', ...lines];
  assert.deepEqual(problemsOf(alias('    fallbacks: [cheap, "openai:gpt-4o-mini", "local/x/y", smart]')).map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`), [
    '8:59 models[1].fallbacks[3]: an alias cannot fall back to itself',
  ]);
  assert.equal(only(alias('    fallbacks: [cheep]')), "8:17 models[1].fallbacks[0]: no alias named 'cheep' (did you mean 'cheap'?)");
  assert.equal(only(alias('    fallbacks: [cheap, "opnai:gpt-4o"]')),
    "8:24 models[1].fallbacks[1]: no alias named 'opnai:gpt-4o', and no provider named 'opnai' (did you mean 'openai'?)");
  assert.equal(only(alias('    fallbacks: ["nowhere/gpt-4o"]')),
    "8:17 models[1].fallbacks[0]: no alias named 'nowhere/gpt-4o', and no provider named 'nowhere'; configured providers: local, openai");
  assert.equal(only(alias('    fallbacks: [gpt-4o]')), "8:17 models[1].fallbacks[0]: no alias named 'gpt-4o'; expected an alias or provider:model (aliases: cheap)");
  assert.equal(only(alias('    fallbacks: [openai]')), "8:17 models[1].fallbacks[0]: 'openai' is a provider, not a model; write openai:<model>");
  assert.equal(only(alias('    fallbacks: ["openai:"]')), '8:17 models[1].fallbacks[0]: names no model; write openai:<model>');
  assert.equal(only(alias('    on_context_overflow: smart')), '8:26 models[1].on_context_overflow: an alias cannot fall back to itself');
  assert.equal(only(alias('    on_context_overflow: lng')), "8:26 models[1].on_context_overflow: no alias named 'lng'; expected an alias or provider:model (aliases: cheap)");
  // an alias defined later in the file is known
  assert.equal(only([...two, 'models:', '  - { name: main, targets: [{ provider: local, model: m }], fallbacks: [backup], on_context_overflow: long-context }', '  - { name: backup, targets: [{ provider: local, model: m }] }']),
    "5:103 models[0].on_context_overflow: no alias named 'long-context'; expected an alias or provider:model (aliases: backup)");
});

test('an alias needs a target with a weight above 0', () => {
  assert.equal(only([...two, 'models:', '  - name: a', '    targets:', '      - { provider: local, model: m, weight: 0 }', '      - { provider: openai, model: m, weight: 0 }']),
    '7:7 models[0].targets: at least one target needs a weight above 0');
  assert.equal(parseConfigText([...two, 'models:', '  - { name: a, targets: [{ provider: local, model: m, weight: 0 }, { provider: openai, model: m }] }'].join('\n'), 't.yaml', {}).config.models[0]!.targets[1]!.weight, 1);
});

test('bounds that must not cross: back-off, rate-limit and ejection cooldowns', () => {
  assert.equal(only(['routing:', '  retry: { backoff_ms: 500, max_backoff_ms: 100 }']), '2:45 routing.retry.max_backoff_ms: must be at least backoff_ms (500)');
  assert.equal(only(['routing:', '  retry: { backoff_ms: 6000 }']), '2:24 routing.retry.backoff_ms: must not be above max_backoff_ms (5000, the default)');
  assert.equal(only(['routing:', '  retry: { max_backoff_ms: 100 }']), '2:28 routing.retry.max_backoff_ms: must be at least backoff_ms (250, the default)');
  assert.equal(only(['routing:', '  cooldowns: { rate_limit_s: 10, rate_limit_max_s: 5 }']), '2:52 routing.cooldowns.rate_limit_max_s: must be at least rate_limit_s (10)');
  assert.equal(only(['routing:', '  cooldowns: { eject_s: 600 }']), '2:25 routing.cooldowns.eject_s: must not be above eject_max_s (300, the default)');
  assert.equal(only(['routing:', '  cooldowns: { eject_max_s: 5 }']), '2:29 routing.cooldowns.eject_max_s: must be at least eject_s (10, the default)');
  // an alias's retry is checked against what it inherits from routing.retry
  const models = ['models:', '  - name: a', '    targets: [{ provider: local, model: m }]'];
  assert.equal(only([...two, 'routing:', '  retry: { max_backoff_ms: 1000 }', ...models, '    retry: { backoff_ms: 2000 }']),
    '9:26 models[0].retry.backoff_ms: must not be above max_backoff_ms (1000, from routing.retry)');
  assert.equal(only([...two, ...models, '    retry: { max_backoff_ms: 10 }']), '7:30 models[0].retry.max_backoff_ms: must be at least backoff_ms (250, the default)');
  // a conflict within routing.retry is reported once, not again for every alias inheriting it
  assert.equal(only([...two, 'routing:', '  retry: { backoff_ms: 9000 }', ...models, '    retry: { attempts: 1 }']),
    '5:24 routing.retry.backoff_ms: must not be above max_backoff_ms (5000, the default)');
});

test('session_header must be a valid header name', () => {
  assert.equal(only(['routing:', '  session_header: "x session"']), '2:19 routing.session_header: is not a valid HTTP header name');
  assert.equal(only(['routing:', '  session_header: ""']), '2:19 routing.session_header: must be a non-empty string');
});

test('the file must be a mapping', () => {
  assert.equal(only(['- just', '- a list']), '1:1 : the file must be a mapping with the sections server, auth, logging, media, storage, prices, providers, models, routing, tracing');
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
  // every section, the later ones included
  const empty = parseConfigText('cache:\nstate:\n  # redis: redis://127.0.0.1:6379\nplugins:\n', 'c.yaml', {}).config;
  assert.deepEqual([empty.plugins, empty.state.redis], [[], undefined]);
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

test('storage and prices: a PostgreSQL URL, prices as numbers, no unknown keys', () => {
  assert.equal(only(['storage:', '  url: mysql://db/x']), '2:8 storage.url: must be a PostgreSQL URL such as postgres://user:password@host:5432/database');
  assert.equal(only(['storage:', '  enabled: "yes"']), '2:12 storage.enabled: must be true or false');
  assert.equal(only(['storage:', '  paht: /tmp']), "2:3 storage.paht: unknown key (did you mean 'path'?)");
  assert.equal(only(['prices:', '  gpt-4o: { input: 2.5 }']), '2:11 prices.gpt-4o.output: is required');
  assert.equal(only(['prices:', '  gpt-4o: { input: -1, output: 10 }']), '2:20 prices.gpt-4o.input: must be a number, 0 or more');
  assert.equal(only(['prices:', '  gpt-4o: { input: 1, output: 10, cached: 1 }']), "2:35 prices.gpt-4o.cached: unknown key (did you mean 'cached_input'?)");
  assert.equal(only(['prices: [1, 2]']), '1:9 prices: must be a mapping of model names to prices, e.g. { "gpt-4o": { input: 2.5, output: 10 } }');
});
