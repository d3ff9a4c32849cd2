// Scenario 7: agent-sized bodies. What coding agents send — 64 KB, 256 KB and 1 MB requests
// generated from the recorded Claude Code, Codex and opencode requests (bench/bodies/) — through
// Switchyard ×1, passed through (same dialect in and out) and translated (Anthropic in → OpenAI
// out, OpenAI in → Anthropic out), non-streamed and streamed, against the 0 ms mock.
// Two measurements:
//   - CPU per request with wrk at 16 connections (as the issue measured it), beside the Node
//     floor, nginx and (OpenAI chat only, the one dialect it is pointed at here) Portkey, all
//     receiving the very same bytes; every system of one (dialect, size, streamed) group is
//     measured in turn, the order rotated each round. A translated path is compared with the floor
//     passing the same incoming body through: the floor cannot translate, and what a translating
//     gateway costs above that is the budget's question.
//   - The latency one request at a time with a 1 MB body (non-streamed): the gateway's p50 and
//     p99 minus the floor's, with the direct path for reference.
import { runClient, type ClientRun } from '../lib/client.ts';
import { checkPorts, find, roundOrder, type Bench } from '../lib/context.ts';
import { loadNote } from '../lib/noise.ts';
import { profiles } from '../lib/profiles.ts';
import { num, ratio, signed, table, times } from '../lib/report.ts';
import { median } from '../lib/stats.ts';
import { agentModels, clientKey, upstreamKey, type System, type Target } from '../lib/systems.ts';
import { combineRounds, runWrk, writeWrkScript, type LoadResult } from '../lib/wrk.ts';
import { agentBody, bodySizes, dialectPaths, type BodyDialect, type BodySize } from '../bodies/agent-bodies.ts';

const connections = 16;
const budgets = { 'pass-through': 1.3, translated: 2.5 } as const;
const latencyBudgetUs = 1000;

interface GatewayPath {
  id: string;
  label: string;
  dialect: BodyDialect;
  model: string;
  kind: keyof typeof budgets;
}

const gatewayPaths: readonly GatewayPath[] = [
  { id: 'chat', label: 'OpenAI chat → OpenAI chat', dialect: 'openai-chat', model: agentModels.chat, kind: 'pass-through' },
  { id: 'messages', label: 'Anthropic → Anthropic', dialect: 'anthropic', model: agentModels.messages, kind: 'pass-through' },
  { id: 'responses', label: 'Responses → Responses', dialect: 'responses', model: agentModels.responses, kind: 'pass-through' },
  { id: 'messages-to-openai', label: 'Anthropic → OpenAI chat', dialect: 'anthropic', model: agentModels.messagesToOpenai, kind: 'translated' },
  { id: 'chat-to-anthropic', label: 'OpenAI chat → Anthropic', dialect: 'openai-chat', model: agentModels.chatToAnthropic, kind: 'translated' },
];

const dialectLabels: Record<BodyDialect, string> = { 'openai-chat': 'OpenAI chat (24 tools)', anthropic: 'Anthropic (Claude Code)', responses: 'Responses (Codex)' };

/** What Claude Code sends beside its body (test/fixtures/clients/claude-code-request.json). */
const anthropicHeaders: [string, string][] = [
  ['anthropic-version', '2023-06-01'],
  ['anthropic-beta', 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27'],
];

/** The request one system gets for a body of `dialect`: the mock's path for the proxies, the gateway's own for Switchyard. */
function agentTarget(system: System, dialect: BodyDialect, body: string): Target {
  const base = system.target(profiles.lat0, false);
  const path = base.path.replace('/chat/completions', dialectPaths[dialect]);
  if (system.id === 'switchyard' || system.id === 'switchyard-auto') {
    const auth: [string, string][] = dialect === 'anthropic' ? [['x-api-key', clientKey], ...anthropicHeaders] : [['authorization', `Bearer ${clientKey}`]];
    return { port: base.port, path, headers: auth, body };
  }
  return { port: base.port, path, headers: dialect === 'anthropic' ? [['authorization', `Bearer ${upstreamKey}`], ...anthropicHeaders] : base.headers, body };
}

/** One measured thing within a group: a baseline system, or Switchyard on one of its paths. */
interface Runner {
  key: string;
  system: System;
  target: Target;
  script: string;
}

interface Group {
  dialect: BodyDialect;
  size: BodySize;
  stream: boolean;
  results: Map<string, LoadResult>;
}

function bodyFor(dialect: BodyDialect, size: BodySize, stream: boolean, model: string): string {
  return agentBody(dialect, bodySizes[size], { model, stream });
}

async function measureCpu(bench: Bench): Promise<Group[]> {
  const { settings } = bench.options;
  const switchyard = find(bench, 'switchyard');
  const groups: Group[] = [];
  for (const size of settings.agentSizes) {
    for (const dialect of ['openai-chat', 'anthropic', 'responses'] as const) {
      for (const stream of [false, true]) {
        const name = `${dialect}-${size.replace(' ', '')}-${stream ? 'stream' : 'plain'}`;
        const baseline = bodyFor(dialect, size, stream, gatewayPaths.find((path) => path.dialect === dialect && path.kind === 'pass-through')!.model);
        const runners: Runner[] = [];
        for (const id of ['node-floor', 'nginx', 'portkey'] as const) {
          const system = find(bench, id);
          if (system === undefined || (id === 'portkey' && (dialect !== 'openai-chat' || (stream && system.streamFailure !== undefined)))) continue;
          const target = agentTarget(system, dialect, baseline);
          runners.push({ key: id, system, target, script: writeWrkScript(bench.paths.work, `agent-${id}-${name}`, target) });
        }
        if (switchyard !== undefined) {
          for (const path of gatewayPaths.filter((candidate) => candidate.dialect === dialect)) {
            const target = agentTarget(switchyard, dialect, bodyFor(dialect, size, stream, path.model));
            runners.push({ key: `switchyard:${path.id}`, system: switchyard, target, script: writeWrkScript(bench.paths.work, `agent-switchyard-${path.id}-${name}`, target) });
          }
        }
        const rounds = new Map<string, LoadResult[]>();
        for (let round = 0; round < settings.rounds; round++) {
          for (const runner of roundOrder(runners, round)) {
            checkPorts(bench);
            const result = await runWrk(runner.system, runner.target, runner.script, connections, settings.agentSeconds);
            rounds.set(runner.key, [...(rounds.get(runner.key) ?? []), result]);
            bench.log(`[7] ${size} ${dialect}${stream ? ' streamed' : ''} · ${runner.key} · round ${round + 1}: ${num(result.rps)} req/s, ` +
              `${num(result.cpuPerRequestUs)} µs CPU/req, ${result.errors} errors${result.errorDetail === '' ? '' : ` (${result.errorDetail})`}${loadNote(result.outsideLoad)}`);
          }
        }
        groups.push({ dialect, size, stream, results: new Map([...rounds].map(([key, list]) => [key, combineRounds(list)] as const)) });
      }
    }
  }
  return groups;
}

interface LatencyPoint {
  key: string;
  label: string;
  dialect: BodyDialect;
  runs: ClientRun[];
}

async function measureLatency(bench: Bench): Promise<LatencyPoint[]> {
  const { settings } = bench.options;
  const size: BodySize = '1 MB';
  const points: LatencyPoint[] = [];
  for (const dialect of ['openai-chat', 'anthropic', 'responses'] as const) {
    const runners: { point: LatencyPoint; system: System; target: Target }[] = [];
    const baseline = bodyFor(dialect, size, false, gatewayPaths.find((path) => path.dialect === dialect && path.kind === 'pass-through')!.model);
    for (const id of ['direct', 'node-floor', 'nginx'] as const) {
      const system = find(bench, id);
      if (system === undefined) continue;
      runners.push({ point: { key: id, label: system.label, dialect, runs: [] }, system, target: agentTarget(system, dialect, baseline) });
    }
    const switchyard = find(bench, 'switchyard');
    if (switchyard !== undefined) {
      for (const path of gatewayPaths.filter((candidate) => candidate.dialect === dialect)) {
        runners.push({ point: { key: `switchyard:${path.id}`, label: `Switchyard ×1, ${path.label}`, dialect, runs: [] }, system: switchyard,
          target: agentTarget(switchyard, dialect, bodyFor(dialect, size, false, path.model)) });
      }
    }
    for (let round = 0; round < settings.rounds; round++) {
      for (const runner of roundOrder(runners, round)) {
        checkPorts(bench);
        const run = await runClient(bench.paths, runner.system, runner.target, { mode: 'sequential', durationMs: settings.agentLatencySeconds * 1000, warmupMs: 500 });
        runner.point.runs.push(run);
        bench.log(`[7] 1 MB one at a time · ${dialect} · ${runner.point.key} · round ${round + 1}: p50 ${num(run.latencyUs.p50)} µs, p99 ${num(run.latencyUs.p99)} µs, ` +
          `${run.errors} errors${run.errorSamples.length > 0 ? ` (${run.errorSamples[0]})` : ''}${loadNote(run.outsideLoad)}`);
      }
    }
    points.push(...runners.map((runner) => runner.point));
  }
  return points;
}

export async function agentBodies(bench: Bench): Promise<void> {
  const { settings } = bench.options;
  bench.rss.begin('agent-bodies');
  const groups = await measureCpu(bench);
  const latency = await measureLatency(bench);
  bench.rss.end('agent-bodies');

  // CPU per request: one row per gateway path, size and streamed or not.
  const rows: string[][] = [];
  const worst = new Map<string, { value: number | undefined; where: string; failed: boolean }>();
  for (const group of groups) {
    const floor = group.results.get('node-floor');
    for (const path of gatewayPaths.filter((candidate) => candidate.dialect === group.dialect)) {
      const gateway = group.results.get(`switchyard:${path.id}`);
      const value = ratio(gateway?.cpuPerRequestUs, floor?.cpuPerRequestUs);
      const budget = budgets[path.kind];
      const errors = (gateway?.errors ?? 0) + (floor?.errors ?? 0);
      rows.push([
        path.label, path.kind, group.size, group.stream ? 'streamed' : 'plain',
        num(gateway?.cpuPerRequestUs), num(floor?.cpuPerRequestUs), `**${times(value)}**`, `≤ ${budget}×`,
        value === undefined ? '—' : value <= budget ? 'yes' : 'no',
        num(group.results.get('nginx')?.cpuPerRequestUs), path.kind === 'pass-through' ? num(group.results.get('portkey')?.cpuPerRequestUs) : '—',
        `${num(gateway?.rps)} / ${num(floor?.rps)}`,
        errors === 0 ? '0' : `${num(errors)} (${[gateway?.errorDetail, floor?.errorDetail].filter((text) => text !== undefined && text !== '').join('; ')})`,
      ]);
      const key = `${path.kind}|${group.size}`;
      const previous = worst.get(key);
      const failed = errors > 0;
      if (previous === undefined || (value !== undefined && (previous.value === undefined || value > previous.value))) {
        worst.set(key, { value, where: `${path.label}${group.stream ? ', streamed' : ''}`, failed: failed || (previous?.failed ?? false) });
      } else if (failed) previous.failed = true;
    }
  }

  // One at a time, 1 MB: p50 and p99 against the floor's with the same body.
  const p50 = (point: LatencyPoint | undefined) => point === undefined ? Number.NaN : median(point.runs.map((run) => run.latencyUs.p50));
  const p99 = (point: LatencyPoint | undefined) => point === undefined ? Number.NaN : median(point.runs.map((run) => run.latencyUs.p99));
  const latencyRows: string[][] = [];
  let worstAdded: { value: number; where: string } | undefined;
  for (const point of latency) {
    const floor = latency.find((candidate) => candidate.dialect === point.dialect && candidate.key === 'node-floor');
    const isGateway = point.key.startsWith('switchyard:');
    const added50 = point.key === 'node-floor' ? Number.NaN : p50(point) - p50(floor);
    const added99 = point.key === 'node-floor' ? Number.NaN : p99(point) - p99(floor);
    latencyRows.push([
      dialectLabels[point.dialect], point.label, num(point.runs.reduce((sum, run) => sum + run.latencyUs.count, 0)),
      num(p50(point)), num(p99(point)), signed(added50), signed(added99), num(point.runs.reduce((sum, run) => sum + run.errors, 0)),
    ]);
    if (isGateway && Number.isFinite(added50) && (worstAdded === undefined || added50 > worstAdded.value)) {
      worstAdded = { value: added50, where: gatewayPaths.find((path) => `switchyard:${path.id}` === point.key)!.label };
    }
  }

  const sizes = settings.agentSizes.join(', ');
  bench.report.add(`## 7. Agent-sized bodies\n\n` +
    `Bodies generated by bench/bodies/agent-bodies.ts from the recorded Claude Code, Codex and opencode requests (${sizes}; OpenAI chat with 24 tools ` +
    `and a tool history, Anthropic Messages as Claude Code sends it, Responses as Codex sends it), 0 ms mock, ~600-byte answers or 16-delta streams. ` +
    `wrk -t1 -c${connections}, ${settings.agentSeconds} s per point, ${settings.rounds} round(s), systems rotated within each (dialect, size, streamed) group. ` +
    `Every proxy gets the same bytes; a translated path is compared with the floor passing the same incoming body through. ` +
    `Budget (issue #17): pass-through ≤ ${budgets['pass-through']}× the floor, translated ≤ ${budgets.translated}×.\n\n` +
    table(['path', 'kind', 'size', 'answer', 'Switchyard ×1 CPU µs/req', 'Node floor CPU µs/req', 'ratio', 'budget', 'within', 'nginx CPU µs/req', 'Portkey CPU µs/req', 'req/s Switchyard / floor', 'errors'], rows) +
    `\n\n### 1 MB body, one request at a time\n\nOne keep-alive connection, one request in flight, non-streamed, ${settings.agentLatencySeconds} s per system per round (first 0.5 s discarded), ` +
    `median of ${settings.rounds} round(s). "Added" = system − Node floor with the same body. Microseconds. Budget: Switchyard's added p50 ≤ ${latencyBudgetUs} µs.\n\n` +
    table(['body', 'system', 'requests', 'p50 µs', 'p99 µs', 'added p50 µs', 'added p99 µs', 'errors'], latencyRows));

  for (const kind of ['pass-through', 'translated'] as const) {
    for (const size of settings.agentSizes) {
      const entry = worst.get(`${kind}|${size}`);
      const budget = budgets[kind];
      bench.report.check(`Agent bodies ${size}, ${kind}: CPU ÷ Node floor (worst path, plain or streamed)`, `≤ ${budget}×`,
        entry === undefined ? 'not measured' : `${times(entry.value)} (${entry.where})${entry.failed ? ', with errors' : ''}`,
        entry?.value === undefined ? undefined : entry.value <= budget && !entry.failed);
    }
  }
  bench.report.check('Agent bodies 1 MB, one at a time: added p50 over the Node floor (worst path)', `≤ ${latencyBudgetUs} µs`,
    worstAdded === undefined ? 'not measured' : `${signed(worstAdded.value)} µs (${worstAdded.where})`, worstAdded === undefined ? undefined : worstAdded.value <= latencyBudgetUs);
}
