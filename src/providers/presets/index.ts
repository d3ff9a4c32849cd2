// OpenAI-compatible vendors as data: a new vendor is an entry here, not a folder of code.
import type { AuthStyle, Dialect, ProviderCapabilities } from '../../config/types.ts';

export interface Preset {
  /** What the vendor is, for the banner and docs. */
  title: string;
  dialect: Dialect;
  /** Default base URL; empty when the user must give one (Azure). */
  baseUrl: string;
  /** Environment variables that hold the key, first found wins (zero-config). */
  keyEnv: string[];
  auth: AuthStyle;
  /** Model names and patterns served when the config lists none. */
  models: string[];
  /** Ask the server for its model list by default. */
  discover: boolean;
  /** A local server probed on its default port in zero-config mode. */
  local: boolean;
  capabilities: ProviderCapabilities;
  headers?: Record<string, string>;
}

const bearer: AuthStyle = { header: 'authorization', prefix: 'Bearer ' };
const full: ProviderCapabilities = { chat: true, completions: true, embeddings: true, responses: true };
const chatOnly: ProviderCapabilities = { chat: true, completions: false, embeddings: false, responses: false };
const chatEmbed: ProviderCapabilities = { chat: true, completions: true, embeddings: true, responses: false };
// The media and utility endpoints a vendor documents in OpenAI's shape (or, for rerank, the
// Cohere/Jina one); what is not listed is not routed there.
const openaiMedia = { images: true, imageEdits: true, transcriptions: true, translations: true, speech: true } as const;
const none: ProviderCapabilities = { chat: false, completions: false, embeddings: false, responses: false };

export const presets: Readonly<Record<string, Preset>> = Object.freeze({
  openai: {
    title: 'OpenAI', dialect: 'openai', baseUrl: 'https://api.openai.com/v1', keyEnv: ['OPENAI_API_KEY'],
    auth: bearer, discover: false, local: false, capabilities: { ...full, ...openaiMedia, moderations: true },
    models: ['gpt-*', 'chatgpt-*', 'o1*', 'o3*', 'o4*', 'codex-*', 'text-embedding-*', 'omni-moderation-*', 'text-moderation-*', 'dall-e-*', 'whisper-*', 'tts-*'],
  },
  openrouter: {
    title: 'OpenRouter', dialect: 'openai', baseUrl: 'https://openrouter.ai/api/v1', keyEnv: ['OPENROUTER_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: { ...chatOnly, completions: true, responses: true }, models: [],
  },
  groq: {
    title: 'Groq', dialect: 'openai', baseUrl: 'https://api.groq.com/openai/v1', keyEnv: ['GROQ_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: { ...chatOnly, responses: true, transcriptions: true, translations: true, speech: true }, models: [],
  },
  together: {
    title: 'Together AI', dialect: 'openai', baseUrl: 'https://api.together.xyz/v1', keyEnv: ['TOGETHER_API_KEY'],
    auth: bearer, discover: true, local: false,
    capabilities: { ...chatEmbed, images: true, transcriptions: true, translations: true, speech: true, rerank: true }, models: [],
  },
  mistral: {
    title: 'Mistral', dialect: 'openai', baseUrl: 'https://api.mistral.ai/v1', keyEnv: ['MISTRAL_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: { ...chatEmbed, completions: false, transcriptions: true, moderations: true },
    models: ['mistral-*', 'codestral-*', 'magistral-*', 'devstral-*', 'ministral-*', 'pixtral-*'],
  },
  deepseek: {
    title: 'DeepSeek', dialect: 'openai', baseUrl: 'https://api.deepseek.com/v1', keyEnv: ['DEEPSEEK_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: { ...chatOnly, completions: true }, models: ['deepseek-*'],
  },
  fireworks: {
    title: 'Fireworks AI', dialect: 'openai', baseUrl: 'https://api.fireworks.ai/inference/v1', keyEnv: ['FIREWORKS_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: chatEmbed, models: [],
  },
  xai: {
    title: 'xAI', dialect: 'openai', baseUrl: 'https://api.x.ai/v1', keyEnv: ['XAI_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: { ...chatOnly, responses: true, images: true }, models: ['grok-*'],
  },
  cerebras: {
    title: 'Cerebras', dialect: 'openai', baseUrl: 'https://api.cerebras.ai/v1', keyEnv: ['CEREBRAS_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: { ...chatOnly, completions: true }, models: [],
  },
  deepinfra: {
    title: 'DeepInfra', dialect: 'openai', baseUrl: 'https://api.deepinfra.com/v1/openai', keyEnv: ['DEEPINFRA_API_KEY'],
    auth: bearer, discover: true, local: false, capabilities: { ...chatEmbed, images: true, transcriptions: true }, models: [],
  },
  anthropic: {
    title: 'Anthropic', dialect: 'anthropic', baseUrl: 'https://api.anthropic.com/v1', keyEnv: ['ANTHROPIC_API_KEY'],
    auth: { header: 'x-api-key', prefix: '' }, headers: { 'anthropic-version': '2023-06-01' }, discover: false, local: false,
    capabilities: chatOnly, models: ['claude-*'],
  },
  gemini: {
    title: 'Google Gemini', dialect: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com/v1beta', keyEnv: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    auth: { header: 'x-goog-api-key', prefix: '' }, discover: false, local: false,
    capabilities: { ...chatOnly, embeddings: true }, models: ['gemini-*', 'gemma-*', 'text-embedding-*', 'embedding-*'],
  },
  ollama: {
    title: 'Ollama (native API)', dialect: 'ollama', baseUrl: 'http://127.0.0.1:11434', keyEnv: [],
    auth: bearer, discover: true, local: false, capabilities: { ...chatEmbed }, models: [],
  },
  'openai-responses': {
    title: 'OpenAI Responses API', dialect: 'openai-responses', baseUrl: 'https://api.openai.com/v1', keyEnv: [],
    auth: bearer, discover: false, local: false, capabilities: { chat: false, completions: false, embeddings: false, responses: true }, models: [],
  },
  'anthropic-openai': {
    title: 'Anthropic (OpenAI-compatible endpoint)', dialect: 'openai', baseUrl: 'https://api.anthropic.com/v1', keyEnv: [],
    auth: bearer, discover: false, local: false, capabilities: chatOnly, models: ['claude-*'],
  },
  'gemini-openai': {
    title: 'Google Gemini (OpenAI-compatible endpoint)', dialect: 'openai', baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai',
    keyEnv: [], auth: bearer, discover: false, local: false,
    capabilities: { ...chatOnly, embeddings: true, images: true }, models: ['gemini-*', 'gemma-*', 'text-embedding-*', 'imagen-*'],
  },
  'azure-openai': {
    title: 'Azure OpenAI (v1 API)', dialect: 'openai', baseUrl: '', keyEnv: ['AZURE_OPENAI_API_KEY'],
    auth: { header: 'api-key', prefix: '' }, discover: false, local: false, capabilities: { ...full, ...openaiMedia }, models: [],
  },
  'ollama-openai': {
    title: 'Ollama (OpenAI-compatible endpoint)', dialect: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', keyEnv: [],
    auth: bearer, discover: true, local: true, capabilities: { ...chatEmbed, responses: true }, models: [],
  },
  lmstudio: {
    title: 'LM Studio', dialect: 'openai', baseUrl: 'http://127.0.0.1:1234/v1', keyEnv: [],
    auth: bearer, discover: true, local: true, capabilities: { ...chatEmbed, responses: true }, models: [],
  },
  llamacpp: {
    title: 'llama.cpp server', dialect: 'openai', baseUrl: 'http://127.0.0.1:8080/v1', keyEnv: [],
    auth: bearer, discover: true, local: true, capabilities: { ...chatEmbed, rerank: true }, models: [],
  },
  vllm: {
    title: 'vLLM', dialect: 'openai', baseUrl: 'http://127.0.0.1:8000/v1', keyEnv: ['VLLM_API_KEY'],
    auth: bearer, discover: true, local: false,
    capabilities: { ...chatEmbed, responses: true, transcriptions: true, translations: true, rerank: true }, models: [],
  },
  jina: {
    title: 'Jina AI (embeddings, rerank)', dialect: 'openai', baseUrl: 'https://api.jina.ai/v1', keyEnv: ['JINA_API_KEY'],
    auth: bearer, discover: false, local: false, capabilities: { ...none, embeddings: true, rerank: true },
    models: ['jina-reranker-*', 'jina-embeddings-*', 'jina-clip-*', 'jina-colbert-*'],
  },
  cohere: {
    // the v2 API; only its rerank endpoint has the shape the gateway passes through
    title: 'Cohere (rerank)', dialect: 'openai', baseUrl: 'https://api.cohere.com/v2', keyEnv: ['COHERE_API_KEY', 'CO_API_KEY'],
    auth: bearer, discover: false, local: false, capabilities: { ...none, rerank: true }, models: ['rerank-*'],
  },
} satisfies Record<string, Preset>);

/** Plain OpenAI-compatible server with nothing assumed (`type: openai` with a custom base_url). */
export const genericOpenAI: Preset = {
  title: 'OpenAI-compatible server', dialect: 'openai', baseUrl: '', keyEnv: [], auth: bearer,
  // most compatible servers have no /v1/responses: Responses requests are translated to chat
  // unless the config says `capabilities: { responses: true }`
  discover: false, local: false, capabilities: chatEmbed, models: [],
};
