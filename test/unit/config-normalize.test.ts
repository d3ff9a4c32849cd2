import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_POOL, DEFAULT_TIMEOUTS, defaultServerConfig, findConfigPath, loadConfigFile, parseConfigText,
} from '../../src/config/load.ts';
import { DEFAULT_ROUTING } from '../../src/config/defaults.ts';
import { parseBodyLimit } from '../../src/config/normalize.ts';
import type { GatewayConfig, ProviderConfig } from '../../src/config/types.ts';

function load(lines: string[], env: NodeJS.ProcessEnv = {}): GatewayConfig {
  return parseConfigText(lines.join('\n') + '\n', 'test.yaml', env).config;
}

function provider(lines: string[], env: NodeJS.ProcessEnv = {}): ProviderConfig {
  return load(['providers:', ...lines], env).providers[0]!;
}

test('defaults for an empty file', () => {
  const config = load([]);
  assert.deepEqual(config, {
    source: 'test.yaml',
    server: { host: '127.0.0.1', port: 18080, workers: 1, bodyLimitBytes: 32 * 1024 * 1024, keepAliveTimeoutMs: 65000, drainTimeoutMs: 30000, headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, allowedHosts: [], cors: { allowedOrigins: [] } },
    auth: { keys: [], allowUnauthenticated: false, adminKeys: [] },
    providers: [],
    models: [],
    routing: {
      retry: { attempts: 2, backoffMs: 250, maxBackoffMs: 5000 },
      maxAttempts: 6,
      retryBudget: { ratio: 0.2, minPerSecond: 10 },
      cooldowns: { authMs: 1_800_000, notFoundMs: 21_600_000, rateLimitMs: 1000, rateLimitMaxMs: 300_000, ejectAfter: 3, ejectMs: 10_000, ejectMaxMs: 300_000, maxEjectionPercent: 50, panicThresholdPercent: 50, successRateThresholdPercent: 50, successRateRequestVolume: 20 },
      sessionTtlMs: 3_600_000,
    },
    logging: { level: 'info', format: 'json' },
    media: { allowPrivateNetworks: false, maxBytes: 20 * 1024 * 1024, timeoutMs: 10_000 },
    storage: { enabled: true, retentionDays: 0 },
    prices: [],
    cache: { maxBytes: 64 * 1024 * 1024, maxEntryBytes: 4 * 1024 * 1024 },
    state: { keyPrefix: 'switchyard:', timeoutMs: 500 },
    plugins: [],
  });
  assert.deepEqual(config.server, defaultServerConfig);
  assert.deepEqual(config.routing, DEFAULT_ROUTING);
  assert.notEqual(config.routing, DEFAULT_ROUTING, 'the snapshot does not share the default object');
  assert.ok(Object.isFrozen(DEFAULT_ROUTING) && Object.isFrozen(DEFAULT_ROUTING.cooldowns));
});

test('exported defaults', () => {
  assert.deepEqual(DEFAULT_TIMEOUTS, { connectMs: 5000, firstByteMs: 300000, idleMs: 300000, totalMs: 0 });
  assert.deepEqual(DEFAULT_POOL, { connections: 0, keepAliveMs: 4000 });
});

test('type openai without base_url is the OpenAI service', () => {
  const openai = provider(['  - name: oa', '    type: openai', '    api_key: sk-1']);
  assert.equal(openai.preset, 'openai');
  assert.equal(openai.baseUrl, 'https://api.openai.com/v1');
  assert.ok(openai.models.includes('gpt-*'));
  assert.equal(openai.discover, false);
  assert.deepEqual(openai.apiKeys, ['sk-1']);
  assert.deepEqual(openai.auth, { header: 'authorization', prefix: 'Bearer ' });
  assert.deepEqual(openai.timeouts, DEFAULT_TIMEOUTS);
  assert.deepEqual(openai.pool, DEFAULT_POOL);
  assert.equal(openai.discoverIntervalMs, 300_000);
});

test('type openai on api.openai.com keeps the preset; elsewhere it is a plain compatible server', () => {
  const official = provider(['  - name: oa', '    type: openai', '    base_url: https://api.openai.com/v1/', '    api_key: k']);
  assert.equal(official.preset, 'openai');
  assert.ok(official.models.includes('gpt-*'));
  const custom = provider(['  - name: local', '    type: openai', '    base_url: http://127.0.0.1:11434/v1/']);
  assert.equal(custom.preset, undefined);
  assert.equal('preset' in custom, false);
  assert.equal(custom.baseUrl, 'http://127.0.0.1:11434/v1', 'trailing slash removed');
  assert.deepEqual(custom.models, []);
  assert.equal(custom.discover, true, 'no models and no discover setting → discover');
  assert.deepEqual(custom.capabilities, { chat: true, completions: true, embeddings: true, responses: false }, "a plain compatible server is not assumed to serve /responses");
});

test('presets fill in URL, auth, capabilities and models; user settings override', () => {
  const groq = provider(['  - name: g', '    type: groq', '    api_key: k']);
  assert.equal(groq.preset, 'groq');
  assert.equal(groq.baseUrl, 'https://api.groq.com/openai/v1');
  assert.deepEqual(groq.capabilities, { chat: true, completions: false, embeddings: false, responses: true, transcriptions: true, translations: true, speech: true });
  assert.equal(groq.discover, true);
  const azure = provider(['  - name: az', '    type: azure-openai', '    base_url: https://r.openai.azure.com/openai/v1///', '    api_key: k']);
  assert.equal(azure.baseUrl, 'https://r.openai.azure.com/openai/v1');
  assert.deepEqual(azure.auth, { header: 'api-key', prefix: '' });
  const mistral = provider(['  - name: m', '    type: mistral', '    api_key: k']);
  assert.ok(mistral.models.includes('mistral-*'));
  assert.equal(mistral.discover, true, "preset's discovery setting when models are not listed");
});

test('discover: explicit setting wins; listing models turns the default off', () => {
  assert.equal(provider(['  - name: l', '    type: openai', '    base_url: http://h:1/v1', '    models: [a]']).discover, false);
  assert.equal(provider(['  - name: l', '    type: openai', '    base_url: http://h:1/v1', '    models: [a]', '    discover: true']).discover, true);
  assert.equal(provider(['  - name: l', '    type: openai', '    base_url: http://h:1/v1', '    discover: false']).discover, false);
  assert.equal(provider(['  - name: l', '    type: openai', '    base_url: http://h:1/v1', '    models: []']).discover, true);
  assert.equal(provider(['  - name: r', '    type: openrouter', '    api_key: k', '    models: ["anthropic/*"]']).discover, false);
});

test('every provider key is carried into the snapshot', () => {
  const p = provider([
    '  - name: local',
    '    type: openai',
    '    base_url: http://127.0.0.1:11434/v1',
    '    api_keys: [a, "", b, a]',
    '    models: [llama3.2, "qwen3:*"]',
    '    discover: true',
    '    discover_interval_s: 60',
    '    headers: { X-Extra: value }',
    '    timeouts: { connect_ms: 1000, first_byte_ms: 2000, idle_ms: 3000, total_ms: 4000 }',
    '    pool: { connections: 8, keep_alive_ms: 1500 }',
    '    key_strategy: fill-first',
    '    health_check: { interval_s: 10, timeout_ms: 2000 }',
    '    unsupported_tools: reject',
  ]);
  assert.deepEqual(p, {
    name: 'local',
    dialect: 'openai',
    baseUrl: 'http://127.0.0.1:11434/v1',
    apiKeys: ['a', 'b'],
    auth: { header: 'authorization', prefix: 'Bearer ' },
    models: ['llama3.2', 'qwen3:*'],
    discover: true,
    discoverIntervalMs: 60_000,
    headers: { 'x-extra': 'value' },
    timeouts: { connectMs: 1000, firstByteMs: 2000, idleMs: 3000, totalMs: 4000 },
    pool: { connections: 8, keepAliveMs: 1500 },
    capabilities: { chat: true, completions: true, embeddings: true, responses: false },
    keyStrategy: 'fill-first',
    unsupportedTools: 'reject',
    healthCheck: { intervalMs: 10_000, timeoutMs: 2000 },
  });
});

test('key_strategy defaults to round-robin; health_check is off unless given, and {} means its defaults', () => {
  const plain = provider(['  - { name: g, type: groq, api_key: k }']);
  assert.equal(plain.keyStrategy, 'round-robin');
  assert.equal('healthCheck' in plain, false);
  const checked = provider(['  - { name: g, type: groq, api_key: k, health_check: {} }']);
  assert.deepEqual(checked.healthCheck, { intervalMs: 30_000, timeoutMs: 5000 });
  assert.deepEqual(provider(['  - { name: g, type: groq, api_key: k, health_check: { timeout_ms: 100 } }']).healthCheck, { intervalMs: 30_000, timeoutMs: 100 });
});

test('body_limit: numbers and sizes', () => {
  assert.equal(parseBodyLimit(1000), 1000);
  assert.equal(parseBodyLimit('512kb'), 512 * 1024);
  assert.equal(parseBodyLimit('32mb'), 32 * 1024 * 1024);
  assert.equal(parseBodyLimit('1gb'), 1024 ** 3);
  assert.equal(parseBodyLimit('1.5 MB'), 1.5 * 1024 * 1024);
  assert.equal(parseBodyLimit('64k'), 64 * 1024);
  assert.equal(parseBodyLimit('2MiB'), 2 * 1024 * 1024);
  assert.equal(parseBodyLimit('100b'), 100);
  assert.equal(parseBodyLimit('100'), 100);
  assert.ok(Number.isNaN(parseBodyLimit('lots')));
  assert.equal(load(['server:', '  body_limit: 512kb']).server.bodyLimitBytes, 524288);
  assert.equal(load(['server:', '  body_limit: 1048576']).server.bodyLimitBytes, 1048576);
  assert.equal(load(['server:', '  body_limit: "1048576"']).server.bodyLimitBytes, 1048576);
});

test('empty keys are dropped from auth.keys and api_keys; unset key means no auth', () => {
  const config = load([
    'auth:',
    '  keys: ["${SWY_A}", "${SWY_B:-}", fixed]',
    'providers:',
    '  - name: g',
    '    type: groq',
    '    api_keys: ["${GROQ_1}", "${GROQ_2:-}", "${GROQ_3}"]',
  ], { SWY_A: 'alpha', GROQ_3: 'g3' });
  assert.deepEqual(config.auth.keys, ['alpha', 'fixed']);
  assert.deepEqual(config.providers[0]!.apiKeys, ['g3']);
  assert.deepEqual(load(['auth:', '  keys: ["${SWITCHYARD_KEY}"]']).auth.keys, []);
});

test('a cloud preset with no api_key at all warns; a local one does not', () => {
  const cloud = parseConfigText('providers:\n  - name: g\n    type: groq\n', 't.yaml', {});
  assert.deepEqual(cloud.warnings, ['t.yaml:2:5  providers[0]: no api_key, so requests are sent without credentials (e.g. api_key: ${GROQ_API_KEY})']);
  const local = parseConfigText('providers:\n  - name: o\n    type: ollama-openai\n  - name: v\n    type: vllm\n', 't.yaml', {});
  assert.deepEqual(local.warnings, []);
});

test('aliases are carried over', () => {
  const config = load([
    'providers:',
    '  - { name: a, type: openai, base_url: "http://127.0.0.1:1/v1" }',
    '  - { name: b, type: openai, base_url: "http://127.0.0.1:2/v1" }',
    'models:',
    '  - name: fast',
    '    targets: [{ provider: a, model: m1 }, { provider: b, model: m2 }]',
  ]);
  assert.deepEqual(config.models, [{
    name: 'fast',
    targets: [{ provider: 'a', model: 'm1', weight: 1 }, { provider: 'b', model: 'm2', weight: 1 }],
    strategy: 'round-robin',
    fallbacks: [],
    retry: { attempts: 2, backoffMs: 250, maxBackoffMs: 5000 },
    affinity: 'none',
  }]);
  for (const key of ['onContextOverflow', 'timeouts', 'unsupportedTools']) assert.equal(key in config.models[0]!, false, key);
  assert.equal('contextWindow' in config.models[0]!.targets[0]!, false);
});

test('routing and alias routing keys, fully given', () => {
  const config = load([
    'routing:',
    '  retry: { attempts: 4, backoff_ms: 100, max_backoff_ms: 2000 }',
    '  max_attempts: 9',
    '  retry_budget: { ratio: 0.5, min_per_second: 2.5 }',
    '  cooldowns: { auth_s: 60, not_found_s: 0, rate_limit_s: 0.5, rate_limit_max_s: 30, eject_after: 5, eject_s: 1.25, eject_max_s: 120, max_ejection_percent: 34, panic_threshold_percent: 0, success_rate_threshold_percent: 25, success_rate_request_volume: 100 }',
    '  session_header: X-My-Session',
    '  session_ttl_s: 600',
    'providers:',
    '  - { name: anthropic, type: anthropic, api_key: k }',
    '  - { name: openai, type: openai, api_key: k }',
    'models:',
    '  - name: smart',
    '    strategy: weighted',
    '    targets:',
    '      - { provider: anthropic, model: claude-sonnet-4-5, weight: 3, context_window: 200000 }',
    '      - { provider: openai, model: gpt-4o, weight: 0 }',
    '    fallbacks: [cheap, "openai:gpt-4o-mini", "openai/gpt-4o"]',
    '    on_context_overflow: long',
    '    retry: { attempts: 3 }',
    '    timeouts: { connect_ms: 1000, total_ms: 0 }',
    '    affinity: session',
    '    unsupported_tools: reject',
    '  - { name: cheap, strategy: least-busy, targets: [{ provider: openai, model: gpt-4o-mini }], retry: { max_backoff_ms: 150 } }',
    '  - { name: long, strategy: latency, targets: [{ provider: anthropic, model: claude-sonnet-4-5 }], timeouts: {} }',
  ]);
  assert.deepEqual(config.routing, {
    retry: { attempts: 4, backoffMs: 100, maxBackoffMs: 2000 },
    maxAttempts: 9,
    retryBudget: { ratio: 0.5, minPerSecond: 2.5 },
    cooldowns: { authMs: 60_000, notFoundMs: 0, rateLimitMs: 500, rateLimitMaxMs: 30_000, ejectAfter: 5, ejectMs: 1250, ejectMaxMs: 120_000, maxEjectionPercent: 34, panicThresholdPercent: 0, successRateThresholdPercent: 25, successRateRequestVolume: 100 },
    sessionHeader: 'x-my-session',
    sessionTtlMs: 600_000,
  });
  const [smart, cheap, long] = config.models;
  assert.deepEqual(smart, {
    name: 'smart',
    targets: [
      { provider: 'anthropic', model: 'claude-sonnet-4-5', weight: 3, contextWindow: 200_000 },
      { provider: 'openai', model: 'gpt-4o', weight: 0 },
    ],
    strategy: 'weighted',
    fallbacks: ['cheap', 'openai:gpt-4o-mini', 'openai/gpt-4o'],
    onContextOverflow: 'long',
    retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 2000 },
    timeouts: { connectMs: 1000, totalMs: 0 },
    affinity: 'session',
    unsupportedTools: 'reject',
  });
  assert.equal(cheap!.strategy, 'least-busy');
  assert.deepEqual(cheap!.retry, { attempts: 4, backoffMs: 100, maxBackoffMs: 150 }, 'merged key by key with routing.retry');
  assert.equal(long!.strategy, 'latency');
  assert.equal('timeouts' in long!, false, 'an empty timeouts mapping overrides nothing');
});

test('routing: partial sections keep the defaults of the keys not given', () => {
  const { routing } = load(['routing:', '  retry: { attempts: 1 }', '  cooldowns: { eject_after: 1 }', '  retry_budget: { ratio: 0 }']);
  assert.deepEqual(routing, {
    ...DEFAULT_ROUTING,
    retry: { ...DEFAULT_ROUTING.retry, attempts: 1 },
    cooldowns: { ...DEFAULT_ROUTING.cooldowns, ejectAfter: 1 },
    retryBudget: { ...DEFAULT_ROUTING.retryBudget, ratio: 0 },
  });
  assert.equal('sessionHeader' in routing, false);
  assert.equal(load(['routing: {}']).routing.maxAttempts, 6);
});

test('routing numbers may come from environment variables', () => {
  const { routing } = load(['routing:', '  max_attempts: ${SWY_ATTEMPTS}', '  cooldowns: { rate_limit_s: "${SWY_RL:-0.25}" }'], { SWY_ATTEMPTS: '3' });
  assert.equal(routing.maxAttempts, 3);
  assert.equal(routing.cooldowns.rateLimitMs, 250);
});

test('the snapshot is deeply frozen', () => {
  const config = load([
    'providers:',
    '  - { name: a, type: groq, api_key: k, headers: { x: y } }',
    'models:',
    '  - { name: f, targets: [{ provider: a, model: m }], fallbacks: ["a:x"], timeouts: { idle_ms: 1 } }',
  ]);
  const seen: unknown[] = [];
  const walk = (value: unknown) => {
    if (typeof value !== 'object' || value === null) return;
    assert.ok(Object.isFrozen(value), `not frozen: ${JSON.stringify(value)}`);
    seen.push(value);
    for (const child of Object.values(value)) walk(child);
  };
  walk(config);
  assert.ok(seen.length > 15);
  assert.throws(() => { (config.server as { port: number }).port = 1; }, TypeError);
  assert.throws(() => { (config.providers as unknown[]).push({}); }, TypeError);
  assert.throws(() => { (config.providers[0]!.auth as { prefix: string }).prefix = ''; }, TypeError);
  // presets are shared data: freezing a snapshot must not freeze (or alias) them
  const again = load(['providers:', '  - { name: b, type: groq, api_key: k }']);
  assert.notEqual(again.providers[0]!.auth, config.providers[0]!.auth);
});

test('findConfigPath: --config, then $SWITCHYARD_CONFIG, then ./switchyard.yaml, else zero-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-find-'));
  try {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    assert.equal(findConfigPath(undefined, {}, empty), undefined);
    assert.equal(findConfigPath(undefined, { SWITCHYARD_CONFIG: '' }, empty), undefined);
    writeFileSync(join(dir, 'switchyard.yaml'), '');
    assert.equal(findConfigPath(undefined, {}, dir), join(dir, 'switchyard.yaml'));
    assert.equal(findConfigPath(undefined, { SWITCHYARD_CONFIG: 'env.yaml' }, dir), join(dir, 'env.yaml'));
    assert.equal(findConfigPath(undefined, { SWITCHYARD_CONFIG: '/etc/swy.yaml' }, dir), '/etc/swy.yaml');
    assert.equal(findConfigPath('cli.yaml', { SWITCHYARD_CONFIG: 'env.yaml' }, dir), join(dir, 'cli.yaml'));
    mkdirSync(join(empty, 'switchyard.yaml'));
    assert.equal(findConfigPath(undefined, {}, empty), undefined, 'a directory named switchyard.yaml is not a config');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('switchyard.example.yaml parses, with and without its variables set', () => {
  const path = new URL('../../switchyard.example.yaml', import.meta.url);
  const bare = parseConfigText(readFileSync(path, 'utf8'), 'switchyard.example.yaml', {});
  assert.equal(bare.config.providers.length, 4);
  assert.deepEqual(bare.config.auth.keys, []);
  assert.ok(bare.warnings.some((warning) => warning.includes('SWITCHYARD_KEY')));
  const env = { SWITCHYARD_KEY: 'client', OPENAI_API_KEY: 'sk', OPENROUTER_API_KEY: 'or', AZURE_OPENAI_API_KEY: 'az', SWITCHYARD_PORT: '9999' };
  const { config, warnings } = loadConfigFile(path.pathname, env);
  assert.deepEqual(warnings, []);
  assert.equal(config.server.port, 9999);
  assert.deepEqual(config.auth.keys, ['client']);
  assert.deepEqual(config.providers.map((p) => [p.name, p.preset ?? 'generic', p.baseUrl]), [
    ['openai', 'openai', 'https://api.openai.com/v1'],
    ['local', 'generic', 'http://127.0.0.1:11434/v1'],
    ['openrouter', 'openrouter', 'https://openrouter.ai/api/v1'],
    ['azure', 'azure-openai', 'https://my-resource.openai.azure.com/openai/v1'],
  ]);
  assert.deepEqual(config.models.map((alias) => alias.name), ['fast', 'smart']);
  const smart = config.models[1]!;
  assert.equal(smart.strategy, 'weighted');
  assert.deepEqual(smart.fallbacks, ['fast', 'openai:gpt-4o-mini']);
  assert.deepEqual(smart.retry, { attempts: 3, backoffMs: 250, maxBackoffMs: 5000 });
  assert.deepEqual(config.routing, DEFAULT_ROUTING, 'the example lists the routing defaults');
  assert.equal(config.providers[2]!.keyStrategy, 'round-robin');
  assert.deepEqual(config.providers[1]!.healthCheck, { intervalMs: 30_000, timeoutMs: 5000 });
});

test('top-level x- keys hold YAML anchors and are otherwise ignored', () => {
  const config = load([
    'x-slow: &slow',
    '  idle_ms: 600000',
    'providers:',
    '  - name: a',
    '    type: groq',
    '    api_key: k',
    '    timeouts:',
    '      <<: *slow',
    '      connect_ms: 100',
    '  - name: b',
    '    type: groq',
    '    api_key: k',
    '    timeouts: *slow',
  ]);
  assert.deepEqual(config.providers.map((p) => [p.timeouts.connectMs, p.timeouts.idleMs]), [[100, 600000], [5000, 600000]]);
});

test('capabilities can be overridden per provider', () => {
  const { config } = parseConfigText('providers:\n  - name: vllm\n    type: openai\n    base_url: http://127.0.0.1:8000/v1\n    capabilities: { responses: true, embeddings: false }\n', 'test.yaml', {});
  assert.deepEqual(config.providers[0]!.capabilities, { chat: true, completions: true, embeddings: false, responses: true });
});

test('media capabilities: the preset says which endpoints a vendor serves; the config turns them on or off (snake_case names)', () => {
  const { config } = parseConfigText([
    'providers:',
    '  - { name: oai, type: openai, api_key: k }',
    '  - { name: v, type: vllm, capabilities: { rerank: false } }',
    '  - name: whisper',
    '    type: openai',
    '    base_url: http://127.0.0.1:9000/v1',
    '    capabilities: { chat: false, transcriptions: true, image_edits: true }',
  ].join('\n'), 'test.yaml', {});
  const [oai, vllm, whisper] = config.providers;
  assert.deepEqual(oai!.capabilities, {
    chat: true, completions: true, embeddings: true, responses: true,
    images: true, imageEdits: true, transcriptions: true, translations: true, speech: true, moderations: true,
  });
  assert.equal(vllm!.capabilities.transcriptions, true);
  assert.equal(vllm!.capabilities.rerank, false);
  assert.deepEqual(whisper!.capabilities, { chat: false, completions: true, embeddings: true, responses: false, transcriptions: true, imageEdits: true });
});

test('storage: path from the config file\'s directory or the home directory, url kept; prices: provider:model only for configured providers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-storage-'));
  try {
    const file = join(dir, 'switchyard.yaml');
    writeFileSync(file, 'storage:\n  path: state\n');
    assert.deepEqual(loadConfigFile(file, {}).config.storage, { enabled: true, retentionDays: 0, path: join(dir, 'state') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(load(['storage:', '  path: ~/usage']).storage, { enabled: true, retentionDays: 0, path: join(homedir(), 'usage') });
  assert.deepEqual(load(['storage:', '  path: /var/lib/switchyard', '  enabled: false', '  retention_days: 90']).storage, { enabled: false, retentionDays: 90, path: '/var/lib/switchyard' });
  assert.deepEqual(load(['storage:', '  url: ${DB}'], { DB: 'postgres://u:p@db:5432/usage' }).storage, { enabled: true, retentionDays: 0, url: 'postgres://u:p@db:5432/usage' });
  assert.deepEqual(load(['storage:', '  url: ${DB:-}'], {}).storage, { enabled: true, retentionDays: 0 }, 'an unset variable means SQLite');

  const config = load([
    'providers:', '  - name: lms', '    type: lmstudio',
    'prices:',
    '  "lms:qwen3:*": { input: 0.1, output: 0.2, reasoning: 0.3 }',
    '  "qwen3:8b": { input: 1, output: 2 }',
    '  "anthropic/claude-sonnet-4.5": { input: 3, output: 15, cached_input: 0.3, cache_write: 3.75 }',
  ]);
  assert.deepEqual(config.prices, [
    { provider: 'lms', model: 'qwen3:*', price: { input: 0.1, output: 0.2, reasoning: 0.3 } },
    { model: 'qwen3:8b', price: { input: 1, output: 2 } },
    { model: 'anthropic/claude-sonnet-4.5', price: { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 } },
  ]);
  assert.ok(Object.isFrozen(config.prices[0]!.price));
});

test('cache: the top-level bounds and default ttl, an alias\'s own cache (ttl_s: 0 turns it off), unknown keys refused', () => {
  const config = load([
    'cache: { max_bytes: 1048576, ttl_s: 60, per_key: true }',
    'providers: [{ name: p, type: openai, base_url: "http://127.0.0.1:1/v1", models: [m] }]',
    'models:',
    '  - { name: a, targets: [{ provider: p, model: m }], cache: { ttl_s: 3600 } }',
    '  - { name: b, targets: [{ provider: p, model: m }], cache: { ttl_s: 0 } }',
    '  - { name: c, targets: [{ provider: p, model: m }] }',
  ]);
  assert.deepEqual(config.cache, { maxBytes: 1048576, maxEntryBytes: 4 * 1024 * 1024, route: { ttlSeconds: 60, perKey: true } });
  assert.deepEqual(config.models.map((alias) => alias.cache), [{ ttlSeconds: 3600, perKey: false }, { ttlSeconds: 0, perKey: false }, undefined]);
  assert.throws(() => load(['cache: { ttl: 60 }']), /ttl/);
  assert.throws(() => load(['models: [{ name: a, targets: [{ provider: p, model: m }], cache: { per_key: true } }]']), /ttl_s/);
});

test('state: a Redis URL shares limits; empty (an unset variable) keeps state in process; anything else is a clear problem', () => {
  assert.deepEqual(load(['state: { redis: "redis://:pw@127.0.0.1:6380/2", key_prefix: "fleet-a:", timeout_ms: 250 }']).state, { keyPrefix: 'fleet-a:', timeoutMs: 250, redis: 'redis://:pw@127.0.0.1:6380/2' });
  assert.deepEqual(load(['state: { redis: "" }']).state, { keyPrefix: 'switchyard:', timeoutMs: 500 });
  assert.throws(() => load(['state: { redis: "http://127.0.0.1:6379" }']), /must be a Redis URL such as redis:\/\/127\.0\.0\.1:6379/);
});
