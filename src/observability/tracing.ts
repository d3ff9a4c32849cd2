// Optional OpenTelemetry traces over OTLP/HTTP: one SERVER span per request and one CLIENT span
// per upstream attempt, with the GenAI semantic conventions (gen_ai.operation.name,
// gen_ai.request.model, gen_ai.response.model, gen_ai.provider.name, gen_ai.usage.*). Loaded
// only when `tracing` is configured (this module is imported dynamically), so it costs nothing
// when off. Spans are built when the response closes, from the times the request recorded —
// nothing is done on the request path but appending one small record per attempt.
import { context as otelContext, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from '../config/types.ts';
import type { RequestContext, RequestObserver } from '../pipeline/context.ts';

// the media APIs have no well-known name: theirs, in the convention's snake_case
const OPERATIONS: Readonly<Record<string, string>> = {
  chat: 'chat', embeddings: 'embeddings', 'count-tokens': 'count_tokens',
  images: 'image_generation', 'image-edits': 'image_edit', transcriptions: 'transcription', translations: 'translation',
  speech: 'speech', moderations: 'moderation', rerank: 'rerank',
};

/** OpenTelemetry's well-known gen_ai.provider.name values for our dialects. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  openai: 'openai', 'openai-responses': 'openai', anthropic: 'anthropic', gemini: 'gcp.gemini', ollama: 'ollama',
};

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Record<string, string | string[] | undefined>) => Object.keys(carrier),
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => carrier[key],
};

export class TracingObserver implements RequestObserver {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;

  constructor(config: TracingConfig, version: string) {
    const exporter = new OTLPTraceExporter({ url: config.endpoint, headers: { ...config.headers }, timeoutMillis: 10_000 });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': version }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
      // bounded: at most maxQueueSize spans wait; beyond that they are dropped, never buffered without end
      spanProcessors: [new BatchSpanProcessor(exporter, { maxQueueSize: 4096, maxExportBatchSize: 512, scheduledDelayMillis: 1000 })],
    });
    this.tracer = this.provider.getTracer('switchyard', version);
    propagation.setGlobalPropagator(propagator);
  }

  requestEnded(context: RequestContext, aborted: boolean): void {
    const origin = performance.timeOrigin;
    const operation = OPERATIONS[context.surface?.operation ?? ''] ?? 'chat';
    const parent = propagation.extract(otelContext.active(), context.request.headers, headerGetter);
    const status = context.finalStatus(aborted);
    const attributes: Attributes = {
      'gen_ai.operation.name': operation,
      'http.request.method': context.request.method ?? 'POST',
      'url.path': context.path,
      'http.response.status_code': status,
      'switchyard.request_id': context.id,
      'switchyard.attempts': context.attempts,
    };
    if (context.surface !== undefined) attributes['switchyard.surface'] = context.surface.name;
    if (context.modelAsked !== '') attributes['gen_ai.request.model'] = context.modelAsked;
    if (context.upstreamModel !== '') attributes['gen_ai.response.model'] = context.upstreamModel;
    if (context.provider !== '') attributes['switchyard.provider'] = context.provider;
    if (context.route !== '') attributes['switchyard.fallback'] = context.route;
    if (context.stream) attributes['gen_ai.request.stream'] = true;
    const usage = context.usage;
    if (usage !== undefined) {
      attributes['gen_ai.usage.input_tokens'] = usage.inputTokens;
      attributes['gen_ai.usage.output_tokens'] = usage.outputTokens;
      if (usage.cachedInputTokens !== undefined) attributes['gen_ai.usage.cached_input_tokens'] = usage.cachedInputTokens;
      if (usage.reasoningTokens !== undefined) attributes['gen_ai.usage.reasoning_tokens'] = usage.reasoningTokens;
    }
    if (context.costUsd !== undefined) attributes['switchyard.cost_usd'] = context.costUsd;
    if (context.error !== undefined) attributes['error.type'] = context.error.code;
    if (aborted) attributes['switchyard.aborted'] = true;
    const name = context.modelAsked !== '' ? `${operation} ${context.modelAsked}` : `${context.request.method ?? 'GET'} ${context.path}`;
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, startTime: origin + context.startedAt, attributes }, parent);
    if (status >= 500 || aborted) span.setStatus({ code: SpanStatusCode.ERROR, ...(context.error !== undefined ? { message: context.error.message } : {}) });
    const inner = trace.setSpan(parent, span);
    for (const attempt of context.attemptLog ?? []) {
      const child: Attributes = {
        'gen_ai.operation.name': operation,
        'gen_ai.request.model': attempt.model,
        'gen_ai.provider.name': PROVIDER_NAMES[attempt.dialect] ?? attempt.dialect,
        'switchyard.provider': attempt.provider,
      };
      if (attempt.key !== '') child['switchyard.key'] = attempt.key;
      if (attempt.status !== 0) child['http.response.status_code'] = attempt.status;
      if (attempt.error !== undefined) child['error.type'] = attempt.error;
      const attemptSpan = this.tracer.startSpan(`${operation} ${attempt.model}`, { kind: SpanKind.CLIENT, startTime: origin + attempt.startedAt, attributes: child }, inner);
      if (attempt.error !== undefined) attemptSpan.setStatus({ code: SpanStatusCode.ERROR, message: attempt.error });
      attemptSpan.end(origin + (attempt.endedAt > 0 ? attempt.endedAt : performance.now()));
    }
    span.end();
  }

  /** Sends what is queued; called on shutdown. */
  async close(): Promise<void> {
    await this.provider.shutdown().catch(() => {});
  }
}
