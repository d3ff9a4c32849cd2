// `strategy: auto` in the config (issue #19): tiers become hidden aliases escalating to the next,
// rules are compiled to data, and what cannot work is a check-config problem at its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfigText } from '../../src/config/load.ts';

const PROVIDERS = `providers:
  - name: local
    type: ollama
    base_url: http://127.0.0.1:11434
    models: ["*"]
  - name: openai
    type: openai
    api_key: sk-test
`;

const AUTO = `${PROVIDERS}models:
  - name: vision
    targets: [{ provider: openai, model: gpt-4o }]
  - name: auto
    strategy: auto
    tiers:
      - { name: simple, targets: [{ provider: local, model: "qwen3:8b" }] }
      - { name: medium, targets: [{ provider: openai, model: gpt-5-mini }] }
      - { name: complex, targets: [{ provider: openai, model: gpt-5 }] }
    rules:
      - { when: { regex: "(?i)\\\\b(prove|theorem)\\\\b" }, then: { tier: complex } }
      - { when: { has_images: true }, then: { model: vision } }
      - { when: { min_prompt_tokens: 60000, header: { x-task: "^long$" } }, then: { tier: medium } }
`;

function problems(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml', {});
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => `${problem.line}:${problem.column} ${problem.path}: ${problem.message}`);
    throw error;
  }
  return [];
}

test('an auto alias: its tiers are hidden aliases, each escalating to the next; rules as data', () => {
  const { config } = parseConfigText(AUTO, 'test.yaml', {});
  const names = config.models.map((alias) => alias.name);
  assert.deepEqual(names, ['vision', 'auto', 'auto@simple', 'auto@medium', 'auto@complex']);
  const auto = config.models.find((alias) => alias.name === 'auto')!;
  assert.deepEqual(auto.targets.map((target) => target.model), ['gpt-5'], 'the alias itself routes like its strongest tier');
  assert.deepEqual(auto.auto!.tiers.map((tier) => tier.route), ['auto@simple', 'auto@medium', 'auto@complex']);
  assert.deepEqual(config.models.filter((alias) => alias.hidden).map((alias) => [alias.name, alias.fallbacks]), [
    ['auto@simple', ['auto@medium']], ['auto@medium', ['auto@complex']], ['auto@complex', []],
  ]);
  assert.deepEqual(auto.auto!.rules[0], { when: { regex: { source: '\\b(prove|theorem)\\b', flags: 'iu', on: 'user' } }, then: { tier: 2 } });
  assert.deepEqual(auto.auto!.rules[1]!.then, { model: 'vision' });
  assert.deepEqual(auto.auto!.rules[2]!.when, { minPromptTokens: 60000, headers: [['x-task', '^long$', 'u']] });
});

test('what cannot work is a problem at its line: a tier without targets, an unknown tier, a bad regex, a loop, a rule that decides nothing', () => {
  const broken = AUTO
    .replace('{ name: medium, targets: [{ provider: openai, model: gpt-5-mini }] }', '{ name: medium, targets: [] }')
    .replace('then: { tier: complex }', 'then: { tier: complx }')
    .replace('"^long$"', '"(unclosed"')
    .replace('then: { model: vision }', 'then: { model: auto }')
    + '      - { when: { has_tools: true }, then: { } }\n';
  const found = problems(broken);
  assert.ok(found.some((line) => /models\[1\]\.tiers\[1\]\.targets: must be a non-empty list of targets/.test(line)), found.join('\n'));
  assert.ok(found.some((line) => /rules\[0\]\.then\.tier: no tier named 'complx' \(did you mean 'complex'\?\)/.test(line)), found.join('\n'));
  assert.ok(found.some((line) => /rules\[2\]\.when\.header\.x-task: is not a valid regular expression/.test(line)), found.join('\n'));
  assert.ok(found.some((line) => /rules\[1\]\.then\.model: names this alias itself \(a loop\)/.test(line)), found.join('\n'));
  assert.ok(found.some((line) => /rules\[3\]\.then: needs exactly one of `tier`/.test(line)), found.join('\n'));
});

test('targets and tiers do not mix: an auto alias has tiers, any other alias targets', () => {
  assert.ok(problems(`${PROVIDERS}models:\n  - name: auto\n    strategy: auto\n`).some((line) => /needs `tiers`/.test(line)));
  assert.ok(problems(`${PROVIDERS}models:\n  - name: plain\n`).some((line) => /models\[0\]\.targets: is required/.test(line)));
  assert.ok(problems(`${PROVIDERS}models:\n  - name: plain\n    targets: [{ provider: local, model: x }]\n    tiers: [{ name: a, targets: [{ provider: local, model: x }] }]\n`).some((line) => /tiers: applies to `strategy: auto` only/.test(line)));
});

test('switchyard route eval: the configured alias against the baselines on the shipped set, with its latency', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, writeFileSync, existsSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-route-eval-'));
  writeFileSync(join(dir, 'switchyard.yaml'), AUTO);
  const bin = join(import.meta.dirname, '../../bin/switchyard.js');
  const data = join(import.meta.dirname, '../../data/auto-route/eval.jsonl');
  const run = spawnSync(process.execPath, [bin, 'route', 'eval', data, '--config', join(dir, 'switchyard.yaml'), '--svg', join(dir, 'plot.svg'), '--json'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.split, 'test');
  assert.deepEqual(report.tiers, ['simple', 'medium', 'complex']);
  const [configured, keyword] = report.results;
  assert.equal(configured.name, 'auto (rules + score)');
  assert.equal(keyword.name, 'keyword-only');
  assert.ok(configured.quality > keyword.quality, `${configured.quality} > ${keyword.quality}`);
  assert.ok(typeof report.decision_latency.p99_us === 'number');
  assert.ok(existsSync(join(dir, 'plot.svg')));
  const usage = spawnSync(process.execPath, [bin, 'route', 'nope'], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /unknown subcommand 'nope'/);
});

test('the judge: a known small model, never the auto alias itself or one of its tiers', () => {
  const withJudge = (model: string) => AUTO.replace('    rules:\n', `    classifier: { model: "${model}", timeout_ms: 250 }\n    rules:\n`);
  const { config } = parseConfigText(withJudge('local:qwen3:0.6b'), 'test.yaml', {});
  assert.deepEqual(config.models.find((alias) => alias.name === 'auto')!.auto!.classifier, { model: 'local:qwen3:0.6b', timeoutMs: 250 });
  for (const loop of ['auto', 'auto@simple']) assert.ok(problems(withJudge(loop)).some((line) => /classifier\.model: names this auto alias/.test(line)), loop);
  assert.ok(problems(withJudge('nowhere')).some((line) => /classifier\.model: no alias named 'nowhere'/.test(line)));
});
