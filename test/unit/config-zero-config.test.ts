import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { DEFAULT_ROUTING } from '../../src/config/defaults.ts';
import { buildZeroConfig, probeLocal } from '../../src/config/zero-config.ts';

const never = async () => false;

test('nothing found: a working config with zero providers', async () => {
  const { config, found } = await buildZeroConfig({}, { probe: never });
  assert.equal(config.source, 'zero-config');
  assert.deepEqual(config.providers, []);
  assert.deepEqual(config.models, []);
  assert.equal(config.server.host, '127.0.0.1');
  assert.equal(config.server.port, 18080);
  assert.equal(config.server.workers, 1);
  assert.deepEqual(config.auth.keys, []);
  assert.deepEqual(found, []);
  assert.ok(Object.isFrozen(config.server));
  assert.deepEqual(config.routing, DEFAULT_ROUTING);
  assert.ok(Object.isFrozen(config.routing.retry));
});

test('one provider per preset whose key variable is set; Anthropic and Gemini keys get their native dialects', async () => {
  const env = {
    OPENAI_API_KEY: 'sk-o',
    GROQ_API_KEY: 'gq',
    ANTHROPIC_API_KEY: 'an',
    GOOGLE_API_KEY: 'goog',
    MISTRAL_API_KEY: '',
    PATH: '/usr/bin',
  };
  const { config, found } = await buildZeroConfig(env, { probe: never });
  assert.deepEqual(config.providers.map((p) => [p.name, p.preset, p.baseUrl, p.apiKeys]), [
    ['openai', 'openai', 'https://api.openai.com/v1', ['sk-o']],
    ['groq', 'groq', 'https://api.groq.com/openai/v1', ['gq']],
    ['anthropic', 'anthropic', 'https://api.anthropic.com/v1', ['an']],
    ['gemini', 'gemini', 'https://generativelanguage.googleapis.com/v1beta', ['goog']],
  ]);
  assert.ok(config.providers[0]!.models.includes('gpt-*'));
  assert.equal(config.providers[1]!.discover, true);
  assert.ok(config.providers.every((p) => p.keyStrategy === 'round-robin' && !('healthCheck' in p)));
  assert.equal(found.length, 4);
  assert.match(found[0]!, /^openai: OpenAI at https:\/\/api\.openai\.com\/v1 \(key from \$OPENAI_API_KEY\)$/);
  assert.ok(!found.join('\n').includes('sk-o'), 'keys never appear in the banner lines');
});

test('the first key variable of a preset wins', async () => {
  const { config } = await buildZeroConfig({ GEMINI_API_KEY: 'gem', GOOGLE_API_KEY: 'goog' }, { probe: never });
  assert.deepEqual(config.providers[0]!.apiKeys, ['gem']);
});

test('Azure is reported but not configured: it has no default URL', async () => {
  const { config, found } = await buildZeroConfig({ AZURE_OPENAI_API_KEY: 'az' }, { probe: never });
  assert.deepEqual(config.providers, []);
  assert.equal(found.length, 1);
  assert.match(found[0]!, /^azure: AZURE_OPENAI_API_KEY is set, but .* needs a base_url/);
});

test('local presets are probed on their loopback URLs only, and added when they answer', async () => {
  const probed: string[] = [];
  const probe = async (baseUrl: string) => {
    probed.push(baseUrl);
    return baseUrl.includes(':11434') || baseUrl.includes(':8080');
  };
  const { config, found } = await buildZeroConfig({}, { probe });
  assert.deepEqual(probed.sort(), ['http://127.0.0.1:11434/v1', 'http://127.0.0.1:1234/v1', 'http://127.0.0.1:8080/v1'].sort());
  assert.deepEqual(config.providers.map((p) => [p.name, p.preset, p.baseUrl, p.discover]), [
    ['ollama', 'ollama-openai', 'http://127.0.0.1:11434/v1', true],
    ['llamacpp', 'llamacpp', 'http://127.0.0.1:8080/v1', true],
  ]);
  assert.deepEqual(found, [
    'ollama: Ollama (OpenAI-compatible endpoint) answering at http://127.0.0.1:11434/v1',
    'llamacpp: llama.cpp server answering at http://127.0.0.1:8080/v1',
  ]);
});

test('a probe that hangs or throws counts as absent and does not hold up start-up', { timeout: 5000 }, async () => {
  const { config } = await buildZeroConfig({}, {
    probeTimeoutMs: 50,
    probe: (baseUrl) => baseUrl.includes(':1234') ? Promise.reject(new Error('boom')) : new Promise<boolean>(() => {}),
  });
  assert.deepEqual(config.providers, []);
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

test('default probe: GET {baseUrl}/models must answer 2xx', async () => {
  const paths: string[] = [];
  const { server, url } = await listen((request, response) => {
    paths.push(`${request.method} ${request.url}`);
    response.writeHead(request.url === '/v1/models' ? 200 : 404, { 'content-type': 'application/json' }).end('{"data":[]}');
  });
  try {
    assert.equal(await probeLocal(url, 300), true);
    assert.equal(await probeLocal(url.replace('/v1', '/v2'), 300), false);
    assert.deepEqual(paths, ['GET /v1/models', 'GET /v2/models']);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('default probe: a silent server times out; nothing listening is false', { timeout: 5000 }, async () => {
  const { server, url } = await listen(() => { /* never answers */ });
  try {
    assert.equal(await probeLocal(url, 100), false);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  assert.equal(await probeLocal(url, 100), false);
});

test('default probe refuses anything but loopback, without sending a request', async (context) => {
  assert.equal(await probeLocal('not a url', 100), false);
  const address = Object.values(networkInterfaces()).flat().find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal);
  if (address === undefined) {
    context.skip('no non-loopback IPv4 interface to listen on');
    return;
  }
  let requests = 0;
  const server = createServer((_request, response) => {
    requests++;
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, address.address, resolve));
  try {
    const url = `http://${address.address}:${(server.address() as AddressInfo).port}/v1`;
    assert.equal(await probeLocal(url, 300), false);
    assert.equal(requests, 0);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
