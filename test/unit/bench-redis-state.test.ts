// Scenario 9 (Redis state on vs off) of the benchmark, its parts that need no load: it is scenario
// 9, and its two configs load through the gateway's own config loader, alike but for `state:` —
// the same limited key (the client key every bench request sends), the same pinned route over two
// targets, prices for both. The scenario itself runs only in `npm run bench`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseOptions, quickSettings, scenarioNames } from '../../bench/lib/options.ts';
import { clientKey, switchyardYaml } from '../../bench/lib/systems.ts';
import { stateVariantYaml } from '../../bench/scenarios/redis-state.ts';
import { loadConfigFile } from '../../src/config/load.ts';

describe('bench scenario 9: Redis state on vs off', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-bench-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is scenario 9, run by default and by --only=9', () => {
    assert.equal(scenarioNames[9], 'Redis state on vs off');
    assert.ok(parseOptions([])!.scenarios.has(9));
    assert.deepEqual([...parseOptions(['--quick', '--only=9', '--systems=switchyard'])!.scenarios], [9]);
    assert.ok(quickSettings.redisConnections.length > 0 && quickSettings.redisRounds >= 2, 'the variants alternate at least once');
  });

  it('writes two configs the gateway accepts, the same but for state.redis', () => {
    const load = (redis: string | undefined) => {
      const yaml = stateVariantYaml(redis);
      const file = join(dir, `state-${redis === undefined ? 'off' : 'on'}.yaml`);
      writeFileSync(file, switchyardYaml(40_000, 40_001, join(dir, 'state'), [], yaml.extra, yaml.auth));
      return loadConfigFile(file).config;
    };
    const off = load(undefined);
    const on = load('redis://127.0.0.1:6390');
    assert.equal(off.state.redis, undefined);
    assert.equal(on.state.redis, 'redis://127.0.0.1:6390');
    assert.match(on.state.keyPrefix, /^switchyard-bench:[0-9a-f]{8}:$/);
    for (const config of [off, on]) {
      assert.deepEqual(config.auth.keys, [clientKey]);
      const limits = config.auth.clients?.[0]?.limits;
      assert.ok(limits?.rpm !== undefined && limits.tpm !== undefined && limits.maxConcurrent !== undefined && limits.budget !== undefined, 'every shared limit is on');
      const route = config.models.find((alias) => alias.name === 'lat0-pinned');
      assert.equal(route?.affinity, 'session');
      assert.equal(route?.targets.length, 2);
    }
    assert.deepEqual({ ...on, source: off.source, state: off.state }, off, 'nothing else differs');
  });
});
