#!/usr/bin/env -S node --max-semi-space-size=16 --no-allocation-site-pretenuring
// The `switchyard` command. Plain JavaScript so it can turn on Node's compile cache before any
// TypeScript is loaded: with a warm cache Node skips type stripping (and loading its stripper)
// and reuses compiled code — about 28 MB less resident memory per process and a faster start.
import module from 'node:module';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`switchyard needs Node.js 22.18 or newer (this is ${process.version}); from the repository, 'npm start' uses the pinned Node 24.\n`);
  process.exit(1);
}
module.enableCompileCache?.();
await import('../src/cli/main.ts');
