// Key and team limits without a gateway: allow-list matching, budget periods, header formats, the
// config's problems and policies, and the enforcer's reserve / settle / give-back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText } from '../../src/config/load.ts';
import { periodEnd, periodStart } from '../../src/governance/budget-period.ts';
import { configKeyPolicies } from '../../src/governance/key-policies.ts';
import { LimitEnforcer, LimitTicket, type LimitRefusal, type SoftBudgetEvent } from '../../src/governance/limit-enforcer.ts';
import { ModelAllowList } from '../../src/governance/model-allow-list.ts';
import type { KeyPolicy } from '../../src/governance/policy.ts';
import { openaiDuration, rfc3339 } from '../../src/governance/rate-limit-headers.ts';
import { LocalRateLimitCounters } from '../../src/state/local-rate-limit-counters.ts';
import { LocalSpendStore } from '../../src/state/local-spend-store.ts';
import { clientKeyId } from '../../src/util/client-key-id.ts';
import { ClientAuth } from '../../src/pipeline/auth.ts';

test('allow-list: exact names, aliases, globs, both provider spellings, bare names behind a prefix, thinking suffixes', () => {
  const list = new ModelAllowList(['gpt-*', 'fast', 'anthropic:claude-sonnet-4-5', 'ollama:*', 'o3']);
  for (const model of ['gpt-4o', 'fast', 'anthropic:claude-sonnet-4-5', 'anthropic/claude-sonnet-4-5', 'ollama:qwen3:8b', 'ollama/llama3', 'openai:o3', 'openai:gpt-4o', 'gpt-5(high)']) {
    assert.ok(list.allows(model), model);
  }
  for (const model of ['claude-sonnet-4-5', 'fast2', 'openai:claude-x', 'o3-mini', 'xgpt-4o', 'anthropic:claude-opus-4']) {
    assert.ok(!list.allows(model), model);
  }
});

test('budget periods start at 00:00 UTC: days, Monday weeks, calendar months, and total', () => {
  const at = Date.parse('2026-03-05T13:45:00Z'); // a Thursday
  assert.equal(new Date(periodStart('day', at)).toISOString(), '2026-03-05T00:00:00.000Z');
  assert.equal(new Date(periodEnd('day', periodStart('day', at))).toISOString(), '2026-03-06T00:00:00.000Z');
  assert.equal(new Date(periodStart('week', at)).toISOString(), '2026-03-02T00:00:00.000Z');
  assert.equal(new Date(periodStart('week', Date.parse('2026-03-02T00:00:00Z'))).toISOString(), '2026-03-02T00:00:00.000Z');
  assert.equal(new Date(periodStart('week', Date.parse('2026-03-01T23:59:59Z'))).toISOString(), '2026-02-23T00:00:00.000Z');
  assert.equal(new Date(periodEnd('week', periodStart('week', at))).toISOString(), '2026-03-09T00:00:00.000Z');
  assert.equal(new Date(periodStart('month', at)).toISOString(), '2026-03-01T00:00:00.000Z');
  assert.equal(new Date(periodEnd('month', Date.parse('2026-12-01T00:00:00Z'))).toISOString(), '2027-01-01T00:00:00.000Z');
  assert.equal(periodStart('total', at), 0);
  assert.equal(periodEnd('total', 0), Infinity);
});

test('OpenAI reset durations and RFC 3339 instants', () => {
  assert.equal(openaiDuration(0), '0s');
  assert.equal(openaiDuration(20), '20ms');
  assert.equal(openaiDuration(999.2), '1000ms');
  assert.equal(openaiDuration(1000), '1s');
  assert.equal(openaiDuration(6000), '6s');
  assert.equal(openaiDuration(5500), '6s');
  assert.equal(openaiDuration(60_000), '1m0s');
  assert.equal(openaiDuration(3_723_000), '1h2m3s');
  assert.equal(rfc3339(Date.parse('2026-03-05T13:45:00.200Z')), '2026-03-05T13:45:01Z');
  assert.equal(rfc3339(Date.parse('2026-03-05T13:45:00Z')), '2026-03-05T13:45:00Z');
});

const providers = ['providers:', '  - name: mock', '    type: openai', '    base_url: http://127.0.0.1:9/v1', '    models: [mock-gpt, gpt-4o]'];
const aliases = ['models:', '  - name: fast', '    targets: [{ provider: mock, model: mock-gpt }]'];

function problemsOf(lines: string[]): string[] {
  try {
    parseConfigText([...lines, ...providers, ...aliases].join('\n') + '\n', 'switchyard.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => `${problem.path}: ${problem.message}`);
    throw error;
  }
  return [];
}

test('check-config: malformed limits, negative budgets, duplicate names, unknown teams, allow-lists that match nothing', () => {
  assert.deepEqual(problemsOf(['auth:', '  keys:', '    - { key: a, name: ci, rpm: 0, budget: { usd: -1, period: day } }']), [
    'auth.keys[0].rpm: must be a positive integer',
    'auth.keys[0].budget.usd: must be a number, 0 or more',
  ]);
  assert.deepEqual(problemsOf(['auth:', '  keys:', '    - { key: a, name: ci, budget: { usd: 5, period: year } }']), [
    "auth.keys[0].budget.period: unknown value 'year'; expected one of day, week, month, total",
  ]);
  assert.deepEqual(problemsOf(['auth:', '  keys:', '    - { key: a, name: ci }', '    - { key: b, name: ci }']), ["auth.keys[1].name: 'ci' is already used by auth.keys[0]"]);
  assert.deepEqual(problemsOf(['auth:', '  keys:', '    - a', '    - { key: a, name: ci }']), ['auth.keys[1].key: is the same key as auth.keys[0]: each key must be unique']);
  assert.deepEqual(problemsOf(['auth:', '  teams: [{ name: ml }, { name: ml }]', '  keys:', '    - { key: a, name: ci, team: mk }']), [
    "auth.teams[1].name: 'ml' is already used by auth.teams[0]",
    "auth.keys[0].team: no team named 'mk' (did you mean 'ml'?)",
  ]);
  assert.deepEqual(problemsOf(['auth:', '  keys:', '    - { key: a, name: ci, budget: { usd: 5, period: day, soft_usd: 5 } }']), [
    'auth.keys[0].budget.soft_usd: must be below usd (5): it warns before the hard limit refuses',
  ]);
  assert.deepEqual(problemsOf(['auth:', '  keys:', '    - { key: a, name: ci, models: [fast, "gpt-*", "mock:*", "mock/x", mock-gpt, claude-*, nope:x, fsat] }']), [
    'auth.keys[0].models[5]: matches no alias and no model of a configured provider; write an alias, provider:model, or a glob such as gpt-*',
    'auth.keys[0].models[6]: matches no alias and no model of a configured provider; write an alias, provider:model, or a glob such as gpt-*',
    "auth.keys[0].models[7]: matches no alias and no model of a configured provider (did you mean 'fast'?); write an alias, provider:model, or a glob such as gpt-*",
  ]);
  assert.deepEqual(problemsOf(['auth:', '  keys:', '    - { key: a, name: ci, rmp: 5 }']), ["auth.keys[0].rmp: unknown key (did you mean 'rpm'?)"]);
});

test('named keys become frozen policies in the order of auth.keys; plain keys have none; the id is the key id auth gives', () => {
  const { config } = parseConfigText([
    'auth:',
    '  teams: [{ name: ml, rpm: 10 }]',
    '  keys:',
    '    - plain',
    '    - { key: secret-ci, name: ci, team: ml, models: [fast], tpm: 1000, budget: { usd: 5, period: month, soft_usd: 4 } }',
    '    - { key: "", name: unset }',
    ...providers, ...aliases,
  ].join('\n') + '\n', 'switchyard.yaml', {});
  assert.deepEqual(config.auth.keys, ['plain', 'secret-ci']);
  const policies = configKeyPolicies(config.auth);
  assert.equal(policies[0], undefined);
  const policy = policies[1]!;
  assert.ok(Object.isFrozen(policy) && Object.isFrozen(policy.limits));
  assert.deepEqual({ ...policy, limits: { ...policy.limits }, teamLimits: { ...policy.teamLimits } }, {
    id: clientKeyId('secret-ci'), name: 'ci', source: 'config', team: 'ml',
    limits: { models: ['fast'], tpm: 1000, budget: { usd: 5, period: 'month', softUsd: 4 } },
    teamLimits: { rpm: 10 },
  });
  const auth = new ClientAuth(config.auth.keys, policies);
  const identity = auth.authenticate({ authorization: 'Bearer secret-ci' }, '');
  assert.equal(identity.keyId, policy.id);
  assert.equal(identity.policy, policy);
  assert.equal(auth.authenticate({ authorization: 'Bearer plain' }, '').policy, undefined);
});

function enforcer(options: { events?: SoftBudgetEvent[]; price?: number } = {}) {
  const counters = new LocalRateLimitCounters();
  const spend = new LocalSpendStore();
  const limits = new LimitEnforcer({
    counters, spend, spendReadiness: { available: true },
    prices: { estimateUsd: (_model, input, output) => options.price === undefined ? undefined : (input + output) * options.price },
    defaultMaxTokens: 100,
    onStoreFailure: { rateLimits: 'open', budgets: 'closed' },
    onSoftBudget: (event) => options.events?.push(event),
  });
  return { counters, spend, limits };
}

function policy(limits: KeyPolicy['limits'], team?: { name: string; limits: KeyPolicy['teamLimits'] }, id = 'key-1'): KeyPolicy {
  return Object.freeze({ id, name: id, source: 'config' as const, ...(limits !== undefined ? { limits } : {}), ...(team !== undefined ? { team: team.name, teamLimits: team.limits } : {}) });
}

function refused(outcome: LimitTicket | LimitRefusal | Promise<LimitTicket | LimitRefusal>): LimitRefusal {
  assert.ok(!(outcome instanceof Promise), 'in-process limits answer synchronously');
  assert.ok(!(outcome instanceof LimitTicket), 'expected a refusal');
  return outcome;
}

test('enforcer: requests per minute refuse past the limit with the wait, and a refusal gives back what it took', () => {
  const { limits, counters } = enforcer();
  const team = { name: 'ml', limits: Object.freeze({ rpm: 3 }) };
  const a = policy({ rpm: 2, maxConcurrent: 5 }, team, 'key-a');
  const b = policy({ rpm: 5 }, team, 'key-b');
  const now = 60_000 * 1000 + 10_000;
  assert.ok(limits.admit(a, 'm', 10, undefined, true, 'r1', now) instanceof LimitTicket);
  assert.ok(limits.admit(a, 'm', 10, undefined, true, 'r2', now) instanceof LimitTicket);
  const third = refused(limits.admit(a, 'm', 10, undefined, true, 'r3', now));
  assert.equal(third.error.status, 429);
  assert.match(third.error.message, /key 'key-a' \(key-a\).*2 requests per minute/);
  assert.deepEqual(third.rate, { unit: 'requests', limit: 2, resetMs: third.rate!.resetMs });
  // the refused request's concurrency slot went back
  assert.equal(counters.used('concurrent\0key\0key-a', { kind: 'concurrent', limit: 5, windowMs: 0 }, now), 2);
  assert.ok(limits.admit(b, 'm', 10, undefined, true, 'r4', now) instanceof LimitTicket);
  const teamRefusal = refused(limits.admit(b, 'm', 10, undefined, true, 'r5', now));
  assert.match(teamRefusal.error.message, /team 'ml'.*3 requests per minute/);
  // b's own counter was given back when the team refused
  assert.equal(counters.used('rpm\0key\0key-b', { kind: 'sliding', limit: 5, windowMs: 60_000 }, now), 1);
});

test('enforcer: tokens are reserved (prompt + max_tokens or the default) and settled with the real count; an answer without usage keeps the reservation', () => {
  const { limits, counters } = enforcer();
  const key = policy({ tpm: 1000, maxConcurrent: 1 });
  const rule = { kind: 'sliding' as const, limit: 1000, windowMs: 60_000 };
  const now = 60_000 * 500;
  const first = limits.admit(key, 'm', 50, 200, true, 'r1', now) as LimitTicket;
  assert.equal(first.tokens, 250);
  assert.equal(counters.used('tpm\0key\0key-1', rule, now), 250);
  // max_concurrent 1: a second request waits for the first to end
  assert.equal(refused(limits.admit(key, 'm', 50, undefined, true, 'r2', now)).error.status, 429);
  limits.settle(first, 30, undefined, true, now + 10);
  assert.equal(counters.used('tpm\0key\0key-1', rule, now + 10), 30);
  const second = limits.admit(key, 'm', 50, undefined, true, 'r3', now + 20) as LimitTicket;
  assert.equal(second.tokens, 150);
  // a stream the client cut: no usage reported, the reservation counts; the slot is free again
  limits.settle(second, undefined, undefined, true, now + 30);
  assert.equal(counters.used('tpm\0key\0key-1', rule, now + 30), 180);
  const third = limits.admit(key, 'm', 50, undefined, true, 'r4', now + 40) as LimitTicket;
  // failed before any answer: no tokens count
  limits.settle(third, undefined, undefined, false, now + 50);
  assert.equal(counters.used('tpm\0key\0key-1', rule, now + 50), 180);
  // settling twice changes nothing
  limits.settle(third, 500, undefined, true, now + 60);
  assert.equal(counters.used('tpm\0key\0key-1', rule, now + 60), 180);
});

test('enforcer: budgets hold the estimate (or what is left), settle the real cost, refuse once spent, and report the soft threshold once', () => {
  const events: SoftBudgetEvent[] = [];
  const { limits, spend } = enforcer({ events, price: 0.001 });
  const key = policy({ budget: { usd: 1, period: 'day', softUsd: 0.5 } });
  const now = Date.parse('2026-03-05T13:45:00Z');
  const start = periodStart('day', now);
  const first = limits.admit(key, 'm', 100, 100, true, 'r1', now) as LimitTicket;
  assert.equal(first.keyHold, 200_000); // $0.20 in micro-dollars
  assert.equal(spend.held('budget\0key\0key-1', start, now), 200_000);
  limits.settle(first, 300, 0.6, true, now);
  assert.equal(spend.spent('budget\0key\0key-1', start, now), 600_000);
  assert.equal(events.length, 1);
  assert.deepEqual({ ...events[0] }, { scope: 'key', name: 'key-1', id: 'key-1', period: 'day', spentUsd: 0.6, softUsd: 0.5, limitUsd: 1 });
  const headers: string[] = [];
  const second = limits.admit(key, 'm', 1000, 1000, true, 'r2', now) as LimitTicket; // $2 estimate: holds the $0.40 left
  assert.equal(second.keyHold, 400_000);
  limits.appendHeaders(second, false, now, headers);
  assert.equal(headers[0], 'x-switchyard-budget-warning');
  assert.match(headers[1]!, /key 'key-1' \(key-1\) has spent \$0\.60 of its \$1\.00 per-day budget \(warning at \$0\.50\); it resets at 2026-03-06T00:00:00Z/);
  limits.settle(second, 500, 0.5, true, now);
  assert.equal(events.length, 1, 'the soft threshold is reported once per period');
  const third = refused(limits.admit(key, 'm', 10, 10, true, 'r3', now));
  assert.equal(third.error.status, 429);
  assert.equal(third.error.code, 'SWY_ERR_LIMIT_BUDGET_EXCEEDED');
  assert.match(third.error.message, /Budget exceeded for key 'key-1' \(key-1\): \$1\.10 spent of \$1\.00 per day\. It resets at 2026-03-06T00:00:00Z\./);
  assert.equal(third.error.retryAfterSeconds, (periodEnd('day', start) - now) / 1000);
  // the next day starts from zero
  assert.ok(limits.admit(key, 'm', 10, 10, true, 'r4', periodEnd('day', start) + 1) instanceof LimitTicket);
});

test('enforcer: the allow-list refuses with 403 naming the key and the model (and the team when it is the team\'s)', () => {
  const { limits } = enforcer();
  const key = policy({ models: ['gpt-*'] }, { name: 'ml', limits: Object.freeze({ models: ['gpt-4o'] }) }, 'key-9');
  const own = refused(limits.admit(key, 'claude-x', 1, undefined, true, 'r1', 0));
  assert.equal(own.error.status, 403);
  assert.equal(own.error.message, "Key 'key-9' (key-9) may not use model 'claude-x'; allowed: gpt-*.");
  const team = refused(limits.admit(key, 'gpt-5', 1, undefined, true, 'r2', 0));
  assert.equal(team.error.message, "Key 'key-9' (key-9) of team 'ml' may not use model 'gpt-5'; allowed: gpt-4o.");
  assert.ok(limits.admit(key, 'gpt-4o', 1, undefined, true, 'r3', 0) instanceof LimitTicket);
});

test('enforcer: success headers report the tighter of key and team, in OpenAI and Anthropic form', () => {
  const { limits } = enforcer();
  const key = policy({ rpm: 10, tpm: 5000 }, { name: 'ml', limits: Object.freeze({ rpm: 4 }) });
  const now = Date.parse('2026-03-05T13:45:15Z');
  const ticket = limits.admit(key, 'm', 100, 100, true, 'r1', now) as LimitTicket;
  const headers: string[] = [];
  limits.appendHeaders(ticket, true, now, headers);
  const map = Object.fromEntries(headers.flatMap((value, index) => (index % 2 === 0 ? [[value, headers[index + 1]]] : [])));
  assert.deepEqual(map, {
    'x-ratelimit-limit-requests': '4', 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '45s',
    'anthropic-ratelimit-requests-limit': '4', 'anthropic-ratelimit-requests-remaining': '3', 'anthropic-ratelimit-requests-reset': '2026-03-05T13:46:00Z',
    'x-ratelimit-limit-tokens': '5000', 'x-ratelimit-remaining-tokens': '4800', 'x-ratelimit-reset-tokens': '45s',
    'anthropic-ratelimit-tokens-limit': '5000', 'anthropic-ratelimit-tokens-remaining': '4800', 'anthropic-ratelimit-tokens-reset': '2026-03-05T13:46:00Z',
  });
});

test('usage rows carry the team; the ledger starts each budget from its period\'s spend, once', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { SqliteUsageDatabase } = await import('../../src/state/usage-sqlite.ts');
  const { BudgetLedger } = await import('../../src/governance/budget-ledger.ts');
  const database = new SqliteUsageDatabase(join(mkdtempSync(join(tmpdir(), 'switchyard-ledger-')), 'usage.db'));
  const now = Date.parse('2026-03-05T13:45:00Z');
  const row = (time: number, keyId: string, team: string, costUsd: number) => ({
    time, requestId: 'r', keyId, surface: 'openai-chat', modelAsked: 'm', provider: 'p', model: 'm', fallback: '', status: 200, stream: false, attempts: 1,
    inputTokens: 1, outputTokens: 1, cachedTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, costUsd, durationMs: 1, team,
  });
  database.insert([
    row(now - 60_000, 'key-a', 'ml', 1.5),
    row(now - 120_000, 'key-b', 'ml', 2),
    row(Date.parse('2026-03-04T23:00:00Z'), 'key-a', 'ml', 100), // yesterday: not in today's period, in this month's
  ]);
  assert.deepEqual(database.summarize({ groupBy: 'team', from: 0, to: now }).map((sums) => [sums.group, sums.cost_usd]), [['ml', 103.5]]);
  const spend = new LocalSpendStore();
  const ledger = new BudgetLedger(spend, { summarize: async (query) => database.summarize(query) }, () => now);
  const key: KeyPolicy = { id: 'key-a', name: 'a', source: 'config', team: 'ml', limits: { budget: { usd: 10, period: 'day' } }, teamLimits: { budget: { usd: 500, period: 'month' } } };
  assert.equal(await ledger.load([key, undefined]), true);
  assert.equal(spend.spent('budget\0key\0key-a', periodStart('day', now), now), 1_500_000);
  assert.equal(spend.spent('budget\0team\0ml', periodStart('month', now), now), 103_500_000);
  await ledger.load([key]); // read once: a reload does not add it again
  assert.equal(spend.spent('budget\0key\0key-a', periodStart('day', now), now), 1_500_000);
  const failing = new BudgetLedger(new LocalSpendStore(), { summarize: () => Promise.reject(new Error('down')) }, () => now);
  assert.equal(await failing.load([key]), false);
  assert.equal(failing.available, false);
  failing.close();
  database.close();
});
