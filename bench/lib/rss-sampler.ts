// Samples every system's RSS (summed over its process tree) through the whole run, for the
// memory table (peaks within named windows) and the RSS-over-time chart.
import { rssMb } from './processes.ts';
import type { System, SystemId } from './systems.ts';

export interface RssSample {
  seconds: number;
  mb: Partial<Record<SystemId, number>>;
}

export class RssSampler {
  readonly samples: RssSample[] = [];
  private readonly systems: readonly System[];
  /** Date.now() at the first sample; sample times are seconds since then. */
  readonly originMs = Date.now();
  private readonly windows = new Map<string, [number, number]>();
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(systems: readonly System[]) {
    this.systems = systems.filter((system) => system.process !== undefined);
  }

  start(intervalMs: number): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  sample(): RssSample {
    const sample: RssSample = { seconds: (Date.now() - this.originMs) / 1000, mb: {} };
    for (const system of this.systems) {
      const pids = system.pids();
      if (pids.length > 0) sample.mb[system.id] = rssMb(pids);
    }
    this.samples.push(sample);
    return sample;
  }

  /** Marks the start of a window; `end` marks its end. Windows of the same name accumulate. */
  begin(name: string): void {
    this.sample();
    const now = (Date.now() - this.originMs) / 1000;
    const previous = this.windows.get(name);
    this.windows.set(name, [previous?.[0] ?? now, now]);
  }

  end(name: string): void {
    this.sample();
    const window = this.windows.get(name);
    if (window !== undefined) window[1] = (Date.now() - this.originMs) / 1000;
  }

  /** Highest sampled RSS of `id` within the named window. */
  peak(name: string, id: SystemId): number | undefined {
    const window = this.windows.get(name);
    if (window === undefined) return undefined;
    let peak: number | undefined;
    for (const sample of this.samples) {
      const value = sample.mb[id];
      if (sample.seconds < window[0] || sample.seconds > window[1] || value === undefined) continue;
      peak = Math.max(peak ?? 0, value);
    }
    return peak;
  }

  points(id: SystemId): [number, number][] {
    return this.samples.flatMap((sample) => sample.mb[id] === undefined ? [] : [[sample.seconds, sample.mb[id]!] as [number, number]]);
  }
}
