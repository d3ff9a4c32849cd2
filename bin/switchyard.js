#!/usr/bin/env node
// Runs the TypeScript entry point directly (Node >= 22.18 strips types natively).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`switchyard needs Node.js 22.18 or newer (this is ${process.version}); from the repository, 'npm start' uses the pinned Node 24.\n`);
  process.exit(1);
}
await import('../src/cli/main.ts');
