#!/usr/bin/env -S node --max-semi-space-size=16 --no-allocation-site-pretenuring
// The `switchyard` command. Plain JavaScript so it can turn on Node's compile cache before any
// TypeScript is loaded: with a warm cache Node skips type stripping (and loading its stripper)
// and reuses compiled code — about 28 MB less resident memory per process and a faster start.
import module from 'node:module';
import v8 from 'node:v8';
import { currentBundle } from './current-bundle.js';
import { startFlags } from './v8-flags.js';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`switchyard needs Node.js 22.18 or newer (this is ${process.version}); from the repository, 'npm start' uses the pinned Node 24.\n`);
  process.exit(1);
}
// V8 settings for a gateway's load (bin/v8-flags.js); a flag given to node itself wins
for (const flag of startFlags(process.versions.v8, process.execArgv)) v8.setFlagsFromString(flag);
module.enableCompileCache?.();
// the start-up bundle `npm install` built, while it matches the sources (bin/current-bundle.js)
await import(currentBundle(new URL('../', import.meta.url)) ?? '../src/cli/main.ts');
