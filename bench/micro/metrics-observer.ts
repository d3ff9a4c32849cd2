// Micro-benchmark of metrics recording: the per-request observer (what every finished request
// costs), compared with recording the same series through prom-client's own Counter/Histogram
// objects, the per-chunk stream hook, and one scrape. `npx node bench/micro/metrics-observer.ts`
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import type { SurfaceAdapter } from '../../src/canonical/adapters.ts';
import { GatewayMetrics } from '../../src/observability/metrics.ts';
import { streamMeter } from '../../src/observability/metrics-stream.ts';
import { RequestContext } from '../../src/pipeline/context.ts';

const CALLS = 200_000;
const ROUNDS = 7;
const surface = { name: 'openai-chat' } as SurfaceAdapter;

/** Finished requests as the gateway leaves them: mostly 2xx, some streamed, some retried. */
function contexts(count: number, models: number): RequestContext[] {
  const list: RequestContext[] = [];
  for (let i = 0; i < count; i++) {
    const request = { url: '/v1/chat/completions', headers: {} } as IncomingMessage;
    const response = { statusCode: i % 50 === 0 ? 502 : 200, headersSent: true, writableFinished: true } as unknown as ServerResponse;
    const context = new RequestContext(`id-${i}`, request, response, surface);
    context.surface = surface;
    context.provider = i % 3 === 0 ? 'anthropic' : 'openai';
    context.upstreamModel = `model-${i % models}`;
    context.modelAsked = context.upstreamModel;
    context.attempts = i % 20 === 0 ? 2 : 1;
    if (i % 20 === 0) context.failures = [`${context.provider}/${context.upstreamModel}:500`];
    context.upstreamMs = 40 + (i % 17);
    context.firstByteMs = context.upstreamMs + 0.2;
    context.streamed = i % 2 === 0;
    context.stream = context.streamed;
    context.usage = { inputTokens: 1200 + i, outputTokens: 300, cachedInputTokens: 1000, reasoningTokens: 0 };
    context.costUsd = 0.0012;
    list.push(context);
  }
  return list;
}

function measure(label: string, run: () => void): void {
  const results: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    run();
    results.push(Number(process.hrtime.bigint() - started) / CALLS);
  }
  results.sort((a, b) => a - b);
  // the first rounds warm the JIT up; report the median and the best
  process.stdout.write(`${label.padEnd(58)} median ${results[ROUNDS >> 1]!.toFixed(0).padStart(5)} ns/call   best ${results[0]!.toFixed(0).padStart(5)} ns/call\n`);
}

const pool = contexts(1000, 20);
const metrics = new GatewayMetrics();
measure('GatewayMetrics.requestEnded (20 models)', () => {
  for (let i = 0; i < CALLS; i++) metrics.requestEnded(pool[i % 1000]!, false);
});

const wide = contexts(1000, 1000);
const capped = new GatewayMetrics();
measure('GatewayMetrics.requestEnded (1000 models, 500 capped)', () => {
  for (let i = 0; i < CALLS; i++) capped.requestEnded(wide[i % 1000]!, false);
});

// the same series through prom-client's own objects, for comparison
const registry = new Registry();
const requests = new Counter({ name: 'r_total', help: 'h', labelNames: ['surface', 'provider', 'model', 'status_class'], registers: [registry] });
const histograms = ['a', 'b', 'c', 'd'].map((name) => new Histogram({ name: `h_${name}`, help: 'h', labelNames: ['surface', 'provider'], registers: [registry] }));
const tokens = new Counter({ name: 't_total', help: 'h', labelNames: ['provider', 'model', 'type'], registers: [registry] });
const cost = new Counter({ name: 'c_total', help: 'h', labelNames: ['provider', 'model'], registers: [registry] });
const attempts = new Counter({ name: 'a_total', help: 'h', labelNames: ['provider', 'outcome'], registers: [registry] });
measure('prom-client Counter/Histogram, same series', () => {
  for (let i = 0; i < CALLS; i++) {
    const context = pool[i % 1000]!;
    const provider = context.provider;
    const model = context.upstreamModel;
    const usage = context.usage!;
    requests.inc({ surface: surface.name, provider, model, status_class: context.response.statusCode < 300 ? '2xx' : '5xx' });
    const labels = { surface: surface.name, provider };
    histograms[0]!.observe(labels, context.elapsedMs() / 1000);
    histograms[1]!.observe(labels, context.upstreamMs / 1000);
    histograms[2]!.observe(labels, 0.0002);
    if (context.streamed) histograms[3]!.observe(labels, context.firstByteMs / 1000);
    tokens.inc({ provider, model, type: 'input' }, usage.inputTokens);
    tokens.inc({ provider, model, type: 'output' }, usage.outputTokens);
    tokens.inc({ provider, model, type: 'cached' }, usage.cachedInputTokens ?? 0);
    tokens.inc({ provider, model, type: 'reasoning' }, usage.reasoningTokens ?? 0);
    tokens.inc({ provider, model, type: 'cache_write' }, usage.cacheWriteInputTokens ?? 0);
    cost.inc({ provider, model }, context.costUsd!);
    attempts.inc({ provider, outcome: 'ok' });
  }
});

// what UpstreamExchange.write() adds per chunk of a stream
let last = performance.now();
measure('stream chunk hook (performance.now + bucket)', () => {
  for (let i = 0; i < CALLS; i++) {
    const now = performance.now();
    streamMeter.gap(now - last);
    last = now;
  }
});

let scrapes = 0;
const scrapeStarted = performance.now();
while (performance.now() - scrapeStarted < 2000) {
  await capped.scrape();
  scrapes++;
}
process.stdout.write(`${'one scrape (500 model series, process metrics)'.padEnd(58)} ${((performance.now() - scrapeStarted) / scrapes).toFixed(2)} ms, ${(await capped.scrape()).length} bytes\n`);
