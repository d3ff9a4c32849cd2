// `--workers N` and /metrics, as a user runs it: whichever worker a scrape lands on, it sees the
// whole process group (the primary aggregates every worker's registry), also right after a worker
// was replaced.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { freePort } from '../helpers/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream } from '../helpers/mock-upstream.ts';
import { parsePrometheus, sampleSum } from '../helpers/prometheus.ts';

const entry = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-metrics-'));
const children: ChildProcess[] = [];

after(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});


async function waitFor(read: () => string, pattern: RegExp, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test('--workers 2: every scrape sees both workers\' requests, also after a worker was replaced', { timeout: 60_000 }, async () => {
  const mock = await startMockUpstream();
  try {
    const path = join(dir, 'workers.yaml');
    writeFileSync(path, `auth:\n  keys: [sk-scrape]\nproviders:\n  - name: mock\n    type: openai\n    base_url: ${mock.url}/v1\n    models: [mock-gpt]\n`);
    const port = await freePort();
    const child = spawn(process.execPath, [entry, '--config', path, '--port', String(port), '--workers', '2'], { env: { PATH: process.env.PATH, SWITCHYARD_STATE_DIR: join(dir, 'state') }, cwd: dir });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => { stdout += chunk; });
    child.stderr!.on('data', (chunk) => { stderr += chunk; });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await waitFor(() => stderr, /listening on http:\/\/127\.0\.0\.1:\d+\s+\(2 workers/);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: 'Bearer sk-scrape' };

    // new connections spread over the workers; the access log names the pid that answered
    const pids = new Set<number>();
    let sent = 0;
    for (let i = 0; i < 200 && (pids.size < 2 || sent < 10); i++) {
      const response = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST', headers: { ...auth, connection: 'close', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'x' }] }),
      });
      assert.equal(response.status, 200);
      await response.text();
      sent++;
      for (const line of stdout.split('\n')) {
        const match = line.match(/"pid":(\d+).*"msg":"request"/);
        if (match !== null) pids.add(Number(match[1]));
      }
    }
    assert.equal(pids.size, 2, 'both workers answered');

    const scrape = async () => {
      const response = await fetch(`${base}/metrics`, { headers: { ...auth, connection: 'close' } });
      const text = await response.text();
      assert.equal(response.status, 200, text);
      return parsePrometheus(text);
    };
    // whichever worker answers the scrape, the counts are the group's
    for (let i = 0; i < 6; i++) {
      const families = await scrape();
      assert.equal(sampleSum(families, 'switchyard_requests_total', { provider: 'mock', model: 'mock-gpt', status_class: '2xx' }), sent);
      assert.equal(sampleSum(families, 'switchyard_upstream_attempts_total', { provider: 'mock', outcome: 'ok' }), sent);
      assert.equal(sampleSum(families, 'switchyard_request_duration_seconds_count', { provider: 'mock' }), sent);
      assert.equal(sampleSum(families, 'switchyard_inflight_requests'), 1, 'the scrape itself, in one worker');
      assert.ok(sampleSum(families, 'switchyard_process_resident_memory_bytes') > 0);
    }
    assert.equal((await fetch(`${base}/metrics`, { headers: { connection: 'close' } })).status, 401, 'the key is needed');

    // the killed worker's counts go with it; scrapes keep answering at once while its replacement
    // is forked and still loading (it is asked only once it says it is ready)
    process.kill([...pids][0]!, 'SIGKILL');
    await waitFor(() => stdout, /worker exited unexpectedly; starting a replacement/);
    const until = Date.now() + 2500;
    let scrapes = 0;
    while (Date.now() < until) {
      const started = Date.now();
      const families = await scrape();
      assert.ok(Date.now() - started < 2000, `scrape ${scrapes} took ${Date.now() - started} ms`);
      const left = sampleSum(families, 'switchyard_requests_total');
      assert.ok(left > 0 && left < sent, `the surviving worker's ${left} of ${sent}`);
      scrapes++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    await mock.close();
  }
});
