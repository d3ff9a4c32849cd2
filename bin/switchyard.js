#!/usr/bin/env -S node --max-semi-space-size=16 --no-allocation-site-pretenuring
// The `switchyard` command. Plain JavaScript so it can turn on Node's compile cache before any
// TypeScript is loaded: with a warm cache Node skips type stripping (and loading its stripper)
// and reuses compiled code — about 28 MB less resident memory per process and a faster start.
import module from 'node:module';
import v8 from 'node:v8';
import { currentBundle } from './current-bundle.js';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`switchyard needs Node.js 22.18 or newer (this is ${process.version}); from the repository, 'npm start' uses the pinned Node 24.\n`);
  process.exit(1);
}
// Memory held by Buffers (request bodies, socket reads) counts toward the heap's own growth limit
// instead of a small fixed budget of its own: an agent's 256 KB bodies otherwise start a full
// garbage collection every few dozen requests, each marking the whole heap (docs/performance.md,
// "Full collections started by request bodies"). Collections still run, later and fewer.
const [v8Major, v8Minor] = process.versions.v8.split('.').map(Number);
if (v8Major > 13 || (v8Major === 13 && v8Minor >= 6)) v8.setFlagsFromString('--external-memory-accounted-in-global-limit');
module.enableCompileCache?.();
// the start-up bundle `npm install` built, while it matches the sources (bin/current-bundle.js)
await import(currentBundle(new URL('../', import.meta.url)) ?? '../src/cli/main.ts');
