// Gemini, as `@google/genai` speaks it (client: /v1beta/models/{model}:generateContent and
// :streamGenerateContent?alt=sse) and as the Generative Language API answers (upstream).
import assert from 'node:assert/strict';
import type { Behavior, RecordedRequest } from '../../helpers/mock-upstream.ts';
import { parseSse } from '../../helpers/sse.ts';
import { scenarioFromModel } from '../scenarios.ts';
import type { Skip } from '../skips.ts';
import type { ClientDialect, DialectTraits, Outcome, Received, Scenario, ScenarioAnswer, UpstreamDialect } from '../types.ts';

type Json = Record<string, any>;

export const geminiTraits: DialectTraits = {
  toolCallIds: false, reasoning: true, signatures: true, cachedTokens: true, reasoningTokens: true,
  toolErrorFlag: true, images: true, jsonSchemaName: false, reasoningBudget: true, stop: true,
};

/** The OpenAPI-style schema a Gemini caller writes (upper-case types, no additionalProperties). */
function geminiSchema(schema: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'additionalProperties') continue;
    if (key === 'type') out.type = String(value).toUpperCase();
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Json).map(([name, property]) => [name, geminiSchema(property as Json)]));
    else if (key === 'items') out.items = geminiSchema(value as Json);
    else out[key] = value;
  }
  return out;
}

export function geminiContents(scenario: Scenario): Json[] {
  const contents: Json[] = [];
  const push = (role: string, parts: Json[]) => {
    const last = contents.at(-1);
    if (last !== undefined && last.role === role && role === 'user' && parts.every((part) => part.functionResponse !== undefined) && last.parts.every((part: Json) => part.functionResponse !== undefined)) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const message of scenario.input.messages) {
    if (message.role === 'user') {
      const parts: Json[] = [{ text: message.text }];
      if (message.image !== undefined) parts.push({ inlineData: { mimeType: message.image.mediaType, data: message.image.base64 } });
      push('user', parts);
    } else if (message.role === 'assistant') {
      const parts: Json[] = [];
      if (message.reasoning !== undefined) parts.push({ text: message.reasoning.text, thought: true, thoughtSignature: message.reasoning.signature });
      if (message.text !== undefined) parts.push({ text: message.text });
      for (const call of message.toolCalls ?? []) parts.push({ functionCall: { name: call.name, args: call.args } });
      push('model', parts);
    } else {
      push('user', [{ functionResponse: { name: message.name, response: message.isError === true ? { error: message.result } : { output: message.result } } }]);
    }
  }
  return contents;
}

function finishFrom(reason: unknown, hasCalls: boolean): Outcome['finish'] {
  if (reason === 'STOP') return hasCalls ? 'tool-calls' : 'stop';
  return reason === 'MAX_TOKENS' ? 'length' : 'other';
}

function usageFrom(usage: Json | undefined): Outcome['usage'] {
  if (usage === undefined) return undefined;
  return {
    input: usage.promptTokenCount, output: (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
    ...(usage.cachedContentTokenCount ? { cached: usage.cachedContentTokenCount } : {}),
    ...(usage.thoughtsTokenCount ? { reasoning: usage.thoughtsTokenCount } : {}),
  };
}

function collect(outcome: Outcome, parts: Json[]): void {
  for (const part of parts) {
    if (typeof part.thoughtSignature === 'string') outcome.signatures.push(part.thoughtSignature);
    if (part.thought === true) outcome.reasoning += part.text ?? '';
    else if (part.functionCall !== undefined) outcome.toolCalls.push({ id: part.functionCall.id, name: part.functionCall.name, args: part.functionCall.args });
    else if (typeof part.text === 'string') outcome.text += part.text;
  }
}

export const geminiClient: ClientDialect = {
  name: 'gemini',
  traits: geminiTraits,
  request(scenario, model, stream) {
    const input = scenario.input;
    const body: Json = { contents: geminiContents(scenario) };
    if (input.system !== undefined) body.systemInstruction = { parts: [{ text: input.system }] };
    if (input.tools !== undefined) body.tools = [{ functionDeclarations: input.tools.map((tool) => ({ name: tool.name, description: tool.description, parameters: geminiSchema(tool.parameters) })) }];
    if (input.toolChoice !== undefined) {
      const choice = input.toolChoice;
      body.toolConfig = { functionCallingConfig: choice === 'auto' ? { mode: 'AUTO' } : choice === 'required' ? { mode: 'ANY' } : { mode: 'ANY', allowedFunctionNames: [choice.name] } };
    }
    const generation: Json = {};
    if (input.maxTokens !== undefined) generation.maxOutputTokens = input.maxTokens;
    if (input.temperature !== undefined) generation.temperature = input.temperature;
    if (input.topP !== undefined) generation.topP = input.topP;
    if (input.stop !== undefined) generation.stopSequences = input.stop;
    if (input.jsonSchema !== undefined) {
      generation.responseMimeType = 'application/json';
      generation.responseSchema = geminiSchema(input.jsonSchema.schema);
    }
    if (input.reasoning !== undefined) generation.thinkingConfig = { thinkingBudget: input.reasoning.budgetTokens, includeThoughts: true };
    if (Object.keys(generation).length > 0) body.generationConfig = generation;
    const path = `/v1beta/models/${model}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
    return { method: 'POST', path, headers: { 'content-type': 'application/json', 'x-goog-api-key': 'sk-client' }, body: JSON.stringify(body) };
  },
  parse(status, _headers, body, stream) {
    if (status >= 400) {
      const error = JSON.parse(body).error;
      assert.equal(error.code, status, 'Google error code is the HTTP status');
      assert.equal(typeof error.status, 'string', 'Google error status name');
      assert.equal(typeof error.message, 'string');
      return { status, text: '', reasoning: '', signatures: [], toolCalls: [], errorMessage: error.message };
    }
    const outcome: Outcome = { status, text: '', reasoning: '', signatures: [], toolCalls: [] };
    const chunks: Json[] = stream ? parseSse(body).map((event) => JSON.parse(event.data) as Json) : [JSON.parse(body) as Json];
    assert.ok(chunks.length > 0, 'at least one chunk');
    let finish: unknown;
    for (const chunk of chunks) {
      if (chunk.error !== undefined) throw new Error(`stream error event: ${JSON.stringify(chunk.error)}`);
      assert.ok(Array.isArray(chunk.candidates), 'every chunk has candidates');
      const candidate = chunk.candidates[0];
      collect(outcome, candidate.content?.parts ?? []);
      if (candidate.finishReason !== undefined) {
        assert.equal(finish, undefined, 'one chunk carries the finish reason');
        finish = candidate.finishReason;
      }
      if (chunk.usageMetadata !== undefined) outcome.usage = usageFrom(chunk.usageMetadata);
    }
    if (stream) assert.ok(chunks.at(-1)!.candidates[0].finishReason !== undefined, 'the last chunk carries the finish reason');
    outcome.finish = finishFrom(finish, outcome.toolCalls.length > 0);
    return outcome;
  },
};

function textOf(parts: Json[]): string {
  return parts.filter((part) => typeof part.text === 'string' && part.thought !== true).map((part) => part.text).join('');
}

export function receivedGemini(request: RecordedRequest): Received {
  const body = request.body as Json;
  const match = /\/models\/([^/:?]+):(\w+)/.exec(request.path);
  assert.ok(match !== null, `a Gemini path: ${request.path}`);
  assert.ok(!/[?&]key=/.test(request.path), 'the client key is not forwarded');
  const received: Received = {
    model: decodeURIComponent(match[1]!), stream: match[2] === 'streamGenerateContent',
    userTexts: [], images: [], assistantTexts: [], toolCalls: [], toolResults: [], reasoningSignatures: [],
    tools: (body.tools ?? []).flatMap((tool: Json) => (tool.functionDeclarations ?? []).map((declaration: Json) => declaration.name)),
  };
  if (body.systemInstruction !== undefined) received.system = textOf(body.systemInstruction.parts);
  for (const content of body.contents as Json[]) {
    const parts = content.parts as Json[];
    if (content.role === 'model') {
      const text = textOf(parts);
      if (text.length > 0) received.assistantTexts.push(text);
      for (const part of parts) {
        if (part.functionCall !== undefined) received.toolCalls.push({ name: part.functionCall.name, args: part.functionCall.args });
        if (typeof part.thoughtSignature === 'string') received.reasoningSignatures.push(part.thoughtSignature);
      }
      continue;
    }
    if (parts.some((part) => typeof part.text === 'string')) received.userTexts.push(textOf(parts));
    for (const part of parts) {
      if (part.inlineData !== undefined) received.images.push({ mediaType: part.inlineData.mimeType, base64: part.inlineData.data });
      const response = part.functionResponse;
      if (response !== undefined) {
        const failed = response.response?.error !== undefined;
        const value = failed ? response.response.error : response.response?.output ?? response.response;
        received.toolResults.push({ name: response.name, content: typeof value === 'string' ? value : JSON.stringify(value), ...(failed ? { isError: true } : {}) });
      }
    }
  }
  const config = body.toolConfig?.functionCallingConfig;
  if (config !== undefined) {
    const names: string[] = config.allowedFunctionNames ?? [];
    received.toolChoice = config.mode === 'NONE' ? 'none' : config.mode === 'ANY' ? (names.length === 1 ? { name: names[0]! } : 'required') : 'auto';
  }
  const generation: Json = body.generationConfig ?? {};
  if (generation.maxOutputTokens !== undefined) received.maxTokens = generation.maxOutputTokens;
  if (generation.temperature !== undefined) received.temperature = generation.temperature;
  if (generation.topP !== undefined) received.topP = generation.topP;
  if (generation.stopSequences !== undefined) received.stop = generation.stopSequences;
  if (generation.thinkingConfig?.thinkingBudget !== undefined) received.reasoningBudget = generation.thinkingConfig.thinkingBudget;
  return received;
}

function usageMetadata(usage: ScenarioAnswer['usage']): Json {
  const reasoning = usage.reasoning ?? 0;
  return {
    promptTokenCount: usage.input,
    candidatesTokenCount: usage.output - reasoning,
    totalTokenCount: usage.input + usage.output,
    ...(usage.cached !== undefined ? { cachedContentTokenCount: usage.cached } : {}),
    ...(reasoning > 0 ? { thoughtsTokenCount: reasoning } : {}),
  };
}

function googleError(status: number, message: string): Json {
  const name = status === 429 ? 'RESOURCE_EXHAUSTED' : status === 400 ? 'INVALID_ARGUMENT' : 'INTERNAL';
  const details = status === 429 ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }] : [];
  return { error: { code: status, message, status: name, details } };
}

export const geminiUpstream: UpstreamDialect = {
  type: 'gemini',
  traits: geminiTraits,
  basePath: '/v1beta',
  scenarioOf: (request) => scenarioFromModel(request.path),
  received: receivedGemini,
  respond(scenario, request): Behavior {
    if (scenario.error !== undefined) return { kind: 'json', status: scenario.error.status, body: googleError(scenario.error.status, scenario.error.message) };
    const answer = scenario.answer!;
    const model = /\/models\/([^/:?]+):/.exec(request.path)![1]!;
    const responseId = 'Il0taoSYJ5Cez7kPqvmX0Qk';
    const finishReason = answer.finish === 'length' ? 'MAX_TOKENS' : 'STOP';
    const calls = (answer.toolCalls ?? []).map((call) => ({ functionCall: { name: call.name, args: call.args } }));
    const wrap = (parts: Json[] | undefined, last: boolean): Json => ({
      candidates: [{ ...(parts !== undefined ? { content: { parts, role: 'model' } } : {}), ...(last ? { finishReason } : {}), index: 0 }],
      usageMetadata: last ? usageMetadata(answer.usage) : { promptTokenCount: answer.usage.input, totalTokenCount: answer.usage.input },
      modelVersion: model,
      responseId,
    });
    if (!request.path.includes(':streamGenerateContent')) {
      const parts: Json[] = [];
      if (answer.reasoning !== undefined) parts.push({ text: answer.reasoning.text, thought: true, thoughtSignature: answer.reasoning.signature });
      if (answer.text !== undefined) parts.push({ text: answer.text });
      parts.push(...calls);
      return { kind: 'json', status: 200, body: wrap(parts, true) };
    }
    const chunks: Json[][] = [];
    if (answer.reasoning !== undefined) {
      const half = Math.floor(answer.reasoning.text.length / 2);
      chunks.push([{ text: answer.reasoning.text.slice(0, half), thought: true }]);
      chunks.push([{ text: answer.reasoning.text.slice(half), thought: true, thoughtSignature: answer.reasoning.signature }]);
    }
    if (answer.text !== undefined) {
      const half = Math.floor(answer.text.length / 2);
      chunks.push([{ text: answer.text.slice(0, half) }], [{ text: answer.text.slice(half) }]);
    }
    for (const call of calls) chunks.push([call]);
    const events = chunks.map((parts, i) => wrap(parts, i === chunks.length - 1));
    if (events.length === 0) events.push(wrap(undefined, true));
    if (/[?&]alt=sse/.test(request.path)) return { kind: 'stream', events: events.map((event) => JSON.stringify(event)) };
    return { kind: 'chunks', contentType: 'application/json; charset=UTF-8', chunks: events.map((event, i) => `${i === 0 ? '[' : ',\r\n'}${JSON.stringify(event)}${i === events.length - 1 ? ']' : ''}`) };
  },
};

export const skips: Skip[] = [];

export const client = geminiClient;
export const upstream = geminiUpstream;
