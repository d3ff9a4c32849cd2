// The agent-fleet soak's pure parts: `--soak D --profile agents` parsing, the outcome classifier
// (against the gateway's own OpenAI error encoders), the windows compared for drift (at the end
// and at a checkpoint) and the rolling set of buckets the client keeps for them, the warm-up left
// out of the RSS slope, the slope itself, reading counters from Prometheus text, and the report
// rendered from a checkpoint: marked as interrupted at its top and in every budget row.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SoakClientResult, WindowFigures } from '../../bench/clients/soak-client.ts';
import { classifyAnswer, outcomes, type Answer, type Outcome } from '../../bench/clients/soak-outcome.ts';
import { durationLabel, parseDuration, parseOptions } from '../../bench/lib/options.ts';
import { Report } from '../../bench/lib/report.ts';
import { renderDocument } from '../../bench/lib/report-document.ts';
import { comparedWindows, drift, keepsBucket, RollingBuckets, soakWindows, sumMetric, warmupMs, type BucketRange } from '../../bench/lib/soak-windows.ts';
import { slope } from '../../bench/lib/stats.ts';
import { interruptionMarker, soakReport, type SoakReading } from '../../bench/scenarios/agent-soak-report.ts';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import { encodeOpenAIError, encodeOpenAIStreamError } from '../../src/surfaces/openai/encode-error.ts';

describe('bench options: --soak and --profile', () => {
  it('reads durations in ms, s, m (the default unit) and h', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('10'), 600_000);
    assert.equal(parseDuration('3h'), 10_800_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.throws(() => parseDuration('3 hours'), /cannot read '3 hours'/);
  });

  it('reads compound durations such as 2h50m, and refuses what is not one', () => {
    assert.equal(parseDuration('2h50m'), 10_200_000);
    assert.equal(parseDuration(' 1h30m15s '), 5_415_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('2m500ms'), 120_500);
    assert.equal(parseOptions(['--soak', '2h50m', '--profile', 'agents'])!.soakMs, 10_200_000);
    for (const text of ['2h 50m', '2h50', 'h', '', '-1h', '2d']) assert.throws(() => parseDuration(text), /cannot read/, text);
  });

  it('labels a duration for the file name the way it is written, and reads the label back', () => {
    assert.equal(durationLabel(3 * 3_600_000), '3h');
    assert.equal(durationLabel(10_200_000), '2h50m');
    assert.equal(durationLabel(600_000), '10m');
    assert.equal(durationLabel(180_000), '3m');
    assert.equal(durationLabel(90_000), '1m30s');
    assert.equal(durationLabel(5_415_000), '1h30m15s');
    for (const text of ['3h', '2h50m', '10m', '3m', '1m30s', '45s', '1h0m5s']) assert.equal(parseDuration(durationLabel(parseDuration(text))), parseDuration(text));
  });

  it('keeps --soak D alone as it was: scenario 5 added, every system, no profile', () => {
    const options = parseOptions(['--soak', '30m'])!;
    assert.equal(options.soakMs, 1_800_000);
    assert.equal(options.soakProfile, undefined);
    assert.ok(options.scenarios.has(5));
    assert.ok(options.systems.length > 1);
  });

  it('--profile agents runs the soak alone against Switchyard ×1', () => {
    const options = parseOptions(['--soak', '2m', '--profile', 'agents'])!;
    assert.equal(options.soakMs, 120_000);
    assert.equal(options.soakProfile, 'agents');
    assert.deepEqual([...options.scenarios], []);
    assert.deepEqual(options.systems, ['switchyard']);
    assert.equal(options.partial, false);
  });

  it('refuses an unknown profile, a profile without a duration, and --only beside a profile', () => {
    assert.throws(() => parseOptions(['--soak', '1m', '--profile', 'humans']), /--profile: unknown soak profile 'humans' \(known: agents\)/);
    assert.throws(() => parseOptions(['--profile', 'agents']), /needs a soak duration/);
    assert.throws(() => parseOptions(['--soak', '1m', '--profile', 'agents', '--only=3']), /--only does not combine/);
    assert.throws(() => parseOptions(['--soak', '1m', '--profile', 'agents', '--systems=nginx']), /must include switchyard/);
  });
});

const plain = (status: number, body: string, errorCode?: string): Answer => ({ status, streamed: false, errorCode, body, tail: '', errorEvent: undefined });
const streamed = (tail: string, errorEvent?: string): Answer => ({ status: 200, streamed: true, errorCode: undefined, body: undefined, tail, errorEvent });
const upstreamFailure = new GatewayError(ErrorCode.upstreamStatus, 'mock-soak-fallback answered 503', { status: 502, origin: 'upstream', errorClass: 'server-error', upstreamStatus: 503 });
const upstreamReset = new GatewayError(ErrorCode.upstreamReset, 'mock-soak-fallback reset the connection', { status: 502, origin: 'upstream', errorClass: 'reset' });
const internal = new GatewayError(ErrorCode.internal, 'internal error', { status: 500, origin: 'gateway' });
const eventJson = (buffer: Buffer) => buffer.toString().replace(/^data: /, '').trim();

describe('agent soak: outcome classifier', () => {
  it('a whole chat completion and a stream ending in [DONE] are answers', () => {
    assert.equal(classifyAnswer(plain(200, JSON.stringify({ object: 'chat.completion', choices: [{ index: 0 }] }))), 'ok');
    assert.equal(classifyAnswer(streamed('"stop"}]}\n\ndata: [DONE]\n\n')), 'ok');
  });

  it('an upstream failure passed on as the gateway encodes it for OpenAI callers is allowed', () => {
    for (const error of [upstreamFailure, upstreamReset]) {
      const wire = encodeOpenAIError(error);
      assert.equal(classifyAnswer(plain(wire.status, String(wire.body), error.code)), 'upstream-failure-passed-on');
      assert.equal(classifyAnswer(streamed('', eventJson(encodeOpenAIStreamError(error)))), 'upstream-failure-passed-on');
    }
  });

  it("the gateway's own 5xx, or an upstream code outside the caller's format, is an error", () => {
    const wire = encodeOpenAIError(internal);
    assert.equal(classifyAnswer(plain(wire.status, String(wire.body), internal.code)), 'gateway-5xx');
    assert.equal(classifyAnswer(plain(502, 'Bad Gateway', ErrorCode.upstreamStatus)), 'gateway-5xx');
    assert.equal(classifyAnswer(plain(502, String(encodeOpenAIError(upstreamFailure).body), undefined)), 'gateway-5xx');
    assert.equal(classifyAnswer(plain(502, JSON.stringify({ type: 'error', error: { type: 'api_error', message: 'x' } }).replace('"error":{', '"err":{'), ErrorCode.upstreamStatus)), 'gateway-5xx');
  });

  it('a truncated stream presented as success, a stray error event, a refusal and a malformed answer are errors', () => {
    assert.equal(classifyAnswer(streamed('"content":"hal')), 'truncated-stream');
    assert.equal(classifyAnswer(streamed('', eventJson(encodeOpenAIStreamError(internal)))), 'stream-error-event');
    assert.equal(classifyAnswer(plain(429, JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error' } }))), 'unexpected-status');
    assert.equal(classifyAnswer(plain(200, '{"object":"chat.completion","choices":[{"ind')), 'malformed-answer');
    assert.equal(classifyAnswer(plain(200, JSON.stringify({ error: { message: 'x', type: 'server_error' } }))), 'malformed-answer');
  });
});

describe('agent soak: windows, warm-up, slope, drift', () => {
  it('compares the first and last 10 minutes of a long run, halves of a short one', () => {
    assert.deepEqual(soakWindows(3 * 3_600_000), { bucketMs: 60_000, buckets: 180, windowBuckets: 10 });
    assert.deepEqual(soakWindows(20 * 60_000), { bucketMs: 60_000, buckets: 20, windowBuckets: 10 });
    assert.deepEqual(soakWindows(10 * 60_000), { bucketMs: 60_000, buckets: 10, windowBuckets: 5 });
    assert.deepEqual(soakWindows(2 * 60_000), { bucketMs: 30_000, buckets: 4, windowBuckets: 2 });
    assert.throws(() => soakWindows(0), RangeError);
  });

  it('at the end compares the first and last windowBuckets, never overlapping, equally long', () => {
    for (const durationMs of [1000, 90_000, 119_999, 180_000, 240_000, 601_000, 1_234_567, 10_200_000, 10_800_000]) {
      const windows = soakWindows(durationMs);
      const { first, last } = comparedWindows(windows, windows.buckets);
      assert.deepEqual(first, { start: 0, end: windows.windowBuckets }, `${durationMs} ms`);
      assert.deepEqual(last, { start: windows.buckets - windows.windowBuckets, end: windows.buckets }, `${durationMs} ms`);
      assert.ok(first.end <= last.start, `${durationMs} ms: the windows overlap`);
      assert.deepEqual(comparedWindows(windows, windows.buckets + 5), { first, last }, 'past the end is the end');
    }
  });

  it('at a checkpoint compares complete buckets: the last windowBuckets of them, after the first window', () => {
    const windows = soakWindows(3 * 3_600_000); // 180 one-minute buckets, 10-minute windows
    const at = (complete: number) => comparedWindows(windows, complete);
    assert.deepEqual(at(0), { first: { start: 0, end: 0 }, last: { start: 0, end: 0 } });
    assert.deepEqual(at(5), { first: { start: 0, end: 5 }, last: { start: 5, end: 5 } }); // the first window still filling
    assert.deepEqual(at(15), { first: { start: 0, end: 10 }, last: { start: 10, end: 15 } }); // shorter until two windows long
    assert.deepEqual(at(20), { first: { start: 0, end: 10 }, last: { start: 10, end: 20 } });
    assert.deepEqual(at(177), { first: { start: 0, end: 10 }, last: { start: 167, end: 177 } }); // killed at minute 177
    assert.deepEqual(at(177.9), at(177));
    // A 3-minute trial: 45 s buckets, windows of 2; killed at 2 min there are 2 complete buckets, all in the first window.
    const trial = soakWindows(3 * 60_000);
    assert.deepEqual(trial, { bucketMs: 45_000, buckets: 4, windowBuckets: 2 });
    assert.deepEqual(comparedWindows(trial, Math.floor(120_000 / trial.bucketMs)), { first: { start: 0, end: 2 }, last: { start: 2, end: 2 } });
    assert.deepEqual(comparedWindows(trial, 3), { first: { start: 0, end: 2 }, last: { start: 2, end: 3 } });
  });

  it('keeps the first window and the newest windowBuckets + 1 buckets, nothing else', () => {
    const windows = soakWindows(3 * 3_600_000);
    const kept = (current: number) => Array.from({ length: windows.buckets }, (_, bucket) => bucket).filter((bucket) => keepsBucket(bucket, current, windows));
    assert.deepEqual(kept(3), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(kept(100), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
  });

  it('the rolling buckets give every checkpoint and the end the same windows as keeping every bucket, in bounded memory', () => {
    for (const durationMs of [3 * 60_000, 30 * 60_000, 10_200_000, 3 * 3_600_000]) {
      const windows = soakWindows(durationMs);
      const rolling = new RollingBuckets<number[]>(windows, () => []);
      const everything = new Map<number, number[]>();
      const sum = (lists: readonly number[][]) => lists.flat().reduce((total, value) => total + value, 0);
      const allWithin = (range: BucketRange) => sum([...everything].filter(([bucket]) => bucket >= range.start && bucket < range.end).map(([, list]) => list));
      let largest = 0;
      let value = 0;
      for (let current = 0; current < windows.buckets; current++) {
        // Answers finish in the bucket they were sent in, or (long streams, hangs) up to two later.
        for (const sent of [current - 2, current - 1, current, current]) {
          if (sent < 0) continue;
          value++;
          rolling.at(sent, current)?.push(value);
          (everything.get(sent) ?? everything.set(sent, []).get(sent)!).push(value);
        }
        largest = Math.max(largest, rolling.size);
        // A checkpoint while `current` is in progress, and the end after the last bucket.
        for (const complete of current === windows.buckets - 1 ? [current, windows.buckets] : [current]) {
          rolling.forget(Math.min(complete, windows.buckets - 1));
          const ranges = comparedWindows(windows, complete);
          assert.equal(sum(rolling.within(ranges.first)), allWithin(ranges.first), `${durationMs} ms, first window at ${complete}`);
          // The last window's buckets may still take late answers; the rolling set has all they got so far.
          assert.equal(sum(rolling.within(ranges.last)), allWithin(ranges.last), `${durationMs} ms, last window at ${complete}`);
        }
      }
      assert.ok(largest <= 2 * windows.windowBuckets + 1, `${durationMs} ms: ${largest} buckets held`);
    }
  });
  it('leaves 20 % of the run out of the RSS slope, at most 10 minutes', () => {
    assert.equal(warmupMs(10 * 60_000), 2 * 60_000);
    assert.equal(warmupMs(3 * 3_600_000), 10 * 60_000);
  });

  it('fits a straight line exactly, and a flat one to zero', () => {
    const rising = Array.from({ length: 50 }, (_, i) => [i * 0.5, 300 + 0.01 * i * 0.5] as const);
    assert.ok(Math.abs(slope(rising) * 60 - 0.6) < 1e-9);
    assert.equal(slope(Array.from({ length: 10 }, (_, i) => [i, 7] as const)), 0);
    assert.ok(Number.isNaN(slope([[1, 2]])));
  });

  it('drift is the relative change from the first window to the last', () => {
    assert.ok(Math.abs(drift(200, 220) - 0.1) < 1e-12);
    assert.ok(Math.abs(drift(200, 180) + 0.1) < 1e-12);
    assert.ok(Number.isNaN(drift(undefined, 1)));
    assert.ok(Number.isNaN(drift(0, 1)));
  });
});

describe('agent soak: counters from Prometheus text', () => {
  const text = [
    '# HELP switchyard_upstream_attempts_total Upstream attempts by outcome.',
    '# TYPE switchyard_upstream_attempts_total counter',
    'switchyard_upstream_attempts_total{provider="mock-soak-primary",outcome="ok"} 9800',
    'switchyard_upstream_attempts_total{provider="mock-soak-primary",outcome="error"} 200',
    'switchyard_upstream_attempts_total{provider="mock-soak-fallback",outcome="ok"} 4',
    'switchyard_upstream_attempts_total_extra 5',
    'switchyard_retries_total{provider="mock-soak-primary"} 196',
    'switchyard_retries_total{provider="mock-soak-fallback"} 4',
    'switchyard_nodejs_eventloop_lag_p99_seconds 0.012',
  ].join('\n');

  it('sums the samples whose labels match, and tells a missing metric apart from zero', () => {
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total', { outcome: 'error' }), 200);
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total', { provider: 'mock-soak-primary' }), 10_000);
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total'), 10_004);
    assert.equal(sumMetric(text, 'switchyard_retries_total'), 200);
    assert.equal(sumMetric(text, 'switchyard_nodejs_eventloop_lag_p99_seconds'), 0.012);
    assert.equal(sumMetric(text, 'switchyard_upstream_attempts_total', { provider: 'mock-soak-fallback', outcome: 'error' }), undefined);
    assert.equal(sumMetric(text, 'switchyard_fallbacks_total'), undefined);
  });
});

describe('agent soak: the report from a checkpoint', () => {
  const figures = (p50: number, p99: number, count = 400): WindowFigures => ({
    latencyUs: { count, p50, p99, max: p99 * 2 }, ttftUs: { count, p50: p50 / 2, p99: p99 / 2, max: p99 }, streamUs: { count, p50, p99, max: p99 * 2 },
  });
  const counts = (ok: number, passedOn: number) => Object.fromEntries(outcomes.map((outcome) => [outcome, outcome === 'ok' ? ok : outcome === 'upstream-failure-passed-on' ? passedOn : 0])) as Record<Outcome, number>;
  const checkpointAt = Date.UTC(2026, 11, 7, 12, 34, 56);
  // A 3-minute trial's checkpoint at 1 min 30 s: buckets of 45 s, two of them complete.
  const checkpoint: SoakClientResult = {
    agents: 64, bucketMs: 45_000, windowBuckets: 2, requests: 9_000, streamed: 4_500, outcomes: counts(8_990, 10), samples: {},
    passedOnCodes: { SWY_ERR_UPSTREAM_RESET: 10 }, requestsPerBucket: [4_000, 4_200, 800, 0], errorsPerBucket: [0, 0, 0, 0],
    firstWindow: { start: 0, end: 2 }, lastWindow: { start: 2, end: 2 }, first: figures(230_000, 410_000), last: figures(0, 0, 0), whole: figures(231_000, 420_000),
    elapsedMs: 95_000, final: false, writtenAt: checkpointAt,
  };
  const reading = (result: SoakClientResult, interruption: string | undefined): SoakReading => ({
    shape: { agents: 64, bodyBytes: 262_144, model: 'soak-agent', mock: { latencyMs: 200, deltas: 64, intervalMs: 10 }, failPerMille: 20, durationMs: 180_000, rampMs: 5000, hangMs: 120_000, lagScrapeMs: 15_000 },
    systemLabel: 'Switchyard ×1', result, rss: Array.from({ length: 200 }, (_, i) => [i * 0.5, 300 + (i % 7)] as const),
    lag: { p99Ms: [11, 12, 13], maxMs: [20, 25, 30], missed: 0 }, mockBefore: undefined, mockNow: undefined, metrics: undefined,
    loadBefore: [1, 1, 1], loadNow: [1.5, 1.2, 1], outsideLoad: 0.01, interruption,
  });
  const marker = interruptionMarker(checkpoint, 180_000);
  const document = (report: Report) => renderDocument({
    options: parseOptions(['--soak', '3m', '--profile', 'agents'])!, date: '2026-12-07', commit: '`0123abc` (soak-checkpoint), clean work tree',
    machine: ['CPU: test'], systems: [{ label: 'Switchyard ×1' }], failures: [], report, chartFiles: ['/x/2026-12-07-soak-agents-3m-trial-rss.svg'],
    elapsedMs: 100_000, accessLog: '1 MB', noise: undefined,
  });

  it('names how much was measured and when, in UTC', () => {
    assert.equal(marker, 'interrupted/in progress: 1.6 of 3.0 min measured, last checkpoint at 12:34 UTC');
    assert.equal(interruptionMarker(checkpoint, 180_000, 'the soak client exited early, exit code 1'),
      'interrupted (the soak client exited early, exit code 1): 1.6 of 3.0 min measured, last checkpoint at 12:34 UTC');
    assert.match(interruptionMarker({ ...checkpoint, elapsedMs: 200_000 }, 180_000), /: 3\.0 of 3\.0 min measured/);
  });

  it('marks the section, every budget row and the top of the document as interrupted', () => {
    const { markdown, checks } = soakReport(reading(checkpoint, marker));
    assert.match(markdown, /^## Agent-fleet soak — trial run \(3\.0 min, not the 3-hour soak\)\n\n> \*\*⏸ interrupted\/in progress: 1\.6 of 3\.0 min measured, last checkpoint at 12:34 UTC\.\*\*/);
    assert.match(markdown, /9,000 requests \(4,500 streamed\) in 1\.6 min/);
    assert.match(markdown, /Compared: min 0\.0–1\.5 → none yet/);
    assert.match(markdown, /\| non-streamed: whole answer \| 400 \| 230\.0 \| 410\.0 \| 0 \| — \| — \| — % \| — % \|/, 'no drift to an empty window');
    assert.match(markdown, /\| 1\.5–1\.6 \(in progress\) \| 800 \|/);
    assert.doesNotMatch(markdown, /\| 2\.3–/, 'no row for a bucket not reached');
    assert.equal(checks.length, 4);
    for (const row of checks) {
      assert.equal(row.partial, true, row.line);
      assert.ok(row.measured.endsWith(`— **${marker}**`), row.measured);
    }
    assert.match(checks[0]!.measured, /^0 of 9,000 over 1\.6 min \(trial\)/);
    assert.match(checks[2]!.measured, /^non-streamed — %, TTFT — % \(min 0\.0–1\.5 → none yet\)/);
    const report = new Report(false);
    report.interruption = marker;
    report.add(markdown);
    for (const row of checks) report.check(row.line, row.target, row.measured, row.pass, row.partial);
    const text = document(report);
    const top = text.slice(0, text.indexOf('## Machine'));
    assert.match(top, /^# Switchyard agent-fleet soak — 2026-12-07, 3m \(trial run: the issue's soak is 3 h\)\n\n> \*\*⏸ Not the final report — interrupted\/in progress: 1\.6 of 3\.0 min measured, last checkpoint at 12:34 UTC\.\*\*/);
    assert.match(text, /\| ⏸ PASS so far \| Agent soak: errors other than upstream failures passed on correctly \| 0 \| 0 of 9,000 over 1\.6 min \(trial\) — \*\*interrupted/);
    assert.match(text, /\| ⏸ n\/a so far \| Agent soak: p99 drift/);
    assert.doesNotMatch(text, /✅|❌|⬜/, 'no final verdict in an interrupted report');
    assert.match(text, /- Commit under test: `0123abc` \(soak-checkpoint\), clean work tree\./);
    assert.match(text, /not finished: this file was written 1\.7 min after the start/);
  });

  it('the final result renders the same report without any mark', () => {
    const final: SoakClientResult = {
      ...checkpoint, requests: 18_000, requestsPerBucket: [4_000, 4_200, 4_300, 4_100, 0].slice(0, 4), lastWindow: { start: 2, end: 4 }, last: figures(240_000, 430_000),
      elapsedMs: 181_000, final: true,
    };
    const { markdown, checks } = soakReport(reading(final, undefined));
    assert.doesNotMatch(markdown, /⏸|interrupted|in progress/);
    assert.match(markdown, /Compared: min 0\.0–1\.5 → min 1\.5–3\.0\./);
    assert.ok(checks.every((row) => row.partial === undefined && !row.measured.includes('interrupted')));
    const report = new Report(false);
    report.add(markdown);
    for (const row of checks) report.check(row.line, row.target, row.measured, row.pass, row.partial);
    const text = document(report);
    assert.doesNotMatch(text, /⏸|Not the final report/);
    assert.match(text, /finished in 1\.7 min/);
    assert.match(text, /\| ✅ PASS \| Agent soak: errors other than upstream failures passed on correctly \| 0 \| 0 of 18,000 over 3\.0 min \(trial\) \|/);
  });
});
