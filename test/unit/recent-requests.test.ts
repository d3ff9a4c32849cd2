// The ring of recent requests: bounded, newest first once it has come round many times, slots
// reused in place, the management API's own requests and the gateway's answered endpoints left
// out, filters as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecentRequests, statusTest } from '../../src/observability/recent-requests.ts';
import type { RequestContext } from '../../src/pipeline/context.ts';

function context(id: string, fields: { path?: string; model?: string; status?: number; keyId?: string; provider?: string } = {}): RequestContext {
  const status = fields.status ?? 200;
  return {
    id, path: fields.path ?? '/v1/chat/completions', startedAt: performance.now(), request: { method: 'POST' }, surface: undefined,
    keyId: fields.keyId ?? 'key-a', policy: undefined, modelAsked: fields.model ?? 'gpt-4o', provider: fields.provider ?? 'openai', upstreamModel: fields.model ?? 'gpt-4o',
    route: '', upstreamStatus: status, error: undefined, attempts: 1, failures: undefined, attemptLog: undefined, stream: false,
    upstreamHeadersMs: 1, firstByteMs: 2, usage: undefined, costUsd: undefined, cached: false, cacheStatus: '', dropped: '',
    elapsedMs: () => 3, finalStatus: () => status,
  } as unknown as RequestContext;
}

test('bounded: the newest `capacity` requests, newest first, however often the ring came round', () => {
  const ring = new RecentRequests(3, '/v0/management/');
  for (let i = 1; i <= 10; i++) ring.requestEnded(context(`r${i}`), false);
  assert.equal(ring.size, 3);
  assert.deepEqual(ring.list({}, 100).map((record) => record.id), ['r10', 'r9', 'r8']);
  assert.deepEqual(ring.list({}, 2).map((record) => record.id), ['r10', 'r9']);
  assert.equal(ring.get('r7'), undefined);
  // an id sent twice (x-request-id is the client's): the newest
  ring.requestEnded(context('r9', { model: 'other' }), false);
  assert.equal(ring.get('r9')!.modelAsked, 'other');
});

test('what is left out, and the filters', () => {
  const ring = new RecentRequests(10, '/v0/management/');
  ring.requestEnded(context('admin', { path: '/v0/management/keys' }), false);
  ring.requestEnded(context('models', { path: '/v1/models', model: '' }), false);
  ring.requestEnded(context('refused', { model: '', status: 401 }), false);
  ring.requestEnded(context('slow', { model: 'claude', provider: 'anthropic', status: 529, keyId: 'key-b' }), false);
  ring.requestEnded(context('fine'), false);
  const ids = (filter: Parameters<RecentRequests['list']>[0]) => ring.list(filter, 10).map((record) => record.id);
  assert.deepEqual(ids({}), ['fine', 'slow', 'refused']);
  assert.deepEqual(ids({ status: '5xx' }), ['slow']);
  assert.deepEqual(ids({ status: 'error' }), ['slow', 'refused']);
  assert.deepEqual(ids({ status: 'ok' }), ['fine']);
  assert.deepEqual(ids({ key: 'key-b' }), ['slow']);
  assert.deepEqual(ids({ model: 'anthropic:claude' }), ['slow']);
  assert.deepEqual(ids({ provider: 'openai', status: '200' }), ['fine']);
  assert.throws(() => statusTest('teapot'), /status must be/);
});
