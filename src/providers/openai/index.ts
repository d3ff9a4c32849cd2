// The OpenAI-compatible provider family: every preset in ../presets speaks this dialect.
import type { ProviderAdapter, SurfaceRequest, Wire } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { ChatStreamDecoder, decodeChatResponse, usageFrom } from './chat-decode.ts';
import { encodeChatRequest } from './chat-encode.ts';
import { openaiEmbeddingsCodec } from './embeddings.ts';
import { decodeOpenAIError } from './errors.ts';
import { decodeOpenAIModelList } from '../common/openai-family.ts';

const paths: Partial<Record<Wire, string>> = {
  'openai-chat': '/chat/completions',
  'openai-completions': '/completions',
  'openai-embeddings': '/embeddings',
  'openai-responses': '/responses',
};

export const openaiProvider: ProviderAdapter = {
  dialect: 'openai',
  usage: { key: '"usage"', from: usageFrom },
  mediaUrls: 'native',
  nativeWires: new Set<Wire>(['openai-chat', 'openai-completions', 'openai-embeddings', 'openai-responses']),
  passThroughPath(wire: Wire): string {
    return paths[wire]!;
  },
  forwardHeaders(_request: SurfaceRequest): string[] {
    return [];
  },
  modelListPath: '/models',
  decodeModelList: decodeOpenAIModelList,
  decodeError: decodeOpenAIError,
  chat: {
    encodeRequest: encodeChatRequest,
    decodeResponse: decodeChatResponse,
    createStreamDecoder: (_request: CanonicalRequest) => new ChatStreamDecoder(),
  },
  embeddings: openaiEmbeddingsCodec,
};
