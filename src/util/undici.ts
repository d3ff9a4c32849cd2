// undici's Pool and Agent without the rest of the package: its index also loads fetch,
// WebSocket, EventSource, caches and mocks — about 14 MB of resident memory per process that the
// gateway never uses. This is what undici's own index does for these two classes.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(Dispatcher.prototype, require('undici/lib/api/index.js') as object);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof import('undici').Pool;
export type Pool = import('undici').Pool;
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof import('undici').Agent;
export type Agent = import('undici').Agent;
