// The micro benchmarks' measure: CPU time per call (process.cpuUsage) of each case, in interleaved
// rounds after a warm-up, reported as the median of the rounds.

/** CPU µs per call of `run`, over `iterations` calls. */
export function cpuMicroseconds(run: () => void, iterations: number): number {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}

/** Each case's median CPU µs per call over `rounds` interleaved rounds. */
export function cpuRounds(cases: Readonly<Record<string, () => void>>, rounds: number, iterations: number, warmup = 1000): Map<string, number> {
  const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
  for (const run of Object.values(cases)) for (let i = 0; i < warmup; i++) run();
  for (let round = 0; round < rounds; round++) for (const [name, run] of Object.entries(cases)) samples.get(name)!.push(cpuMicroseconds(run, iterations));
  return new Map([...samples].map(([name, list]) => [name, [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]!]));
}
