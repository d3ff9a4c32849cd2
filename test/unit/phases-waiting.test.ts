// The lifecycle's asynchronous path (phases.ts, "Waiting"): a handler may answer with a promise,
// which defers the rest of its phase; a phase of synchronous handlers stays synchronous and
// creates no promise at all — checked on a limited key's in-process admission, the path every
// request of such a key takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { GatewayError, ErrorCode } from '../../src/canonical/errors.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { buildRuntime } from '../../src/main.ts';
import { RequestContext } from '../../src/pipeline/context.ts';
import { ANSWERED, compilePhases, runPhase, type RequestHandler } from '../../src/pipeline/phases.ts';
import type { Runtime } from '../../src/pipeline/runtime.ts';
import { openaiChat } from '../../src/surfaces/openai/index.ts';

function context(): RequestContext {
  return new RequestContext('r', { url: '/v1/chat/completions', headers: {} } as unknown as IncomingMessage, { headersSent: true, statusCode: 200 } as unknown as ServerResponse, openaiChat);
}
const runtime = {} as Runtime;

test('a handler\'s promise defers the rest of its phase, in order; the first refusal ends it', async () => {
  const seen: string[] = [];
  const handlers: RequestHandler[] = [
    () => { seen.push('a'); return undefined; },
    async () => { seen.push('b'); return undefined; },
    () => { seen.push('c'); return undefined; },
    async () => { seen.push('d'); return new GatewayError(ErrorCode.rateLimitExceeded, 'no', { status: 429, origin: 'downstream', errorClass: 'client-error' }); },
    () => { seen.push('e'); return undefined; },
  ];
  const outcome = runPhase(handlers, context(), runtime);
  assert.ok(outcome instanceof Promise);
  assert.deepEqual(seen, ['a', 'b'], 'nothing after the waiting handler runs before it resolves');
  const settled = await outcome;
  assert.ok(settled instanceof GatewayError);
  assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
});

test('a client that left while a handler waited: the rest of the phase does not run', async () => {
  const request = context();
  let ran = false;
  const outcome = runPhase([async () => { request.closed = true; return undefined; }, () => { ran = true; return ANSWERED; }], request, runtime);
  assert.equal(await outcome, undefined);
  assert.equal(ran, false);
});

test('a phase of synchronous handlers answers synchronously; a limited key\'s in-process admission creates no promise', () => {
  const { config } = parseConfigText([
    'auth:', '  keys:',
    '    - { key: limited-key, name: ci, rpm: 1000000, tpm: 1000000000, max_concurrent: 100000, budget: { usd: 1000000, period: month } }',
    'providers:', '  - { name: openai, type: openai, api_key: sk-test, models: ["gpt-*"] }',
    'storage: { enabled: false }',
  ].join('\n') + '\n', 'waiting.yaml', {});
  const limited = buildRuntime(config, pino({ level: 'silent' }));
  const phases = compilePhases(limited, { complete: [] });
  assert.equal(phases.admit.length, 1);
  let promises = 0;
  const hook = createHook({ init(_id, type) { if (type === 'PROMISE') promises++; } });
  hook.enable();
  try {
    for (let i = 0; i < 100; i++) {
      const request = context();
      request.phases = phases;
      request.policy = limited.keyPolicies[0];
      request.surface = openaiChat;
      request.body = Buffer.from('{"model":"gpt-4o","messages":[]}');
      request.modelAsked = 'gpt-4o';
      assert.equal(runPhase(phases.admit, request, limited), undefined);
      assert.ok(request.limitTicket !== undefined);
    }
  } finally {
    hook.disable();
  }
  assert.equal(promises, 0);
});
