// One chat turn through the gateway with each dialect's real client SDK (openai for Chat
// Completions and Responses, @anthropic-ai/sdk, @google/genai, ollama), streamed or whole, read
// into one dialect-neutral outcome: the text, or the error the SDK raised with its status (and
// whether it came before the answer's head or as an event after it). For tests that must not
// depend on how a dialect spells things.
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';

export type Dialect = 'openai-chat' | 'openai-responses' | 'anthropic' | 'gemini' | 'ollama';
export const DIALECTS: readonly Dialect[] = ['openai-chat', 'openai-responses', 'anthropic', 'gemini', 'ollama'];

export interface ChatInput {
  system?: string;
  /** Alternating user/assistant turns, the last a user one. */
  turns: { role: 'user' | 'assistant'; text: string }[];
  /** Extra request fields in the dialect's own shape (e.g. tools). */
  extra?: Record<string, unknown>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface ChatOutcome {
  /** 200, or the HTTP status of the error answer (0 when the error came inside a 200 stream). */
  status: number;
  text: string;
  /** The error the SDK raised: before the head (status > 0) or mid-stream (status 0). */
  error?: { message: string; status: number };
  /** The answer's model, as the dialect reports it (whole answers). */
  model?: string;
}

const KEY = 'sk-e2e-unused-client-key';

export class SdkClients {
  private readonly openai: OpenAI;
  private readonly anthropic: Anthropic;
  private readonly gemini: GoogleGenAI;
  private readonly ollama: Ollama;

  constructor(gatewayUrl: string) {
    this.openai = new OpenAI({ baseURL: `${gatewayUrl}/v1`, apiKey: KEY, maxRetries: 0 });
    this.anthropic = new Anthropic({ baseURL: gatewayUrl, apiKey: KEY, maxRetries: 0 });
    this.gemini = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: gatewayUrl, retryOptions: { attempts: 1 } } });
    this.ollama = new Ollama({ host: gatewayUrl });
  }

  /** One turn; an SDK error becomes the outcome's `error`, never a throw. */
  async chat(dialect: Dialect, model: string, input: ChatInput, stream: boolean): Promise<ChatOutcome> {
    const outcome: ChatOutcome = { status: 200, text: '' };
    try {
      await this.run(dialect, model, input, stream, outcome);
    } catch (error) {
      const failure = error as { status?: number; status_code?: number; message?: string };
      const status = failure.status ?? failure.status_code ?? 0;
      // mid-stream errors: the head said 200 and some text may have come
      outcome.status = typeof status === 'number' && outcome.text === '' ? status : 0;
      outcome.error = { message: String(failure.message ?? error), status: typeof status === 'number' ? status : 0 };
    }
    return outcome;
  }

  private async run(dialect: Dialect, model: string, input: ChatInput, stream: boolean, outcome: ChatOutcome): Promise<void> {
    const options = { ...(input.signal !== undefined ? { signal: input.signal } : {}), ...(input.headers !== undefined ? { headers: input.headers } : {}) };
    switch (dialect) {
      case 'openai-chat': {
        const messages = [...(input.system !== undefined ? [{ role: 'system' as const, content: input.system }] : []), ...input.turns.map((turn) => ({ role: turn.role, content: turn.text }))];
        if (!stream) {
          const answer = await this.openai.chat.completions.create({ model, messages, ...input.extra } as OpenAI.ChatCompletionCreateParamsNonStreaming, options);
          outcome.text = answer.choices[0]?.message.content ?? '';
          outcome.model = answer.model;
          return;
        }
        const chunks = await this.openai.chat.completions.create({ model, messages, stream: true, ...input.extra } as OpenAI.ChatCompletionCreateParamsStreaming, options);
        for await (const chunk of chunks) outcome.text += chunk.choices[0]?.delta.content ?? '';
        return;
      }
      case 'openai-responses': {
        const request = {
          model, ...(input.system !== undefined ? { instructions: input.system } : {}),
          input: input.turns.map((turn) => ({ role: turn.role, content: turn.text })), ...input.extra,
        };
        if (!stream) {
          const answer = await this.openai.responses.create(request as OpenAI.Responses.ResponseCreateParamsNonStreaming, options);
          outcome.text = answer.output_text;
          outcome.model = answer.model;
          return;
        }
        const events = await this.openai.responses.create({ ...request, stream: true } as OpenAI.Responses.ResponseCreateParamsStreaming, options);
        for await (const event of events) {
          if (event.type === 'response.output_text.delta') outcome.text += event.delta;
          else if (event.type === 'error') throw Object.assign(new Error(event.message), { status: 0 });
          else if (event.type === 'response.failed') throw Object.assign(new Error(event.response.error?.message ?? 'response.failed'), { status: 0 });
        }
        return;
      }
      case 'anthropic': {
        const request = {
          model, max_tokens: 256, ...(input.system !== undefined ? { system: input.system } : {}),
          messages: input.turns.map((turn) => ({ role: turn.role, content: turn.text })), ...input.extra,
        };
        if (!stream) {
          const answer = await this.anthropic.messages.create(request as Anthropic.MessageCreateParamsNonStreaming, options);
          outcome.text = answer.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
          outcome.model = answer.model;
          return;
        }
        const events = await this.anthropic.messages.create({ ...request, stream: true } as Anthropic.MessageCreateParamsStreaming, options);
        for await (const event of events) {
          if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') outcome.text += event.delta.text;
        }
        return;
      }
      case 'gemini': {
        const request = {
          model,
          contents: input.turns.map((turn) => ({ role: turn.role === 'assistant' ? 'model' : 'user', parts: [{ text: turn.text }] })),
          config: {
            ...(input.system !== undefined ? { systemInstruction: input.system } : {}),
            ...(input.signal !== undefined ? { abortSignal: input.signal } : {}),
            ...(input.headers !== undefined ? { httpOptions: { headers: input.headers } } : {}),
            ...input.extra,
          },
        };
        if (!stream) {
          const answer = await this.gemini.models.generateContent(request);
          outcome.text = answer.text ?? '';
          outcome.model = answer.modelVersion;
          return;
        }
        for await (const chunk of await this.gemini.models.generateContentStream(request)) outcome.text += chunk.text ?? '';
        return;
      }
      case 'ollama': {
        const messages = [...(input.system !== undefined ? [{ role: 'system', content: input.system }] : []), ...input.turns.map((turn) => ({ role: turn.role, content: turn.text }))];
        const client = input.headers !== undefined || input.signal !== undefined ? this.ollamaWith(input) : this.ollama;
        if (!stream) {
          const answer = await client.chat({ model, messages, stream: false, ...input.extra });
          outcome.text = answer.message.content;
          outcome.model = answer.model;
          return;
        }
        for await (const part of await client.chat({ model, messages, stream: true, ...input.extra })) {
          outcome.text += part.message.content;
          if ((part as { error?: string }).error !== undefined) throw Object.assign(new Error((part as { error?: string }).error), { status: 0 });
        }
        return;
      }
      default: {
        const unknown: never = dialect;
        throw new Error(`unknown dialect ${String(unknown)}`);
      }
    }
  }

  private ollamaWith(input: ChatInput): Ollama {
    const host = (this.ollama as unknown as { config: { host: string } }).config.host;
    return new Ollama({
      host,
      ...(input.headers !== undefined ? { headers: input.headers } : {}),
      ...(input.signal !== undefined ? { fetch: (url: string | URL | Request, init?: RequestInit) => fetch(url, { ...init, signal: input.signal }) } : {}),
    } as ConstructorParameters<typeof Ollama>[0]);
  }
}
