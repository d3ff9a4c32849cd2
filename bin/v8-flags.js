// The V8 flags bin/switchyard.js sets at start (docs/performance.md, "Levers (issue #17)"). Plain
// JavaScript, like bin/switchyard.js: it runs before any TypeScript.

/**
 * The flags for this V8 (`v8Version`, e.g. process.versions.v8), leaving out any the user already
 * gave node on its command line (`execArgv`): theirs wins.
 */
export function startFlags(v8Version, execArgv) {
  const [v8Major, v8Minor] = v8Version.split('.').map(Number);
  const flags = [];
  // Memory held by Buffers (request bodies, socket reads) counts toward the heap's own growth
  // limit instead of a small fixed budget of its own: an agent's 256 KB bodies otherwise start a
  // full garbage collection every few dozen requests, each marking the whole heap ("Full
  // collections started by request bodies"). Collections still run, later and fewer.
  if (v8Major > 13 || (v8Major === 13 && v8Minor >= 6)) flags.push('--external-memory-accounted-in-global-limit');
  // Under load, the requests in flight when the young generation is collected are promoted and
  // then die in old space. V8 lets old space grow up to 4× what the last full collection kept
  // before collecting again: ~45 MB of dead requests, 50–70 MB more peak RSS than a bare Node
  // proxy at 64–256 connections. Growing it 2× takes ~30 MB off that peak for a few more full
  // collections: ~2–3 % more CPU at saturation, marking on V8's helper threads ("Peak memory under
  // saturation").
  flags.push('--heap-growing-percent=100');
  return flags.filter((flag) => !execArgv.some((given) => given.replaceAll('_', '-').replace(/^--no-/, '--').startsWith(flag.split('=')[0])));
}
