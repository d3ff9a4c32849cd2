// Outlier ejection as Envoy does it, over real sockets: a flapping target (half its requests fail)
// is ejected by its success rate and tried less; streams that break after the commit point are
// counted apart and never eject a target by `eject_after`; a route never has more targets ejected
// than `max_ejection_percent` allows; a route left with nothing but ejected targets tries them
// (panic) instead of answering 429. Metrics and /v1/providers say which of these happened.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import type { CooldownSettings } from '../../src/config/types.ts';
import type { TestGateway } from '../helpers/gateway.ts';
import type { Behavior } from '../helpers/mock-upstream.ts';
import { parsePrometheus, sampleSum, type Labels } from '../helpers/prometheus.ts';
import {
  assertCleanOpenAIStream, assertOpenAIError, assertOpenAIStreamEndsWithError, chat, chunk, MOCK_TEXT, openaiProvider, startGatewayFor, startMocks, status,
} from '../helpers/resilience.ts';

const T = { timeout: 20_000 };
const OK: Behavior = { kind: 'default' };
const ONE_TRY = { attempts: 1, backoffMs: 10, maxBackoffMs: 100 };

function twoTargets(cooldowns: Partial<CooldownSettings>) {
  return {
    models: [{ name: 'rr', strategy: 'round-robin' as const, targets: [{ provider: 'good', model: 'm' }, { provider: 'bad', model: 'm' }], retry: ONE_TRY }],
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectMs: 20_000, ...cooldowns } },
  };
}

async function metric(gateway: TestGateway, name: string, labels: Labels = {}): Promise<number> {
  return sampleSum(parsePrometheus(await (await fetch(`${gateway.url}/metrics`)).text()), name, labels);
}

async function targetStatus(gateway: TestGateway, provider: string): Promise<Record<string, any>> {
  const body = await (await fetch(`${gateway.url}/v1/providers`)).json() as { data: { name: string; targets: Record<string, any>[] }[] };
  return body.data.find((entry) => entry.name === provider)!.targets[0]!;
}

/** Requests through the two-target route; returns how many attempts reached the bad target. */
async function flappingRun(t: TestContext, thresholdPercent: number): Promise<{ bad: number; gateway: TestGateway }> {
  // every other request to `bad` fails before the commit point: never three in a row
  const { good, bad } = await startMocks(t, { good: () => OK, bad: (_request, index) => index % 2 === 0 ? status(500, 'flapping') : OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('good', good), openaiProvider('bad', bad)],
    ...twoTargets({ successRateThresholdPercent: thresholdPercent, successRateRequestVolume: 10 }),
  });
  for (let i = 0; i < 60; i++) {
    const reply = await chat(gateway, 'rr');
    assert.equal(reply.status, 200, reply.text);
  }
  return { bad: bad.requests.length, gateway };
}

test('a flapping target (half of its requests fail) is ejected by its success rate and gets less traffic', T, async (t) => {
  const without = await flappingRun(t, 0);
  const withDetector = await flappingRun(t, 50);
  assert.equal((await targetStatus(without.gateway, 'bad')).reason, null, 'never three failures in a row: the consecutive detector alone keeps it in');
  assert.ok(without.bad >= 25, `without the detector it keeps its share: ${without.bad} of 60`);
  assert.ok(withDetector.bad <= 12, `ejected once it had 10 attempts: ${withDetector.bad} of 60`);
  const bad = await targetStatus(withDetector.gateway, 'bad');
  assert.equal(bad.reason, 'ejected');
  assert.equal(bad.ejected_by, 'success-rate');
  assert.ok(bad.success_rate <= 0.5, String(bad.success_rate));
  assert.equal(await metric(withDetector.gateway, 'switchyard_ejections_total', { provider: 'bad', reason: 'success-rate' }), 1);
  assert.equal(await metric(withDetector.gateway, 'switchyard_ejections_total', { provider: 'bad', reason: 'consecutive-failures' }), 0);
});

test('streams broken after the commit point are counted apart: they never eject by eject_after; with the success-rate detector, a target breaking most of them is tried less', T, async (t) => {
  for (const detector of [false, true]) {
    const { good, bad } = await startMocks(t, {
      good: () => OK,
      bad: () => ({ kind: 'stream', events: [chunk('Hel'), chunk('lo')], intervalMs: 5, thenBehavior: 'reset' }),
    });
    const gateway = await startGatewayFor(t, {
      providers: [openaiProvider('good', good), openaiProvider('bad', bad)],
      ...twoTargets({ ejectAfter: 2, successRateThresholdPercent: detector ? 50 : 0, successRateRequestVolume: 4 }),
    });
    let broken = 0;
    for (let i = 0; i < 16; i++) {
      const reply = await chat(gateway, 'rr', { stream: true });
      if (reply.headers.get('x-switchyard-provider') === 'bad') {
        assertOpenAIStreamEndsWithError(reply, 'Hello', 'upstream_reset');
        broken++;
      } else {
        assertCleanOpenAIStream(reply, MOCK_TEXT);
      }
    }
    const status = await targetStatus(gateway, 'bad');
    assert.equal(status.stream_failures, broken);
    assert.equal(status.consecutive_failures, 0, 'a stream that began is a success of the connection');
    assert.equal(await metric(gateway, 'switchyard_stream_failures_total', { provider: 'bad' }), broken);
    assert.equal(await metric(gateway, 'switchyard_ejections_total', { provider: 'bad', reason: 'consecutive-failures' }), 0);
    if (detector) {
      assert.equal(broken, 4, 'ejected by its success rate after the fourth');
      assert.equal(status.ejected_by, 'success-rate');
    } else {
      assert.equal(broken, 8, 'round-robin: every other request');
      assert.equal(status.reason, null, `${broken} broken streams, ${broken / 2} of them "in a row" for eject_after 2: not ejected`);
    }
  }
});

test('max_ejection_percent: of two failing targets only one is ejected; the other stays in and the client gets the provider\'s error, never 429', T, async (t) => {
  const { good, bad } = await startMocks(t, { good: () => status(500, 'down too'), bad: () => status(500, 'down') });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('good', good), openaiProvider('bad', bad)],
    ...twoTargets({ ejectAfter: 2 }),
  });
  for (let i = 0; i < 6; i++) assertOpenAIError(await chat(gateway, 'rr'), 502);
  const states = [await targetStatus(gateway, 'good'), await targetStatus(gateway, 'bad')].map((target) => target.reason);
  assert.deepEqual(states.filter((reason) => reason === 'ejected').length, 1, `one ejected, one in rotation: ${states.join()}`);
  assert.equal(await metric(gateway, 'switchyard_ejections_total'), 1);
  assert.ok(await metric(gateway, 'switchyard_ejections_overflow_total') >= 1);
  assert.equal(await metric(gateway, 'switchyard_panic_attempts_total'), 0, 'half the targets available: no panic');
});

test('one target, ejected: the next requests are still sent to it (panic) and answered; the first success brings it back', T, async (t) => {
  let down = true;
  const { only } = await startMocks(t, { only: () => down ? status(503, 'overloaded') : OK });
  const gateway = await startGatewayFor(t, {
    providers: [openaiProvider('only', only)],
    models: [{ name: 'a', targets: [{ provider: 'only', model: 'm' }], retry: ONE_TRY }],
    routing: { cooldowns: { ...DEFAULT_COOLDOWNS, ejectAfter: 2, ejectMs: 60_000 } },
  });
  for (let i = 0; i < 2; i++) assertOpenAIError(await chat(gateway, 'a'), 502);
  assert.equal((await targetStatus(gateway, 'only')).reason, 'ejected');
  const cooling = await chat(gateway, 'a');
  assertOpenAIError(cooling, 502, 'upstream_error');
  assert.equal(only.requests.length, 3, 'sent upstream although ejected');
  down = false;
  const served = await chat(gateway, 'a', { stream: true });
  assertCleanOpenAIStream(served, MOCK_TEXT);
  const after = await targetStatus(gateway, 'only');
  assert.equal(after.state, 'healthy');
  assert.equal(after.ejections, 0);
  assert.equal(await metric(gateway, 'switchyard_panic_attempts_total', { provider: 'only' }), 2);
  assert.equal(await metric(gateway, 'switchyard_ejections_total', { provider: 'only' }), 1, 'the failure in panic did not eject it again');
});
