import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { redact, RedactConfigSchema, PromptScanner, REDACT_KINDS, type Findings, type RedactConfig, type RedactKind } from '../../src/plugins/builtin/redact.ts';
import type { CanonicalRequest, PluginRejection } from '../../src/plugins/api.ts';
import { fakePluginContext } from '../helpers/plugin-context.ts';

// Fake values, assembled at run time so no scanner takes this file for a leak.
const random = (length: number, alphabet = 'aB3dE5gH7jK9mN1pQ2rS4tU6vW8xY0z') => Array.from({ length }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');
const SAMPLES: Record<RedactKind, string[]> = {
  'private-key': [
    `-----BEGIN RSA PRIVATE KEY-----\n${random(64)}\n${random(40)}==\n-----END RSA PRIVATE KEY-----`,
    `-----BEGIN PRIVATE KEY-----\n${random(64)}\n-----END PRIVATE KEY-----`,
  ],
  'anthropic-key': [`sk-ant-api03-${random(60, 'aB3_-dE5')}`],
  'openai-key': [`sk-${random(48)}`, `sk-proj-${random(80, 'aB3_-dE5')}`],
  'stripe-key': [`sk_live_${random(24)}`, `rk_test_${random(24)}`],
  'google-key': [`AIza${random(35)}`],
  'aws-key': [`AKIA${random(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}`],
  'github-token': [`ghp_${random(36)}`, `github_pat_${random(82, 'aB3_dE5')}`],
  'slack-token': [`xoxb-${random(12, '0123456789')}-${random(24)}`],
  jwt: [`eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${random(43, 'aB3_-dE5')}`],
  email: ['jane.doe+work@example.co.uk', 'a@b.io'],
  'credit-card': ['4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005'],
  phone: ['+1 (415) 555-2671', '+44 20 7946 0958', '(415) 555-2671', '415-555-2671', '020 7946 0958'],
};

function scanOne(text: string, kinds: readonly RedactKind[] = REDACT_KINDS): { redacted: string; findings: Findings } {
  const findings: Findings = new Map();
  return { redacted: new PromptScanner(kinds).redact(text, findings), findings };
}

for (const [kind, samples] of Object.entries(SAMPLES) as [RedactKind, string[]][]) {
  test(`detects ${kind}`, () => {
    for (const sample of samples) {
      const { redacted, findings } = scanOne(`before ${sample} after`);
      assert.equal(redacted, `before [REDACTED:${kind}] after`, sample);
      assert.deepEqual([...findings], [[kind, 1]]);
    }
  });
}

test('a private key block without its END line is redacted to the end of the text, or of a JSON string', () => {
  const truncated = `-----BEGIN OPENSSH PRIVATE KEY-----\n${random(70)}\n${random(30)}`;
  assert.equal(scanOne(`key: ${truncated}`).redacted, 'key: [REDACTED:private-key]');
  const json = JSON.stringify({ key: truncated, next: 1 });
  assert.deepEqual(JSON.parse(scanOne(json).redacted), { key: '[REDACTED:private-key]', next: 1 });
});

test('leaves ordinary text alone: numbers failing Luhn, short digit runs, dates, versions, slugs, prose', () => {
  const ordinary = [
    'order 4111 1111 1111 1112 shipped', // Luhn fails
    'id 1234567890123456',
    'on 2024-01-15 at 10:30, version 1.2.3.4',
    'pi is 3.14159265358979',
    'use sk-learn-compatible-estimators-here',
    'a risk-free plan, ask-me-anything',
    'email me at name at example dot com',
    'call 555-1234',
    'the answer is 42; 1000000 rows',
    'const x = a@b; user@localhost',
  ];
  for (const text of ordinary) assert.equal(scanOne(text).redacted, text, text);
});

test('several findings in one text, each counted; a card number is not taken for a phone number', () => {
  const text = `keys ${SAMPLES['openai-key'][0]} and ${SAMPLES['openai-key'][1]}, card 4111111111111111, mail a@b.io, tel +1 415 555 2671`;
  const { redacted, findings } = scanOne(text);
  assert.equal(redacted, 'keys [REDACTED:openai-key] and [REDACTED:openai-key], card [REDACTED:credit-card], mail [REDACTED:email], tel [REDACTED:phone]');
  assert.deepEqual(Object.fromEntries(findings), { 'openai-key': 2, 'credit-card': 1, email: 1, phone: 1 });
});

test('an Anthropic key is reported as such, not as an OpenAI key', () => {
  assert.deepEqual([...scanOne(SAMPLES['anthropic-key'][0]!).findings], [['anthropic-key', 1]]);
});

test('only the chosen kinds run', () => {
  const text = `a@b.io ${SAMPLES['github-token'][0]}`;
  assert.equal(scanOne(text, ['email']).redacted, `[REDACTED:email] ${SAMPLES['github-token'][0]}`);
});

test('a long run of address characters without @ is scanned in linear time, not re-read from every position', () => {
  const text = 'x'.repeat(200_000);
  assert.equal(scanOne(text).redacted, text); // would take minutes if the email pattern backtracked quadratically
});

function request(): CanonicalRequest {
  return {
    model: 'm',
    sampling: {},
    stream: false,
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'admin is root@example.com' }] },
      { role: 'user', content: [{ type: 'text', text: `my key is ${SAMPLES['openai-key'][0]}` }, { type: 'image', source: { kind: 'url', url: 'https://x/a@b.io.png' } }] },
      { role: 'assistant', content: [{ type: 'tool-call', id: 'c1', name: 'send', arguments: '{"to":"bob@example.com"}' }, { type: 'reasoning', text: 'mail bob@example.com', signature: 'sig' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', content: 'card 4111-1111-1111-1111 ok' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c2', content: [{ type: 'text', text: 'tel (415) 555-2671' }] }] },
    ],
  };
}

async function instance(config: RedactConfig) {
  assert.ok(Value.Check(RedactConfigSchema, config));
  return redact.setup!(config, { dir: '', log() {} });
}

test('mode redact: system, user, tool-call arguments and tool results are redacted; images and signed reasoning are not', async () => {
  const plugin = await instance({});
  const input = request();
  await plugin.onRequest!(fakePluginContext<RedactConfig>(), input);
  const messages = input.messages;
  assert.deepEqual(messages[0]!.content[0], { type: 'text', text: 'admin is [REDACTED:email]' });
  assert.deepEqual(messages[1]!.content[0], { type: 'text', text: 'my key is [REDACTED:openai-key]' });
  assert.deepEqual(messages[1]!.content[1], { type: 'image', source: { kind: 'url', url: 'https://x/a@b.io.png' } });
  assert.deepEqual(messages[2]!.content[0], { type: 'tool-call', id: 'c1', name: 'send', arguments: '{"to":"[REDACTED:email]"}' });
  assert.deepEqual(messages[2]!.content[1], { type: 'reasoning', text: 'mail bob@example.com', signature: 'sig' });
  assert.deepEqual(messages[3]!.content[0], { type: 'tool-result', toolCallId: 'c1', content: 'card [REDACTED:credit-card] ok' });
  assert.deepEqual(messages[4]!.content[0], { type: 'tool-result', toolCallId: 'c2', content: [{ type: 'text', text: 'tel [REDACTED:phone]' }] });
});

test('mode block: a 400 naming the kinds and counts, never a value', async () => {
  const plugin = await instance({ mode: 'block', kinds: ['secrets', 'email'] });
  const ctx = fakePluginContext<RedactConfig>();
  const input = request();
  const before = structuredClone(input);
  await assert.rejects(async () => plugin.onRequest!(ctx, input), (error: PluginRejection) => {
    assert.equal(error.status, 400);
    assert.match(error.message, /openai-key: 1/);
    assert.match(error.message, /email: 2/);
    assert.doesNotMatch(error.message, /credit-card|phone/, 'kinds not chosen do not run');
    assert.doesNotMatch(error.message, /example\.com|sk-/);
    return true;
  });
  assert.deepEqual(input, before, 'block changes nothing');
  const clean = await plugin.onRequest!(ctx, { model: 'm', sampling: {}, stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });
  assert.equal(clean, undefined);
});

test('mode log: the request is unchanged, the log holds kinds and counts only', async () => {
  const plugin = await instance({ mode: 'log' });
  const ctx = fakePluginContext<RedactConfig>();
  const input = request();
  const before = structuredClone(input);
  await plugin.onRequest!(ctx, input);
  assert.deepEqual(input, before);
  assert.equal(ctx.logged.length, 1);
  assert.deepEqual(ctx.logged[0]!.fields, { findings: { email: 2, 'openai-key': 1, 'credit-card': 1, phone: 1 } });
  assert.doesNotMatch(JSON.stringify(ctx.logged), /example\.com|sk-|4111/);
  await plugin.onRequest!(ctx, { model: 'm', sampling: {}, stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });
  assert.equal(ctx.logged.length, 1, 'nothing found, nothing logged');
});

test('the schema refuses unknown kinds and modes', () => {
  assert.equal(Value.Check(RedactConfigSchema, { kinds: ['ssn'] }), false);
  assert.equal(Value.Check(RedactConfigSchema, { mode: 'mask' }), false);
});
