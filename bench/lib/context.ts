// What every scenario gets: the options, the running systems, the report and the RSS sampler.
import type { BenchOptions } from './options.ts';
import { assertPortOwner } from './processes.ts';
import type { Report } from './report.ts';
import type { RssSampler } from './rss-sampler.ts';
import type { Paths, System, SystemId } from './systems.ts';
import type { LoadResult } from './wrk.ts';

export interface Bench {
  options: BenchOptions;
  paths: Paths;
  /** Systems that started and answered, in report order. */
  systems: System[];
  report: Report;
  rss: RssSampler;
  mockPort: number;
  mockPid: number;
  log(line: string): void;
  /** RSS (MB) right after start-up, before any load. */
  idleRssMb: Partial<Record<SystemId, number>>;
  /** Scenario 2's points, for the chart. */
  ladder: Map<SystemId, [number, LoadResult][]>;
  /**
   * Writes the run's report file (and charts) now, from `report` in place of the run's own — an
   * interim report of a run still going, which the final report overwrites (set by bench/run.ts).
   */
  saveInterim?: (report: Report) => void;
}

export function find(bench: Bench, id: SystemId): System | undefined {
  return bench.systems.find((system) => system.id === id);
}

/** Before a run: every proxy still owns its port (and nothing else does). */
export function checkPorts(bench: Bench): void {
  assertPortOwner(bench.mockPort, [bench.mockPid], 'mock upstream');
  for (const system of bench.systems) system.checkPort();
}

/** The systems in the order of each round, rotated per round (A B, B A, …) to spread drift. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  const shift = round % Math.max(1, items.length);
  return [...items.slice(shift), ...items.slice(0, shift)];
}
