// What the panic check adds to picking a target, per request, on a one-target and a three-target
// route with every target healthy: Route.pick alone; the runner's gate (the book's count of ejected
// entries, 0 in the usual case) then Route.pick; and, for when some other target of the process is
// ejected, the route's panic threshold check then Route.pick. Alternating in rounds so drift and
// neighbours hit all three alike.
// `npx node bench/micro/route-pick.ts [--rounds 5] [--picks 2000000]`
import { parseArgs } from 'node:util';
import { DEFAULT_COOLDOWNS } from '../../src/config/defaults.ts';
import { Router, type Route } from '../../src/routing/router.ts';
import { HealthBook } from '../../src/state/health.ts';
import { testConfig } from '../../test/helpers/gateway.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, picks: { type: 'string', default: '2000000' } } });
const rounds = Number(values.rounds);
const picks = Number(values.picks);
const threshold = DEFAULT_COOLDOWNS.panicThresholdPercent;

const config = testConfig({
  providers: ['a', 'b', 'c'].map((name) => ({ name, baseUrl: `http://127.0.0.1:9/${name}` })),
  models: [
    { name: 'one', targets: [{ provider: 'a', model: 'm' }] },
    { name: 'three', targets: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm' }, { provider: 'c', model: 'm' }] },
  ],
});
const health = new HealthBook();
const router = new Router(config, { health, keyIds: new Map() });
let picked = 0;

function plain(route: Route, now: number): void {
  for (let i = 0; i < picks; i++) if (route.pick('chat', now) !== undefined) picked++;
}

function gated(route: Route, now: number): void {
  for (let i = 0; i < picks; i++) {
    const panic = health.counters.ejectedEntries > 0 && route.belowPanicThreshold('chat', now, threshold);
    if (route.pick('chat', now, undefined, 0, panic) !== undefined) picked++;
  }
}

function withPanicCheck(route: Route, now: number): void {
  for (let i = 0; i < picks; i++) {
    const panic = route.belowPanicThreshold('chat', now, threshold);
    if (route.pick('chat', now, undefined, 0, panic) !== undefined) picked++;
  }
}

function timed(run: (route: Route, now: number) => void, route: Route): number {
  const started = performance.now();
  run(route, Date.now());
  return ((performance.now() - started) * 1e6) / picks;
}

for (const name of ['one', 'three']) {
  const route = router.resolve(name)!;
  const a: number[] = [];
  const b: number[] = [];
  const c: number[] = [];
  for (let round = 0; round < rounds; round++) {
    a.push(timed(plain, route));
    b.push(timed(gated, route));
    c.push(timed(withPanicCheck, route));
  }
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1]!;
  const base = median(a);
  const delta = (values: number[]) => `${median(values).toFixed(1)} ns (${median(values) >= base ? '+' : ''}${(median(values) - base).toFixed(1)})`;
  console.log(`${name} target(s), median of ${rounds}: pick ${base.toFixed(1)} ns; gate + pick ${delta(b)}; threshold check + pick ${delta(c)}`);
}
if (picked === 0) throw new Error('nothing picked');
