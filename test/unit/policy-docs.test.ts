// docs/routing.md's failure table and the README's failure summary are generated from the retry
// policy (scripts/gen-policy-docs.ts): this fails when either says something the table does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { policySummary, policyTable } from '../../scripts/gen-policy-docs.ts';

const script = fileURLToPath(new URL('../../scripts/gen-policy-docs.ts', import.meta.url));

test('docs/routing.md and README.md carry the current retry policy (gen-policy-docs --check)', () => {
  const result = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${result.stderr}\nRun: npm run docs`);
});

test('the generated text says what the issue found the README getting wrong: 401/403 go to another key, never the same one', () => {
  assert.match(policyTable(), /\| 401, 403 \(the provider refused the key\) \| auth-refused \| at once \| no \| yes \| yes \|/);
  assert.match(policySummary(), /\*\*401, 403\*\*: another key at once, never the same key, then the next target, then the fallbacks/);
  assert.match(policySummary(), /\*\*other 4xx \(bad request, content policy\)\*\*: answered at once\./);
});
