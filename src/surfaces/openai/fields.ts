// Small helpers the OpenAI APIs (chat, responses, completions) share: reading request fields
// (numbers, tool schemas, media URLs, reasoning effort) and writing answer fields (finish reason,
// usage).
import { invalidRequest } from '../../canonical/errors.ts';
import type { MediaSource, ReasoningEffort, UserLocation } from '../../canonical/request.ts';
import type { FinishReason } from '../../canonical/response.ts';
import type { Usage } from '../../canonical/usage.ts';
import { isObject, type JsonObject, objectFrom, shown } from '../../util/json-value.ts';

/** A data URL as inline base64 data; any other URL as a URL, fetched by the gateway or the provider. */
export function mediaFromUrl(url: string): MediaSource {
  const match = /^data:([^;,]+)?(;base64)?,(.*)$/s.exec(url);
  if (match !== null && match[2] !== undefined) return { kind: 'base64', mediaType: match[1] ?? 'application/octet-stream', data: match[3]! };
  return { kind: 'url', url };
}

/** The parameters of a tool that declares none. */
export const NO_PARAMETERS = { type: 'object', properties: {} };

/** A tool's parameters or a format's schema: a JSON Schema object, or `absent` when not given. */
export function schemaOf(value: unknown, param: string, absent: Record<string, unknown>): Record<string, unknown> {
  if (value === undefined || value === null) return structuredClone(absent);
  if (!isObject(value)) throw invalidRequest(`Invalid '${param}': expected a JSON Schema object, got ${shown(value)}.`, param);
  return value;
}

export function num(body: JsonObject, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidRequest(`Invalid '${key}': expected a number.`, key);
  return value;
}

const EFFORTS: ReadonlySet<unknown> = new Set<ReasoningEffort>(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

export function isEffort(value: unknown): value is ReasoningEffort {
  return EFFORTS.has(value);
}

export function openaiFinishReason(reason: FinishReason): string {
  switch (reason) {
    case 'stop': return 'stop';
    case 'length': return 'length';
    case 'tool-calls': return 'tool_calls';
    case 'content-filter': return 'content_filter';
    default: return 'stop';
  }
}

export function openaiUsage(usage: Usage): Record<string, unknown> {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 },
  };
}

/**
 * A web search's approximate user location: Responses writes its fields flat
 * (`{type: "approximate", city, …}`), Chat Completions under `approximate`.
 */
export function userLocationOf(raw: unknown): UserLocation | undefined {
  const location = objectFrom(raw);
  if (location === undefined) return undefined;
  const fields = objectFrom(location.approximate) ?? location;
  const out: UserLocation = {};
  for (const key of ['city', 'region', 'country', 'timezone'] as const) if (typeof fields[key] === 'string') out[key] = fields[key];
  return Object.keys(out).length > 0 ? out : undefined;
}
