// What the browser guard costs per request on the common path (a loopback Host, no Origin, a JSON
// body): BrowserGuard.admit then requireJson, against an empty loop, in alternating rounds.
// `npx node bench/micro/browser-guard.ts [--rounds 5] [--calls 5000000]`
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { BrowserGuard } from '../../src/server/browser-guard.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '5000000' } } });
const rounds = Number(values.rounds);
const calls = Number(values.calls);

const guard = new BrowserGuard({ host: '127.0.0.1', allowedHosts: [], allowedOrigins: [] });
const request = {
  method: 'POST',
  headers: { host: '127.0.0.1:18080', 'content-type': 'application/json', 'user-agent': 'OpenAI/JS 6.0.0', authorization: 'Bearer sk-x', accept: 'application/json' },
} as unknown as IncomingMessage;
const response = { setHeader() { return this; } } as unknown as ServerResponse;

let sink = 0;
function guarded(): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) if (guard.admit(request, response) === undefined && BrowserGuard.requireJson(request) === undefined) sink++;
  return Number(process.hrtime.bigint() - start) / calls;
}
function empty(): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) if (request.headers.host !== undefined) sink++;
  return Number(process.hrtime.bigint() - start) / calls;
}

const results: { guarded: number; empty: number }[] = [];
for (let round = 0; round < rounds; round++) results.push({ guarded: guarded(), empty: empty() });
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`browser guard: ${median(results.map((r) => r.guarded)).toFixed(1)} ns/request (empty loop ${median(results.map((r) => r.empty)).toFixed(1)} ns) over ${rounds} rounds of ${calls}`);
if (sink === 0) console.log('');
