// What "well-formed" means for the canonical values a decoder hands on: the types of
// src/canonical held at run time (strings are strings, counts are finite numbers), and the stream
// contract of src/canonical/stream.ts. Each check throws an AssertionError naming the path.
import assert from 'node:assert/strict';
import { GatewayError } from '../../src/canonical/errors.ts';
import type { EmbeddingRequest, EmbeddingResponse } from '../../src/canonical/embeddings.ts';
import type { CanonicalRequest, Citation, ContentPart, HostedToolCallPart, HostedToolKind, HostedToolResultPart, MediaSource } from '../../src/canonical/request.ts';
import type { CanonicalResponse } from '../../src/canonical/response.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { Usage } from '../../src/canonical/usage.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function string(value: unknown, where: string): void {
  assert.equal(typeof value, 'string', `${where} is a string, got ${describe(value)}`);
}

function optionalString(value: unknown, where: string): void {
  if (value !== undefined) string(value, where);
}

function count(value: unknown, where: string): void {
  assert.ok(typeof value === 'number' && Number.isFinite(value) && value >= 0, `${where} is a finite count, got ${describe(value)}`);
}

function optionalNumber(value: unknown, where: string): void {
  if (value !== undefined) assert.ok(typeof value === 'number' && Number.isFinite(value), `${where} is a finite number, got ${describe(value)}`);
}

function describe(value: unknown): string {
  try {
    return `${typeof value} ${JSON.stringify(value)?.slice(0, 80)}`;
  } catch {
    return typeof value;
  }
}

/** A thrown value that is the gateway's typed error, with the status class wanted. */
export function assertTypedError(error: unknown, statuses: (status: number) => boolean, what: string): asserts error is GatewayError {
  if (!(error instanceof GatewayError)) {
    const detail = error instanceof Error ? error.stack ?? error.message : String(error);
    assert.fail(`${what} threw something other than a GatewayError: ${detail}`);
  }
  assert.ok(statuses(error.status), `${what}: unexpected status ${error.status} (${error.code}: ${error.message})`);
  assert.match(error.code, /^SWY_ERR_[A-Z_]+$/);
  string(error.message, `${what}: message`);
}

function media(source: MediaSource, where: string): void {
  assert.ok(isObject(source), `${where} is an object`);
  if (source.kind === 'base64') {
    string(source.mediaType, `${where}.mediaType`);
    string(source.data, `${where}.data`);
  } else {
    assert.equal(source.kind, 'url', `${where}.kind`);
    string(source.url, `${where}.url`);
    optionalString(source.mediaType, `${where}.mediaType`);
  }
}

/** Every kind the canonical type names (a record over the type: a new kind fails to compile until it is here). */
const HOSTED_KIND_RECORD: Record<HostedToolKind, true> = { 'web-search': true, 'web-fetch': true, 'code-execution': true, 'tool-search': true, other: true };
const HOSTED_KINDS = new Set<unknown>(Object.keys(HOSTED_KIND_RECORD));

function checkCitation(citation: Citation, where: string): void {
  assert.ok(isObject(citation), `${where} is an object`);
  string(citation.url, `${where}.url`);
  optionalString(citation.title, `${where}.title`);
  optionalString(citation.citedText, `${where}.citedText`);
  if (citation.start !== undefined || citation.end !== undefined) {
    count(citation.start, `${where}.start`);
    count(citation.end, `${where}.end`);
    assert.ok(citation.end! >= citation.start!, `${where}: end is not before start`);
  }
}

function checkHostedCall(call: HostedToolCallPart, where: string): void {
  string(call.id, `${where}.id`);
  string(call.name, `${where}.name`);
  assert.ok(HOSTED_KINDS.has(call.kind), `${where}.kind is known, got ${describe(call.kind)}`);
  assert.ok(isObject(call.input), `${where}.input is an object`);
}

function checkHostedResult(result: HostedToolResultPart, where: string): void {
  string(result.callId, `${where}.callId`);
  assert.ok(HOSTED_KINDS.has(result.kind), `${where}.kind is known, got ${describe(result.kind)}`);
  assert.ok(Array.isArray(result.results), `${where}.results is an array`);
  result.results.forEach((item, i) => {
    string(item.url, `${where}.results[${i}].url`);
    optionalString(item.title, `${where}.results[${i}].title`);
  });
  optionalString(result.errorCode, `${where}.errorCode`);
}

export function checkPart(part: ContentPart, where: string): void {
  assert.ok(isObject(part), `${where} is an object`);
  switch (part.type) {
    case 'text':
      string(part.text, `${where}.text`);
      if (part.citations !== undefined) part.citations.forEach((citation, i) => checkCitation(citation, `${where}.citations[${i}]`));
      return;
    case 'hosted-tool-call':
      checkHostedCall(part, where);
      return;
    case 'hosted-tool-result':
      checkHostedResult(part, where);
      return;
    case 'image':
    case 'audio':
    case 'file':
      media(part.source, `${where}.source`);
      return;
    case 'reasoning':
      string(part.text, `${where}.text`);
      optionalString(part.signature, `${where}.signature`);
      optionalString(part.redactedData, `${where}.redactedData`);
      return;
    case 'tool-call':
      string(part.id, `${where}.id`);
      string(part.name, `${where}.name`);
      string(part.arguments, `${where}.arguments`);
      return;
    case 'tool-result':
      string(part.toolCallId, `${where}.toolCallId`);
      if (typeof part.content !== 'string') {
        assert.ok(Array.isArray(part.content), `${where}.content is a string or parts`);
        part.content.forEach((inner, i) => checkPart(inner, `${where}.content[${i}]`));
      }
      return;
    default:
      assert.fail(`${where}.type is unknown: ${describe((part as Json).type)}`);
  }
}

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);
const CHOICES = new Set(['auto', 'none', 'required', 'tool']);
const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

export function checkRequest(request: CanonicalRequest): void {
  string(request.model, 'model');
  assert.equal(typeof request.stream, 'boolean', 'stream is a boolean');
  assert.ok(Array.isArray(request.messages), 'messages is an array');
  request.messages.forEach((message, i) => {
    assert.ok(ROLES.has(message.role), `messages[${i}].role is known, got ${describe(message.role)}`);
    assert.ok(Array.isArray(message.content), `messages[${i}].content is an array`);
    message.content.forEach((part, j) => checkPart(part, `messages[${i}].content[${j}]`));
    optionalString(message.name, `messages[${i}].name`);
  });
  if (request.tools !== undefined) {
    assert.ok(Array.isArray(request.tools), 'tools is an array');
    request.tools.forEach((tool, i) => {
      string(tool.name, `tools[${i}].name`);
      optionalString(tool.description, `tools[${i}].description`);
      assert.ok(isObject(tool.parameters), `tools[${i}].parameters is an object, got ${describe(tool.parameters)}`);
    });
  }
  if (request.hostedTools !== undefined) {
    assert.ok(Array.isArray(request.hostedTools), 'hostedTools is an array');
    request.hostedTools.forEach((tool, i) => {
      assert.ok(HOSTED_KINDS.has(tool.kind), `hostedTools[${i}].kind is known, got ${describe(tool.kind)}`);
      string(tool.field, `hostedTools[${i}].field`);
      string(tool.dialect, `hostedTools[${i}].dialect`);
      assert.ok(isObject(tool.raw), `hostedTools[${i}].raw is an object`);
      optionalNumber(tool.maxUses, `hostedTools[${i}].maxUses`);
      for (const key of ['allowedDomains', 'blockedDomains'] as const) tool[key]?.forEach((domain, j) => string(domain, `hostedTools[${i}].${key}[${j}]`));
    });
  }
  if (request.toolChoice !== undefined) {
    assert.ok(CHOICES.has(request.toolChoice.type), `toolChoice.type is known, got ${describe(request.toolChoice.type)}`);
    if (request.toolChoice.type === 'tool') string(request.toolChoice.name, 'toolChoice.name');
  }
  assert.ok(isObject(request.sampling), 'sampling is an object');
  const sampling = request.sampling;
  for (const key of ['temperature', 'topP', 'topK', 'maxTokens', 'seed', 'presencePenalty', 'frequencyPenalty'] as const) optionalNumber(sampling[key], `sampling.${key}`);
  if (sampling.stop !== undefined) {
    assert.ok(Array.isArray(sampling.stop), 'sampling.stop is an array');
    sampling.stop.forEach((stop, i) => string(stop, `sampling.stop[${i}]`));
  }
  const format = request.responseFormat;
  if (format !== undefined && format.type === 'json-schema') {
    string(format.name, 'responseFormat.name');
    assert.ok(isObject(format.schema), `responseFormat.schema is an object, got ${describe(format.schema)}`);
  }
  const reasoning = request.reasoning;
  if (reasoning !== undefined) {
    if (reasoning.effort !== undefined) assert.ok(EFFORTS.has(reasoning.effort), `reasoning.effort is known, got ${describe(reasoning.effort)}`);
    optionalNumber(reasoning.budgetTokens, 'reasoning.budgetTokens');
    if (reasoning.includeThoughts !== undefined) assert.equal(typeof reasoning.includeThoughts, 'boolean', 'reasoning.includeThoughts is a boolean');
  }
}

export function checkEmbeddingRequest(request: EmbeddingRequest): void {
  string(request.model, 'model');
  assert.ok(Array.isArray(request.inputs), 'inputs is an array');
  request.inputs.forEach((input, i) => string(input, `inputs[${i}]`));
  optionalNumber(request.dimensions, 'dimensions');
  optionalString(request.taskType, 'taskType');
}

export function checkUsage(usage: Usage, where = 'usage'): void {
  assert.ok(isObject(usage), `${where} is an object`);
  count(usage.inputTokens, `${where}.inputTokens`);
  count(usage.outputTokens, `${where}.outputTokens`);
  for (const key of ['cachedInputTokens', 'cacheWriteInputTokens', 'reasoningTokens'] as const) if (usage[key] !== undefined) count(usage[key], `${where}.${key}`);
}

const FINISHES = new Set(['stop', 'length', 'tool-calls', 'content-filter', 'error', 'other']);

const RESPONSE_PARTS = new Set(['text', 'reasoning', 'tool-call', 'hosted-tool-call', 'hosted-tool-result']);

export function checkResponse(response: CanonicalResponse): void {
  string(response.id, 'id');
  string(response.model, 'model');
  optionalNumber(response.created, 'created');
  assert.ok(Array.isArray(response.content), 'content is an array');
  response.content.forEach((part, i) => {
    assert.ok(RESPONSE_PARTS.has(part.type), `content[${i}].type is a response part, got ${describe(part.type)}`);
    checkPart(part, `content[${i}]`);
  });
  assert.ok(FINISHES.has(response.finishReason), `finishReason is known, got ${describe(response.finishReason)}`);
  optionalString(response.rawFinishReason, 'rawFinishReason');
  optionalString(response.stopSequence, 'stopSequence');
  checkUsage(response.usage);
}

export function checkEmbeddings(response: EmbeddingResponse): void {
  string(response.model, 'model');
  assert.ok(Array.isArray(response.embeddings), 'embeddings is an array');
  response.embeddings.forEach((vector, i) => {
    assert.ok(Array.isArray(vector), `embeddings[${i}] is an array`);
    vector.forEach((value, j) => assert.ok(typeof value === 'number', `embeddings[${i}][${j}] is a number, got ${describe(value)}`));
  });
  count(response.usage.inputTokens, 'usage.inputTokens');
}

const BLOCK_KINDS: Record<string, string> = {
  'text-start': 'text', 'text-delta': 'text', 'text-citation': 'text', 'text-end': 'text',
  'reasoning-start': 'reasoning', 'reasoning-delta': 'reasoning', 'reasoning-signature': 'reasoning', 'reasoning-end': 'reasoning',
  'tool-call-start': 'tool', 'tool-call-delta': 'tool', 'tool-call-end': 'tool',
};

/**
 * The stream contract: one response-start first (a stream may also fail before it), blocks
 * strictly sequential and numbered from 0 (a hosted tool's call or result is a whole block of one
 * part), citations inside their text block, one terminal part (response-end or error) last.
 */
export function checkStream(parts: readonly StreamPart[]): void {
  assert.ok(parts.length > 0, 'a stream ends with a terminal part');
  let started = false;
  let open: { kind: string; index: number } | undefined;
  let nextIndex = 0;
  parts.forEach((part, i) => {
    const where = `part ${i} (${part.type})`;
    const last = i === parts.length - 1;
    if (part.type === 'error') {
      assert.ok(last, `${where}: nothing follows an error`);
      assert.ok(part.error instanceof GatewayError, `${where}: the error is a GatewayError`);
      assert.ok(part.error.status >= 400, `${where}: an error status`);
      return;
    }
    if (part.type === 'response-start') {
      assert.ok(!started, `${where}: one response-start`);
      assert.equal(i, 0, `${where}: response-start comes first`);
      started = true;
      string(part.id, `${where}.id`);
      string(part.model, `${where}.model`);
      optionalNumber(part.created, `${where}.created`);
      return;
    }
    assert.ok(started, `${where}: after response-start`);
    if (part.type === 'usage') {
      checkUsage(part.usage, `${where}.usage`);
      return;
    }
    if (part.type === 'response-end') {
      assert.ok(last, `${where}: nothing follows response-end`);
      assert.equal(open, undefined, `${where}: every block was ended`);
      assert.ok(FINISHES.has(part.finishReason), `${where}: finishReason known`);
      optionalString(part.rawFinishReason, `${where}.rawFinishReason`);
      optionalString(part.stopSequence, `${where}.stopSequence`);
      if (part.usage !== undefined) checkUsage(part.usage, `${where}.usage`);
      return;
    }
    if (part.type === 'hosted-tool-call' || part.type === 'hosted-tool-result') {
      assert.equal(open, undefined, `${where}: a whole block, never inside another`);
      assert.equal(part.index, nextIndex, `${where}: blocks numbered in order`);
      nextIndex++;
      if (part.type === 'hosted-tool-call') checkHostedCall(part.call, `${where}.call`);
      else checkHostedResult(part.result, `${where}.result`);
      return;
    }
    const kind = BLOCK_KINDS[part.type];
    assert.ok(kind !== undefined, `${where}: a known part type`);
    if (part.type.endsWith('-start')) {
      assert.equal(open, undefined, `${where}: one block open at a time`);
      assert.equal(part.index, nextIndex, `${where}: blocks numbered in order`);
      open = { kind, index: part.index };
      nextIndex++;
      if (part.type === 'tool-call-start') {
        string(part.id, `${where}.id`);
        string(part.name, `${where}.name`);
      }
      if (part.type === 'reasoning-start') optionalString(part.redactedData, `${where}.redactedData`);
      return;
    }
    assert.ok(open !== undefined && open.kind === kind && open.index === part.index, `${where}: inside its open block (open: ${JSON.stringify(open)}, index ${part.index})`);
    if (part.type === 'text-delta' || part.type === 'reasoning-delta') string(part.delta, `${where}.delta`);
    if (part.type === 'tool-call-delta') string(part.argumentsDelta, `${where}.argumentsDelta`);
    if (part.type === 'reasoning-signature') string(part.signature, `${where}.signature`);
    if (part.type === 'text-citation') checkCitation(part.citation, `${where}.citation`);
    if (part.type.endsWith('-end')) open = undefined;
  });
  const last = parts.at(-1)!;
  assert.ok(last.type === 'response-end' || last.type === 'error', 'the stream ends with response-end or error');
}
