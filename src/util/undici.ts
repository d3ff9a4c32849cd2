// undici's Pool and Agent without the rest of the package: its index also loads fetch,
// WebSocket, EventSource, caches and mocks — about 14 MB of resident memory per process that the
// gateway never uses. This is what undici's own index does for these two classes. Imported (not
// required) so the start-up bundle holds them: ~30 files fewer for Node's CommonJS loader to
// resolve and read at each start (docs/performance.md, "Start-up").
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import api from 'undici/lib/api/index.js';
import UndiciPool from 'undici/lib/dispatcher/pool.js';
import UndiciAgent from 'undici/lib/dispatcher/agent.js';

Object.assign(Dispatcher.prototype, api);

export const Pool = UndiciPool;
export type Pool = import('undici').Pool;
export const Agent = UndiciAgent;
export type Agent = import('undici').Agent;
