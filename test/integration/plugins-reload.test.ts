// Hot reload of a JS plugin under load (issue #18, "hot reload under load"): a real `switchyard`
// started from a config file whose plugin tags every answer with its version (`<v1>` after each
// streamed delta and after a whole answer's text). Eight clients send requests back to back,
// streamed and not, while the plugin file is rewritten: to v2 (the file watcher reloads it), then
// with a syntax error (the reload is refused, naming the file and the line, in the log and in the
// management API's answer; v2 keeps serving), then to v3. Every request succeeds (no 5xx, no
// broken stream), no answer mixes two versions, and each client sees the versions in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliProcess, eventually } from '../helpers/cli-process.ts';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { parseSse } from '../helpers/sse.ts';

const WORKERS = 8;

/** The plugin at `version`: every streamed delta and every whole answer carries `<version>`. */
const pluginSource = (version: string) => `// the tag plugin, ${version}
const TAG = '<${version}>';
export default {
  name: 'tag',
  hooks: {
    onResponse(ctx, response) {
      for (const part of response.content) if (part.type === 'text') part.text += TAG;
    },
    onStreamEvent(ctx, part) {
      if (part.type === 'text-delta') part.delta += TAG;
    },
  },
};
`;

/** v2 with a syntax error on line 6 (a missing closing parenthesis). */
const BROKEN = `// the tag plugin, broken
const TAG = '<v2>';
export default {
  name: 'tag',
  hooks: {
    onResponse(ctx, response {
      for (const part of response.content) if (part.type === 'text') part.text += TAG;
    },
  },
};
`;

interface Outcome {
  worker: number;
  stream: boolean;
  status: number;
  /** The versions tagged in the answer (one, unless an answer mixed two). */
  versions: string[];
  problem?: string;
}

test('a JS plugin rewritten under load: v1 → v2 without a failed request, a syntax error refused with its file and line while v2 serves, then v3', { timeout: 120_000 }, async (t) => {
  const mock = await startMockUpstream({ streamDeltas: ['Hello', ' from', ' the', ' mock.'], streamIntervalMs: 15 });
  t.after(() => mock.close());
  const dir = mkdtempSync(join(tmpdir(), 'swy-plugin-reload-'));
  const config = join(dir, 'switchyard.yaml');
  const plugin = join(dir, 'tag.ts');
  writeFileSync(plugin, pluginSource('v1'));
  writeFileSync(config, [
    'providers:',
    '  - name: mock',
    '    type: openai',
    `    base_url: ${mock.url}/v1`,
    '    models: [mock-gpt]',
    'storage: { enabled: false }',
    'plugins:',
    '  - use: ./tag.ts',
    // budgets no call misses on a shared, niced machine (a late hook would be skipped)
    '    timeout_ms: 5000',
    '    stream_timeout_ms: 1000',
    '',
  ].join('\n'));
  const server = new CliProcess(['--config', config, '--port', '0'], { cwd: dir, env: { SWITCHYARD_STATE_DIR: join(dir, 'state') } });
  t.after(async () => {
    server.child.kill('SIGKILL');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  });
  const [, base] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  const logs = (message: RegExp) => server.logs().filter((line) => message.test(String(line.msg)));

  async function ask(worker: number, stream: boolean): Promise<Outcome> {
    let response: Response;
    try {
      response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
    } catch (error) {
      return { worker, stream, status: 0, versions: [], problem: `fetch failed: ${(error as Error).message}` };
    }
    let body: string;
    try {
      body = await response.text();
    } catch (error) {
      return { worker, stream, status: response.status, versions: [], problem: `body broken: ${(error as Error).message}` };
    }
    if (response.status !== 200) return { worker, stream, status: response.status, versions: [], problem: body.slice(0, 300) };
    let text: string;
    try {
      if (stream) {
        const events = parseSse(body);
        if (events.at(-1)?.data !== '[DONE]') return { worker, stream, status: 200, versions: [], problem: `stream not ended by [DONE]: ${body.slice(-300)}` };
        const payloads = events.slice(0, -1).map((event) => JSON.parse(event.data));
        const failed = payloads.find((payload) => payload.error !== undefined);
        if (failed !== undefined) return { worker, stream, status: 200, versions: [], problem: `error event: ${JSON.stringify(failed.error)}` };
        text = payloads.map((payload) => payload.choices?.[0]?.delta?.content ?? '').join('');
      } else {
        text = JSON.parse(body).choices[0].message.content;
      }
    } catch (error) {
      return { worker, stream, status: 200, versions: [], problem: `malformed: ${(error as Error).message}: ${body.slice(0, 300)}` };
    }
    const versions = [...new Set([...text.matchAll(/<(v\d)>/g)].map((match) => match[1]!))];
    const expected = stream ? 'Hello<V> from<V> the<V> mock.<V>' : 'Hello from the mock.<V>';
    if (versions.length !== 1 || text !== expected.replaceAll('V', versions[0]!)) return { worker, stream, status: 200, versions, problem: `text: ${JSON.stringify(text)}` };
    return { worker, stream, status: 200, versions };
  }

  // eight clients, back to back, streamed and not, until told to stop
  const outcomes: Outcome[] = [];
  let running = true;
  const load = Promise.all(Array.from({ length: WORKERS }, async (_, worker) => {
    for (let i = 0; running; i++) outcomes.push(await ask(worker, (i + worker) % 2 === 0));
  }));
  const latest = () => outcomes.at(-1)?.versions[0];
  const seen = (version: string) => outcomes.filter((outcome) => outcome.versions[0] === version).length;
  try {
    await eventually(() => seen('v1') >= WORKERS * 4, 20_000);

    // 1. v2 over v1: the watcher reloads the plugin; answers switch
    writeFileSync(plugin, pluginSource('v2'));
    await eventually(() => latest() === 'v2' && seen('v2') >= WORKERS * 4, 30_000);
    await eventually(() => logs(/^config reloaded/).length >= 1, 10_000);
    assert.equal(logs(/^config reloaded/)[0]!.reason, 'plugin changed');

    // 2. a syntax error over v2: refused, naming the file and the line; v2 keeps serving
    writeFileSync(plugin, BROKEN);
    // the config process loads the plugins before anything is applied: the refusal is a config problem at the entry's line
    await eventually(() => logs(/^config reload refused/).length >= 1, 30_000);
    const refusal = logs(/^config reload refused/)[0]!;
    assert.match(String(refusal.problems), /plugins\[0\]\.use: .*tag\.ts:6\b/, `the log names the entry, the file and the line: ${JSON.stringify(refusal)}`);
    const servedAfterRefusal = outcomes.length;
    await eventually(() => outcomes.length >= servedAfterRefusal + WORKERS * 4, 20_000);
    assert.deepEqual([...new Set(outcomes.slice(servedAfterRefusal).map((outcome) => outcome.versions.join('+')))], ['v2'], 'the previous plugin set keeps serving');
    // the management API (loopback, no admin keys) answers the same refusal
    const api = await fetch(`${base}/v0/management/config/reload`, { method: 'POST' });
    const answer = await api.text();
    assert.ok(api.status >= 400 && api.status < 500, `refused: ${api.status} ${answer}`);
    assert.match(answer, /tag\.ts:6\b/, `the API's answer names the file and the line: ${answer}`);

    // 3. fixed: v3 takes over
    writeFileSync(plugin, pluginSource('v3'));
    await eventually(() => latest() === 'v3' && seen('v3') >= WORKERS * 4, 30_000);
  } finally {
    running = false;
    await load;
  }

  t.diagnostic(`${outcomes.length} requests: ${['v1', 'v2', 'v3'].map((version) => `${version} ${seen(version)}`).join(', ')}`);
  const failed = outcomes.filter((outcome) => outcome.problem !== undefined);
  assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${outcomes.length} requests failed or mixed versions`);
  assert.ok(outcomes.every((outcome) => outcome.status === 200));
  assert.ok(outcomes.some((outcome) => outcome.stream) && outcomes.some((outcome) => !outcome.stream));
  // each client saw the versions in order: never an older plugin after a newer one
  for (let worker = 0; worker < WORKERS; worker++) {
    const versions = outcomes.filter((outcome) => outcome.worker === worker).map((outcome) => outcome.versions[0]!);
    const sorted = [...versions].sort();
    assert.deepEqual(versions, sorted, `worker ${worker}: ${versions.join(' ')}`);
  }
  for (const version of ['v1', 'v2', 'v3']) assert.ok(seen(version) > 0, `${version} served`);
  assert.equal(server.child.exitCode, null, 'the gateway is still running');
});
