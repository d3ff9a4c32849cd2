// Command-line flags of `npm run bench` and the durations of quick and full runs.
import { parseArgs } from 'node:util';
import type { BodySize } from '../bodies/agent-bodies.ts';
import { parseDuration as parseGoDuration } from '../../src/upstream/classify.ts';
import { systemIds, type SystemId } from './systems.ts';

export interface Settings {
  rounds: number;
  warmupSeconds: number;
  oneAtATimeSeconds: number;
  ladder: number[];
  ladderSeconds: number;
  saturation: number[];
  saturationSeconds: number;
  ttftConcurrency: number;
  ttftSeconds: number;
  streamLevels: number[];
  streamsPerConnection: number;
  restSeconds: number;
  /** Scenario 7: body sizes (keys of bench/bodies/agent-bodies.ts `bodySizes`), seconds per wrk point, seconds per one-at-a-time run. */
  agentSizes: BodySize[];
  agentSeconds: number;
  agentLatencySeconds: number;
  /** Scenario 5: measured starts per system for start to ready (after one unmeasured start that warms the compile cache). */
  startRuns: number;
  /**
   * Scenario 8 (plugins): rounds (config variants rotated each round), seconds per wrk run of the
   * small-request load, and streams per connection of the stream load (100 connections).
   */
  pluginRounds: number;
  pluginSeconds: number;
  pluginStreamsPerConnection: number;
  /** Scenario 9 (Redis state on vs off): wrk connection counts, rounds (the two variants alternating), seconds per run. */
  redisConnections: number[];
  redisRounds: number;
  redisSeconds: number;
}

export const quickSettings: Settings = {
  rounds: 1, warmupSeconds: 1, oneAtATimeSeconds: 3,
  ladder: [50, 500], ladderSeconds: 3,
  saturation: [64, 256], saturationSeconds: 4,
  ttftConcurrency: 8, ttftSeconds: 5,
  streamLevels: [1000], streamsPerConnection: 1,
  restSeconds: 3,
  agentSizes: ['256 KB'], agentSeconds: 3, agentLatencySeconds: 3,
  startRuns: 3,
  pluginRounds: 2, pluginSeconds: 4, pluginStreamsPerConnection: 2,
  redisConnections: [64], redisRounds: 2, redisSeconds: 4,
};

export const fullSettings: Settings = {
  rounds: 2, warmupSeconds: 3, oneAtATimeSeconds: 8,
  ladder: [50, 150, 300, 500, 1000], ladderSeconds: 10,
  saturation: [64, 256], saturationSeconds: 10,
  ttftConcurrency: 8, ttftSeconds: 8,
  streamLevels: [100, 250, 500, 1000], streamsPerConnection: 2,
  restSeconds: 10,
  agentSizes: ['64 KB', '256 KB', '1 MB'], agentSeconds: 4, agentLatencySeconds: 4,
  startRuns: 7,
  pluginRounds: 4, pluginSeconds: 8, pluginStreamsPerConnection: 4,
  redisConnections: [64, 256], redisRounds: 4, redisSeconds: 8,
};

export const scenarioNames: Record<number, string> = {
  1: 'one request at a time', 2: 'the 60 ms ladder', 3: 'saturation (0 ms mock)', 4: 'streaming', 5: 'memory', 6: 'translation cost', 7: 'agent-sized bodies',
  8: 'plugins', 9: 'Redis state on vs off',
};

export interface BenchOptions {
  quick: boolean;
  settings: Settings;
  scenarios: Set<number>;
  systems: SystemId[];
  soakMs: number;
  /** `--profile agents`: the soak is the agent-fleet soak (bench/scenarios/agent-soak.ts) and nothing else runs. */
  soakProfile: SoakProfile | undefined;
  /** --only or --systems narrowed the run: the report gets its own file name. */
  partial: boolean;
}

export const soakProfiles = ['agents'] as const;
export type SoakProfile = (typeof soakProfiles)[number];

export const usage = `Usage: npm run bench -- [--quick] [--only=1,2,3,4,5,6,7,8,9] [--systems=direct,nginx,node-floor,portkey,switchyard,switchyard-auto] [--soak 30m [--profile agents]]

  --quick      short runs (about 5 minutes in all): 1 round, ladder 50 and 500, 1,000 streams once, 256 KB agent bodies
  --only       scenarios to run: 1 one at a time, 2 ladder, 3 saturation, 4 streaming, 5 memory, 6 translation,
               7 agent-sized bodies (64 KB–1 MB; --quick: 256 KB only), 8 plugins (Switchyard ×1
               with no plugin, a no-op JS onRequest, a no-op Lua on_request, a no-op JS onStreamEvent),
               9 Redis state (Switchyard ×1 with limits and session pins in process and through
               state.redis: a redis-server it starts on loopback; skipped without one)
  --systems    systems to start and measure (direct is the baseline every "added" figure needs)
  --soak D     also load Switchyard ×1 for D (30m, 1h, 2h50m, 90s) and report the RSS slope
  --profile agents
               with --soak: instead of the scenarios, the agent-fleet soak alone — 64 simulated agents
               looping 256 KB OpenAI chat requests (half streamed) through retries and a fallback
               while the mock fails 2 % of the primary's requests; reports requests, errors by class,
               RSS slope, p50/p99 drift between the first and last 10 minutes, event-loop lag
               (e.g. --soak 3h --profile agents; --soak 2m --profile agents to try it)
  --help       this text`;

/**
 * `30m`, `1h`, `2h50m`, `90s`, `500ms`, a bare number = minutes; in milliseconds. Compound
 * durations are read by the gateway's own Go-style duration parser (`1h2m3.5s`).
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const seconds = /^\d+(?:\.\d+)?$/.test(trimmed) ? Number(trimmed) * 60 : parseGoDuration(trimmed);
  if (seconds === undefined) throw new Error(`--soak: cannot read '${text}' (use 30m, 1h, 2h50m, 90s)`);
  return Math.round(seconds * 1000);
}

/** Hours, minutes and seconds as `parseDuration` reads them back: `3h`, `2h50m`, `10m`, `1m30s`; for file names. */
export function durationLabel(milliseconds: number): string {
  let seconds = Math.round(milliseconds / 1000);
  if (seconds === 0) return `${Math.round(milliseconds)}ms`;
  const parts: string[] = [];
  for (const [unit, size] of [['h', 3600], ['m', 60], ['s', 1]] as const) {
    const count = Math.floor(seconds / size);
    if (count > 0) parts.push(`${count}${unit}`);
    seconds -= count * size;
  }
  return parts.join('');
}

function parseSoakProfile(text: string | undefined, soakMs: number): SoakProfile | undefined {
  if (text === undefined) return undefined;
  const profile = soakProfiles.find((name) => name === text.trim());
  if (profile === undefined) throw new Error(`--profile: unknown soak profile '${text}' (known: ${soakProfiles.join(', ')})`);
  if (soakMs <= 0) throw new Error(`--profile ${profile} needs a soak duration: --soak 3h --profile ${profile}`);
  return profile;
}

export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      systems: { type: 'string' },
      soak: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(usage + '\n');
    return undefined;
  }
  const scenarios = new Set<number>();
  for (const part of (values.only ?? Object.keys(scenarioNames).join(',')).split(',')) {
    const number = Number(part.trim());
    if (!(number in scenarioNames)) throw new Error(`--only: unknown scenario '${part}' (${Object.keys(scenarioNames).join(', ')})`);
    scenarios.add(number);
  }
  const systems: SystemId[] = [];
  for (const part of (values.systems ?? systemIds.join(',')).split(',')) {
    const id = part.trim() as SystemId;
    if (!systemIds.includes(id)) throw new Error(`--systems: unknown system '${part}' (${systemIds.join(', ')})`);
    if (!systems.includes(id)) systems.push(id);
  }
  const soakMs = values.soak === undefined ? 0 : parseDuration(values.soak);
  const soakProfile = parseSoakProfile(values.profile, soakMs);
  const quick = values.quick === true;
  if (soakProfile !== undefined) {
    // The agent-fleet soak loads Switchyard ×1 alone: no scenario, no other system.
    if (values.only !== undefined) throw new Error(`--only does not combine with --profile ${soakProfile} (the soak runs alone)`);
    if (values.systems !== undefined && !systems.includes('switchyard')) throw new Error(`--profile ${soakProfile} soaks Switchyard ×1: --systems must include switchyard`);
    return { quick, settings: quick ? quickSettings : fullSettings, scenarios: new Set(), systems: ['switchyard'], soakMs, soakProfile, partial: false };
  }
  if (soakMs > 0) scenarios.add(5);
  return {
    quick,
    settings: quick ? quickSettings : fullSettings,
    scenarios,
    systems: systemIds.filter((id) => systems.includes(id)),
    soakMs,
    soakProfile,
    partial: values.only !== undefined || values.systems !== undefined,
  };
}
