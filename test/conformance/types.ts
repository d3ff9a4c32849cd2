// The shared conformance suite's contracts. Every client dialect (a surface, spoken the way real
// clients speak it) and every upstream dialect (a provider, answered the way the real service
// answers) implements one of these; the matrix runs every client × upstream × scenario ×
// stream mode through the real gateway.
import type { Behavior, RecordedRequest } from '../helpers/mock-upstream.ts';

export interface ToolSpec { name: string; description: string; parameters: Record<string, unknown> }
export interface ToolCallSpec { id: string; name: string; args: Record<string, unknown> }

export type InputMessage =
  | { role: 'user'; text: string; image?: { mediaType: string; base64: string } }
  | { role: 'assistant'; text?: string; toolCalls?: ToolCallSpec[]; reasoning?: { text: string; signature: string } }
  | { role: 'tool'; toolCallId: string; name: string; result: string; isError?: boolean };

/** What the caller asks, dialect-neutral. */
export interface ScenarioInput {
  system?: string;
  messages: InputMessage[];
  tools?: ToolSpec[];
  toolChoice?: 'auto' | 'required' | { name: string };
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  reasoning?: { budgetTokens: number };
}

/** What the "model" answers, dialect-neutral. */
export interface ScenarioAnswer {
  reasoning?: { text: string; signature: string };
  text?: string;
  toolCalls?: ToolCallSpec[];
  finish: 'stop' | 'length' | 'tool-calls';
  usage: { input: number; output: number; cached?: number; reasoning?: number };
}

export interface Scenario {
  name: string;
  input: ScenarioInput;
  /** The upstream's answer; absent when the upstream answers with `error`. */
  answer?: ScenarioAnswer;
  /** The upstream fails: status and message (in the upstream's own error shape). */
  error?: { status: number; message: string };
}

/** What a client dialect read from the gateway's answer. */
export interface Outcome {
  status: number;
  text: string;
  reasoning: string;
  signatures: string[];
  toolCalls: { id?: string; name: string; args: unknown }[];
  finish?: 'stop' | 'length' | 'tool-calls' | 'other';
  usage?: { input: number; output: number; cached?: number; reasoning?: number };
  /** For error scenarios: the message the client got (in its dialect's error shape). */
  errorMessage?: string;
}

/** What an upstream dialect saw the gateway send, dialect-neutral. */
export interface Received {
  model: string;
  stream: boolean;
  system?: string;
  /** Texts of user messages, in order. */
  userTexts: string[];
  images: { mediaType: string; base64: string }[];
  assistantTexts: string[];
  toolCalls: { id?: string; name: string; args: unknown }[];
  toolResults: { id?: string; name?: string; content: string; isError?: boolean }[];
  reasoningSignatures: string[];
  tools: string[];
  toolChoice?: 'auto' | 'required' | { name: string } | 'none';
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  jsonSchemaName?: string;
  reasoningBudget?: number;
}

export interface ClientRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** Capabilities that decide which checks apply; the skip list explains each gap. */
export interface DialectTraits {
  /** Carries tool-call ids end to end (Gemini does not). */
  toolCallIds: boolean;
  /** Carries thinking text. */
  reasoning: boolean;
  /** Carries thinking signatures verbatim. */
  signatures: boolean;
  /** Reports cached input tokens. */
  cachedTokens: boolean;
  /** Reports reasoning tokens. */
  reasoningTokens: boolean;
  /** Has tool-result error flags. */
  toolErrorFlag: boolean;
  /** Accepts images. */
  images: boolean;
  /** Structured output with a schema name. */
  jsonSchemaName: boolean;
  /** Reasoning budget in tokens (not just an effort level). */
  reasoningBudget: boolean;
  /** Stop sequences. */
  stop: boolean;
  /** Tool choice (auto/required/named); absent means true. Ollama has none. */
  toolChoice?: boolean;
}

export interface ClientDialect {
  /** The surface name, e.g. 'openai-chat'. */
  name: string;
  traits: DialectTraits;
  request(scenario: Scenario, model: string, stream: boolean): ClientRequest;
  /** Parses the answer; throws when it is not well-formed in this dialect (event order, shapes). */
  parse(status: number, headers: Headers, body: string, stream: boolean): Outcome;
}

export interface UpstreamDialect {
  /** The provider `type` in the config, e.g. 'openai', 'anthropic'. */
  type: string;
  traits: DialectTraits;
  /** How the provider is configured against the mock (base URL suffix, capabilities). */
  basePath: string;
  /** The scenario a recorded request asks for (from its model name). */
  scenarioOf(request: RecordedRequest): string;
  respond(scenario: Scenario, request: RecordedRequest): Behavior;
  /** Decodes what the gateway sent into the neutral summary. */
  received(request: RecordedRequest): Received;
}
