// The reload guard (a file that lost its client keys or every provider by accident is refused) and
// the summary of what a reload changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffConfig, diffFields, summarizeDiff } from '../../src/config/config-diff.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { NOTHING_WRITTEN_EMPTY, refuseReload } from '../../src/config/reload-guard.ts';
import type { GatewayConfig } from '../../src/config/types.ts';
import { checkExposure, vetReload } from '../../src/cli/serve.ts';
import { testConfig, type TestGatewayOptions } from '../helpers/gateway.ts';

const providers = [{ name: 'a', baseUrl: 'http://127.0.0.1:1/v1', models: ['m'] }, { name: 'b', baseUrl: 'http://127.0.0.1:2/v1', models: ['n'] }];
const config = (options: Partial<TestGatewayOptions> = {}): GatewayConfig => testConfig({ providers, keys: ['sk-one', 'sk-two'], ...options });

test('losing every client key is refused unless auth.keys: [] is written', () => {
  const refusal = refuseReload(config(), config({ keys: [] }), NOTHING_WRITTEN_EMPTY);
  assert.ok(refusal !== undefined);
  assert.deepEqual(refusal.removes, { clientKeys: 2 });
  assert.match(refusal.message, /turn client authentication off \(removes all 2 client keys/);
  assert.match(refusal.message, /write auth\.keys: \[\]/);
  assert.ok(!refusal.message.includes('sk-'), 'never a key in the message');
  assert.match(refuseReload(config({ keys: ['sk-one'] }), config({ keys: [] }), NOTHING_WRITTEN_EMPTY)!.message, /removes the only client key/);
  assert.equal(refuseReload(config(), config({ keys: [] }), { authKeys: true, providers: false }), undefined, 'written out: meant');
  assert.equal(refuseReload(config(), config({ keys: ['sk-three'] }), NOTHING_WRITTEN_EMPTY), undefined, 'keys replaced, auth stays on');
  assert.equal(refuseReload(config({ keys: [] }), config({ keys: [] }), NOTHING_WRITTEN_EMPTY), undefined, 'auth was off already');
});

test('losing every provider is refused unless providers: [] is written; both at once name both', () => {
  const refusal = refuseReload(config(), config({ providers: [] }), NOTHING_WRITTEN_EMPTY);
  assert.deepEqual(refusal?.removes, { providers: ['a', 'b'] });
  assert.match(refusal!.message, /remove every provider \(a, b\).*write providers: \[\]/);
  assert.equal(refuseReload(config(), config({ providers: [] }), { authKeys: false, providers: true }), undefined);
  assert.equal(refuseReload(config(), config({ providers: [providers[1]!] }), NOTHING_WRITTEN_EMPTY), undefined, 'removing some is an edit');

  // an empty document: everything gone
  const both = refuseReload(config(), config({ providers: [], keys: [] }), NOTHING_WRITTEN_EMPTY);
  assert.deepEqual(both?.removes, { clientKeys: 2, providers: ['a', 'b'] });
  assert.match(both!.message, /client authentication off.*; and it would remove every provider/);
});

test('what counts as written out: the literal empty list, not a list emptied by interpolation or a missing section', () => {
  const written = (text: string) => parseConfigText(text, 'sw.yaml', {}).writtenEmpty;
  assert.deepEqual(written(''), { authKeys: false, providers: false });
  assert.deepEqual(written('auth:\n  keys: []\nproviders: []\n'), { authKeys: true, providers: true });
  assert.deepEqual(written('auth:\n  keys: ["${SWY_TEST_UNSET_KEY}"]\n'), { authKeys: false, providers: false });
  assert.deepEqual(written('auth:\n  allow_unauthenticated: false\nproviders:\n'), { authKeys: false, providers: false });
});

test('vetReload: an explicit auth-off on an address that is not loopback still needs allow_unauthenticated', () => {
  const exposed = (options: Partial<TestGatewayOptions> = {}) => {
    const base = config(options);
    return { ...base, server: { ...base.server, host: '0.0.0.0' } };
  };
  const off = { config: config({ keys: [] }), writtenEmpty: { authKeys: true, providers: false } };
  assert.equal(vetReload(config(), off), undefined, 'loopback: fine');
  const refusal = vetReload(exposed(), off);
  assert.match(refusal?.message ?? '', /0\.0\.0\.0 \(not loopback\) with no client keys.*allow_unauthenticated: true/);
  const allowed = config({ keys: [] });
  assert.equal(vetReload(exposed(), { ...off, config: { ...allowed, auth: { keys: [], allowUnauthenticated: true, adminKeys: [] } } }), undefined);
  assert.match(vetReload(exposed(), { config: config({ keys: [] }), writtenEmpty: NOTHING_WRITTEN_EMPTY })?.message ?? '', /write auth\.keys: \[\]/, 'the guard speaks first');
});

test('the diff names providers, aliases and settings, counts keys, and never shows a value', () => {
  const before = config({ models: [{ name: 'fast', targets: [{ provider: 'a', model: 'm' }] }, { name: 'old', targets: [{ provider: 'a', model: 'm' }] }] });
  const next = testConfig({
    providers: [{ ...providers[0]!, baseUrl: 'http://127.0.0.1:9/v1', apiKeys: ['sk-upstream-secret'] }, { name: 'c', baseUrl: 'http://127.0.0.1:3/v1', models: ['o'] }],
    models: [{ name: 'fast', targets: [{ provider: 'c', model: 'o' }] }, { name: 'new', targets: [{ provider: 'a', model: 'm' }] }],
    keys: ['sk-one', 'sk-three', 'sk-four'],
    routing: { maxAttempts: 9 },
    bodyLimitBytes: 10,
  });
  const after: GatewayConfig = { ...next, server: { ...next.server, port: 9999 }, storage: { enabled: true, retentionDays: 3 } };
  const diff = diffConfig(before, after);
  assert.deepEqual(diff.providers, { added: ['c'], removed: ['b'], changed: ['a (api_keys, base_url)'] });
  assert.deepEqual(diff.aliases, { added: ['new'], removed: ['old'], changed: ['fast (targets)'] });
  assert.deepEqual(diff.clientKeys, { before: 2, after: 3, added: 2, removed: 1 });
  assert.equal(diff.auth, undefined, 'auth stays on');
  assert.deepEqual(diff.applied, ['server.body_limit', 'routing']);
  assert.deepEqual(diff.restartNeeded, ['server.port', 'storage']);
  const summary = summarizeDiff(diff);
  assert.equal(summary, 'providers +c -b ~a (api_keys, base_url); aliases +new -old ~fast (targets); client keys 2 → 3; server.body_limit, routing; changed but waiting for a restart: server.port, storage');
  const fields = JSON.stringify(diffFields(diff));
  for (const secret of ['sk-one', 'sk-three', 'sk-four', 'sk-upstream-secret', '127.0.0.1:9']) {
    assert.ok(!summary.includes(secret) && !fields.includes(secret), `${secret} stays out of the log`);
  }
  assert.deepEqual(diffFields(diff).client_keys, { before: 2, after: 3, added: 2, removed: 1 });
});

test('the diff says when authentication turns on or off, keys replaced one for one, and when nothing changed', () => {
  assert.match(summarizeDiff(diffConfig(config({ keys: [] }), config())), /client keys 0 → 2; client authentication on/);
  assert.match(summarizeDiff(diffConfig(config(), config({ keys: [] }))), /client keys 2 → 0; client authentication off/);
  assert.equal(summarizeDiff(diffConfig(config(), config({ keys: ['sk-one', 'sk-new'] }))), 'client keys 2 (1 replaced)');
  assert.equal(summarizeDiff(diffConfig(config(), config())), 'no setting changed');
  assert.deepEqual(diffFields(diffConfig(config(), config())), {});
});

test('checkExposure: a listener that is not loopback needs client keys — in the config, or made through the management API (a key store and admin keys)', () => {
  const exposed = (options: Partial<TestGatewayOptions>, adminKeys: string[], storage: boolean): GatewayConfig => {
    const base = config(options);
    return { ...base, server: { ...base.server, host: '0.0.0.0' }, auth: { ...base.auth, adminKeys }, storage: { ...base.storage, enabled: storage } };
  };
  assert.equal(checkExposure(exposed({}, [], false)), undefined, 'config keys');
  assert.match(checkExposure(exposed({ keys: [] }, [], true)) ?? '', /Refusing to listen on 0\.0\.0\.0 with no client keys.*auth\.admin_keys/);
  assert.equal(checkExposure(exposed({ keys: [] }, ['admin-0123456789abcdef'], true)), undefined, 'keys from the management API: every caller needs one');
  assert.match(checkExposure(exposed({ keys: [] }, ['admin-0123456789abcdef'], false)) ?? '', /Refusing/, 'admin keys but nowhere to keep client keys');
  // a reload to such a config on an exposed address is fine too
  const running = exposed({}, [], true);
  assert.equal(vetReload(running, { config: exposed({ keys: [] }, ['admin-0123456789abcdef'], true), writtenEmpty: { authKeys: true, providers: false } }), undefined);
});
