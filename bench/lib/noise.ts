// How busy the machine was outside the benchmark while each measurement ran: the machine's busy
// CPU (/proc/stat) minus the CPU of the harness, its reaped children (wrk, load clients), the mock
// and every system. Another tenant's build on a 2-core box shows up here, not as a mystery.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { cpuMicros } from './processes.ts';

const tickMicros = 10_000; // CLK_TCK = 100

function machineBusyMicros(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) * tickMicros;
}

/** The harness's own CPU plus that of its children already waited for (utime, stime, cutime, cstime). */
function selfMicros(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * tickMicros;
}

const ownProviders: (() => number[])[] = [];
const ownPids = () => ownProviders.flatMap((provider) => provider());
const samples: { label: string; share: number }[] = [];

/** Tells the meter about long-running processes of the benchmark's own (mock, systems). */
export function trackOwnProcesses(pids: () => number[]): void {
  ownProviders.push(pids);
}

/** A suffix for progress lines when something else was using the machine. */
export function loadNote(share: number): string {
  return share > 0.1 ? ` (outside load ${(share * 100).toFixed(0)} %)` : '';
}

export class NoiseMeter {
  private readonly busy = machineBusyMicros();
  private readonly own = selfMicros() + cpuMicros(ownPids());
  private readonly started = process.hrtime.bigint();

  /** Share of the whole machine (0–1) used by anything else since the meter started. */
  share(): number {
    const elapsedMicros = Number(process.hrtime.bigint() - this.started) / 1000;
    const foreign = machineBusyMicros() - this.busy - (selfMicros() + cpuMicros(ownPids()) - this.own);
    return Math.max(0, foreign / (elapsedMicros * availableParallelism()));
  }

  /** The share so far, kept for the report's summary of outside load. */
  stop(label: string): number {
    const share = this.share();
    samples.push({ label, share });
    return share;
  }
}

/** One line for the report: typical and worst outside load across the measurements. */
export function noiseSummary(): string | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a.share - b.share);
  const median = sorted[sorted.length >> 1]!;
  const worst = sorted.at(-1)!;
  const busy = samples.filter((sample) => sample.share > 0.1).length;
  const percent = (share: number) => `${(share * 100).toFixed(0)} %`;
  return `CPU used outside the benchmark's processes during measurements (other tenants, kernel threads): median ${percent(median.share)} of the machine, ` +
    `worst ${percent(worst.share)} (${worst.label}); ${busy} of ${samples.length} measurements above 10 %${busy > 0 ? ' — treat those figures with care' : ''}.`;
}
