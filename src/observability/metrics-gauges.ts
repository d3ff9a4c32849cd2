// The gauges of `/metrics`, read at scrape time from the gateway they watch: requests and streams
// in flight, the upstream pools, and the health book (targets by state, cooldowns and ejections
// counted as they started, ejections refused, attempts made in panic, streams broken after their
// commit).
import type { Gateway } from '../pipeline/gateway.ts';

type HealthCounters = Gateway['runtime']['health']['counters'];
import { CollectedMetric, type Sample } from './metrics-series.ts';
import { streamMeter } from './metrics-stream.ts';

export function gaugeCollectors(source: () => Gateway | undefined): CollectedMetric[] {
  return [
    new CollectedMetric({
      name: 'switchyard_inflight_requests', type: 'gauge',
      help: 'Requests being served (this scrape included).',
      collect: (samples) => samples.push({ value: source()?.inflight ?? 0, labels: {} }),
    }),
    new CollectedMetric({
      name: 'switchyard_inflight_streams', type: 'gauge',
      help: 'Streamed answers being written to clients.',
      collect: (samples) => samples.push({ value: streamMeter.open, labels: {} }),
    }),
    new CollectedMetric({
      name: 'switchyard_upstream_pool_connections', type: 'gauge',
      help: 'Connections in each provider\'s pool: busy (carrying a request) or idle (kept alive for the next).',
      collect: (samples) => {
        const runtime = source()?.runtime;
        if (runtime === undefined) return;
        for (const [provider, runtimeProvider] of runtime.providers) {
          if (runtimeProvider.kind !== 'http') continue; // agent CLIs have no pool
          const stats = runtimeProvider.endpoint.pool.stats;
          samples.push({ value: stats.connected - stats.free, labels: { provider, state: 'busy' } }, { value: stats.free, labels: { provider, state: 'idle' } });
        }
      },
    }),
    new CollectedMetric({
      name: 'switchyard_upstream_queued_requests', type: 'gauge',
      help: 'Requests waiting for a connection in each provider\'s pool (non-zero only when pool.connections caps it).',
      collect: (samples) => {
        const runtime = source()?.runtime;
        if (runtime === undefined) return;
        for (const [provider, runtimeProvider] of runtime.providers) {
          if (runtimeProvider.kind === 'http') samples.push({ value: runtimeProvider.endpoint.pool.stats.queued, labels: { provider } });
        }
      },
    }),
    new CollectedMetric({
      name: 'switchyard_cache_bytes', type: 'gauge',
      help: 'Bytes held by the exact-response cache in this process (answers and their header text), bounded by cache.max_bytes.',
      collect: (samples) => samples.push({ value: source()?.runtime.state.responses.bytes ?? 0, labels: {} }),
    }),
    new CollectedMetric({
      name: 'switchyard_cache_entries', type: 'gauge',
      help: 'Answers held by the exact-response cache in this process.',
      collect: (samples) => samples.push({ value: source()?.runtime.state.responses.size ?? 0, labels: {} }),
    }),
    new CollectedMetric({
      name: 'switchyard_targets', type: 'gauge',
      help: 'Routing targets (provider key × model) by health: healthy, cooling (cooldown or ejection) or half-open (admitting one probe).',
      collect: (samples) => collectTargets(source(), samples),
    }),
    new CollectedMetric({
      name: 'switchyard_cooldowns_total', type: 'counter',
      help: 'Cooldowns started, by provider and reason (auth: 401/403, not-found: 404, rate-limited: 429). Ejections are counted apart.',
      collect: (samples) => {
        const counters = source()?.runtime.health.counters;
        if (counters === undefined) return;
        for (const [provider, byReason] of counters.cooldowns) {
          for (const [reason, value] of byReason) samples.push({ value, labels: { provider, reason } });
        }
      },
    }),
    new CollectedMetric({
      name: 'switchyard_ejections_total', type: 'counter',
      help: 'Targets ejected from rotation, by provider and reason: consecutive-failures (eject_after failures in a row before the commit point), success-rate (a flapping target), probe (a failed half-open probe; the only one that doubles the time), health-check (a failed active health check).',
      collect: (samples) => {
        const counters = source()?.runtime.health.counters;
        if (counters === undefined) return;
        for (const [provider, byCause] of counters.ejections) {
          for (const [reason, value] of byCause) samples.push({ value, labels: { provider, reason } });
        }
      },
    }),
    perProvider('switchyard_ejections_overflow_total', 'Ejections not made because the route already had as many targets ejected as routing.cooldowns.max_ejection_percent allows, by provider.', source, (counters) => counters.ejectionsOverflow),
    perProvider('switchyard_panic_attempts_total', 'Attempts sent to an ejected target because its route was in panic (too few targets available, no healthy fallback), by provider.', source, (counters) => counters.panicAttempts),
    perProvider('switchyard_stream_failures_total', 'Streams that failed after the commit point (the client had begun reading them), by provider: counted apart from failures before it, they never eject a target by themselves.', source, (counters) => counters.streamFailures),
  ];
}

function perProvider(name: string, help: string, source: () => Gateway | undefined, pick: (counters: HealthCounters) => ReadonlyMap<string, number>): CollectedMetric {
  return new CollectedMetric({
    name, help, type: 'counter',
    collect: (samples) => {
      const counters = source()?.runtime.health.counters;
      if (counters === undefined) return;
      for (const [provider, value] of pick(counters)) samples.push({ value, labels: { provider } });
    },
  });
}

function collectTargets(gateway: Gateway | undefined, samples: Sample[]): void {
  const runtime = gateway?.runtime;
  if (runtime === undefined) return;
  const now = runtime.health.now();
  const counts = new Map<string, { healthy: number; cooling: number; 'half-open': number }>();
  for (const provider of runtime.providers.keys()) counts.set(provider, { healthy: 0, cooling: 0, 'half-open': 0 });
  for (const entry of runtime.health.all()) {
    const count = counts.get(entry.provider);
    // entries of keys no longer configured (a reload changed them) are not counted
    if (count === undefined || !(runtime.keyIds.get(entry.provider) ?? ['']).includes(entry.keyId)) continue;
    count[entry.state(now)]++;
  }
  for (const [provider, count] of counts) {
    for (const state of ['healthy', 'cooling', 'half-open'] as const) samples.push({ value: count[state], labels: { provider, state } });
  }
}
