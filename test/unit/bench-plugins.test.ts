// Scenario 8 (plugins) of the benchmark, its parts that need no load: reading the plugin micro
// benchmarks' output (the figures the budget lines are held to), the generated config variants
// (each loads through the gateway's own config and plugin loaders, with exactly the no-op hook it
// claims), and the events counted per stream. The scenario itself runs only in `npm run bench`.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { luaHookOnlyUs, parseLuaHookOutput, parsePluginHooksOutput } from '../../bench/lib/micro-output.ts';
import { parseOptions, scenarioNames } from '../../bench/lib/options.ts';
import { switchyardYaml } from '../../bench/lib/systems.ts';
import { eventsPerStream, pluginFolder, pluginVariants, pluginYaml } from '../../bench/scenarios/plugins.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { checkPlugins } from '../../src/plugins/check.ts';
import { disposePlugins, loadPlugins } from '../../src/plugins/load.ts';
import { pluginSources } from '../../src/plugins/sources.ts';
import { fakePluginContext } from '../helpers/plugin-context.ts';

// What the two benchmarks print (captured from `--rounds 1 --iterations 2000` / `500` runs).
const pluginHooksOutput = `plugin hooks, 903 B OpenAI chat request, 1 rounds × 2000, CPU µs per operation (median); load average 4.15 3.75 3.49
  request context alone (baseline)             1.580 µs
  + a no-op onRequest (hook only)              3.213 µs
  + canonical view (decode, hook, encode)      17.803 µs
  stream part, surface encoder alone           0.758 µs
  stream part, + a no-op onStreamEvent         1.770 µs
  no-op onRequest adds 1.633 µs; the canonical view adds 16.224 µs
  no-op onStreamEvent adds 1.012 µs per event
`;
const luaHookOutput = `request body ≈ 1030 bytes JSON; 1 rounds × 500 calls; load average 4.15 3.75 3.49
JS no-op onRequest (baseline)                   0.18 µs/call
Lua no-op on_request                            2.75 µs/call
Lua on_request reading every message           12.71 µs/call
Lua on_request rewriting one message           25.48 µs/call
  (making the fresh request it rewrites)        0.81 µs/call
Lua no-op on_stream_event (text delta)          3.88 µs/call
`;

describe('bench scenario 8: the micro benchmarks\' output', () => {
  it('reads the hook-only, canonical-view and per-event figures of plugin-hooks.ts', () => {
    assert.deepEqual(parsePluginHooksOutput(pluginHooksOutput), { hookOnlyUs: 1.633, canonicalViewUs: 16.224, streamEventUs: 1.012, bodyBytes: 903 });
  });

  it('keeps a negative difference (noise) as printed', () => {
    const text = pluginHooksOutput.replace('adds 1.633 µs;', 'adds -0.012 µs;').replace('adds 1.012 µs per event', 'adds -0.004 µs per event');
    const figures = parsePluginHooksOutput(text)!;
    assert.equal(figures.hookOnlyUs, -0.012);
    assert.equal(figures.streamEventUs, -0.004);
  });

  it('gives nothing when a figure is missing (the benchmark failed or changed its wording)', () => {
    assert.equal(parsePluginHooksOutput(''), undefined);
    assert.equal(parsePluginHooksOutput(pluginHooksOutput.replace(/.*per event\n/, '')), undefined);
    assert.equal(parsePluginHooksOutput('Error: Cannot find module …'), undefined);
  });

  it('reads the JS baseline and the Lua no-op lines of lua-hook.ts, not the lines that start alike', () => {
    assert.deepEqual(parseLuaHookOutput(luaHookOutput), { jsCallUs: 0.18, luaNoopRequestUs: 2.75, luaNoopStreamEventUs: 3.88 });
    const noStream = parseLuaHookOutput(luaHookOutput.replace(/Lua no-op on_stream_event.*\n/, ''))!;
    assert.equal(noStream.luaNoopRequestUs, 2.75);
    assert.equal(noStream.luaNoopStreamEventUs, undefined);
    assert.equal(parseLuaHookOutput(luaHookOutput.replace(/Lua no-op on_request .*\n/, '')), undefined);
  });

  it('holds the Lua budget to the Lua call plus the host\'s part (on the high side), or the call alone without a host figure', () => {
    const lua = parseLuaHookOutput(luaHookOutput);
    const host = parsePluginHooksOutput(pluginHooksOutput);
    assert.equal(luaHookOnlyUs(lua, host), 2.75 + 1.633);
    assert.equal(luaHookOnlyUs(lua, undefined), 2.75);
    assert.equal(luaHookOnlyUs(lua, { ...host!, hookOnlyUs: -0.5 }), 2.75);
    assert.equal(luaHookOnlyUs(undefined, host), undefined);
  });
});

describe('bench scenario 8: the config variants', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-bench-plugins-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is scenario 8, run by default and by --only=8', () => {
    assert.equal(scenarioNames[8], 'plugins');
    assert.ok(parseOptions([])!.scenarios.has(8));
    assert.deepEqual([...parseOptions(['--quick', '--only=8', '--systems=switchyard'])!.scenarios], [8]);
    assert.throws(() => parseOptions(['--only=10']), /unknown scenario '10'/);
  });

  it('has the baseline and one plugin per variant, each file its own', () => {
    assert.deepEqual(pluginVariants.map((variant) => variant.id), ['none', 'js-noop-request', 'lua-noop-request', 'js-noop-stream']);
    assert.deepEqual(pluginYaml(pluginVariants[0]!), []);
    const files = pluginVariants.flatMap((variant) => variant.file === undefined ? [] : [variant.file.name]);
    assert.equal(new Set(files).size, 3);
    for (const variant of pluginVariants.slice(1)) assert.deepEqual(pluginYaml(variant), ['plugins:', `  - use: ./${pluginFolder}/${variant.file!.name}`]);
  });

  it('writes configs the gateway accepts, each loading exactly the no-op hook it names', async () => {
    mkdirSync(join(dir, pluginFolder));
    for (const variant of pluginVariants) if (variant.file !== undefined) writeFileSync(join(dir, pluginFolder, variant.file.name), variant.file.text);
    const expected = { 'js-noop-request': ['onRequest'], 'lua-noop-request': ['onRequest'], 'js-noop-stream': ['onStreamEvent'] } as const;
    for (const variant of pluginVariants) {
      const file = join(dir, `switchyard-plugins-${variant.id}.yaml`);
      writeFileSync(file, switchyardYaml(40_000, 40_001, join(dir, `state-${variant.id}`), [], pluginYaml(variant)));
      const { config } = loadConfigFile(file);
      assert.deepEqual(await checkPlugins(config), [], variant.id);
      if (variant.id === 'none') {
        assert.equal(config.plugins.length, 0);
        continue;
      }
      assert.equal(config.plugins.length, 1, variant.id);
      const entry = config.plugins[0]!;
      // applies to every route and key: the bench's models are all measured through it
      assert.equal(entry.routes.length, 0, variant.id);
      assert.equal(entry.keys.length, 0, variant.id);
      const [loaded] = await loadPlugins([entry], pluginSources, () => {});
      const hooks = Object.keys(loaded!.instance).filter((name) => name.startsWith('on') && typeof (loaded!.instance as Record<string, unknown>)[name] === 'function');
      assert.deepEqual(hooks, expected[variant.id], variant.id);
      const ctx = fakePluginContext();
      if (variant.id === 'js-noop-stream') assert.equal(loaded!.instance.onStreamEvent!(ctx, { type: 'text-delta', index: 0, delta: 'Hi' }), undefined);
      else {
        const request = { model: 'lat0', messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Hi' }] }], sampling: {}, stream: false };
        assert.equal(await loaded!.instance.onRequest!(ctx, request), undefined, variant.id);
        assert.equal(request.model, 'lat0');
      }
      await disposePlugins([loaded!]);
    }
  });

  it('counts the mock\'s SSE chunks per stream: the deltas and the closing chunk', () => {
    assert.equal(eventsPerStream(64), 65);
    assert.equal(eventsPerStream(0), 2);
  });
});
