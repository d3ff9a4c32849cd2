// The response cache's key: the same question gives the same key (whatever the order of its JSON
// members, whether it streams, whoever asks); anything that can change the answer gives another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import { responseCacheKey } from '../../src/pipeline/cache-key.ts';
import { canonicalJson } from '../../src/util/canonical-json.ts';
import { openaiChat } from '../../src/surfaces/openai/index.ts';

function request(extra: Partial<CanonicalRequest> = {}): CanonicalRequest {
  return {
    model: 'gpt-4o',
    messages: [{ role: 'system', content: [{ type: 'text', text: 'Be brief.' }] }, { role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    tools: [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' }, n: { type: 'integer' } } } }],
    sampling: { temperature: 0.7, maxTokens: 100 },
    stream: false,
    ...extra,
  };
}

const key = (value: CanonicalRequest, route = 'fast', keyId?: string) => responseCacheKey(route, value, keyId);

test('canonicalJson: members in sorted order at every depth, undefined members left out', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' }, e: undefined }), '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  assert.equal(canonicalJson([undefined, 'a']), '[null,"a"]');
  assert.equal(canonicalJson('é"'), JSON.stringify('é"'));
});

test('the same request gives the same key; its members in another order too', () => {
  assert.equal(key(request()), key(request()));
  const reordered = request({ tools: [{ parameters: { properties: { n: { type: 'integer' }, q: { type: 'string' } }, type: 'object' }, name: 'lookup' }], sampling: { maxTokens: 100, temperature: 0.7 } });
  assert.equal(key(reordered), key(request()));
  assert.match(key(request()), /^v1:[A-Za-z0-9_-]{43}$/);
});

test('volatile fields are ignored: stream, metadata (user ids), the model field, rendering hints, inert pass-through fields', () => {
  const base = key(request());
  assert.equal(key(request({ stream: true })), base);
  assert.equal(key(request({ metadata: { user: 'alice', sessionId: 's-1' } })), base);
  assert.equal(key(request({ model: 'something-else' })), base, 'the route stands for the model');
  assert.equal(key(request({ surfaceHints: { includeUsage: true } })), base);
  assert.equal(key(request({ passThrough: { dialect: 'ollama', fields: {}, inert: { keep_alive: '5m' } } })), base);
});

test('every answer-changing field gives another key', () => {
  const base = key(request());
  const variants: [string, string][] = [
    ['route', key(request(), 'other')],
    ['thinking suffix', key(request(), 'fast(high)')],
    ['message text', key(request({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi!' }] }] }))],
    ['system prompt', key(request({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }] }))],
    ['tools', key(request({ tools: [] }))],
    ['tool schema', key(request({ tools: [{ name: 'lookup', parameters: { type: 'object' } }] }))],
    ['tool choice', key(request({ toolChoice: { type: 'required' } }))],
    ['parallel tool calls', key(request({ parallelToolCalls: false }))],
    ['temperature', key(request({ sampling: { temperature: 0.8, maxTokens: 100 } }))],
    ['max tokens', key(request({ sampling: { temperature: 0.7, maxTokens: 101 } }))],
    ['seed', key(request({ sampling: { temperature: 0.7, maxTokens: 100, seed: 1 } }))],
    ['stop', key(request({ sampling: { temperature: 0.7, maxTokens: 100, stop: ['\n'] } }))],
    ['response format', key(request({ responseFormat: { type: 'json' } }))],
    ['reasoning', key(request({ reasoning: { effort: 'high' } }))],
    ['pass-through field', key(request({ passThrough: { dialect: 'openai', fields: { logprobs: true } } }))],
    ['hosted tool', key(request({ hostedTools: [{ kind: 'web-search', field: 'tools.web_search', dialect: 'openai-responses', raw: { type: 'web_search' } }] }))],
    ['client key (per_key)', key(request(), 'fast', 'key-1234abcd')],
  ];
  const seen = new Set([base]);
  for (const [field, value] of variants) {
    assert.notEqual(value, base, field);
    assert.ok(!seen.has(value), `${field}: a key of its own`);
    seen.add(value);
  }
  assert.notEqual(key(request(), 'fast', 'key-1'), key(request(), 'fast', 'key-2'));
});

test('decoded from the wire: the same OpenAI request with a different user, stream flag and member order has the same key', () => {
  const decode = (body: unknown) => openaiChat.chat!.decodeRequest(body, { params: {}, query: '', headers: {} });
  const first = decode({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2, user: 'alice' });
  const second = decode({ temperature: 0.2, stream: true, user: 'bob', messages: [{ content: 'hi', role: 'user' }], model: 'm' });
  assert.equal(key(first), key(second));
  assert.notEqual(key(first), key(decode({ model: 'm', messages: [{ role: 'user', content: 'hi' }], temperature: 0.3 })));
});
