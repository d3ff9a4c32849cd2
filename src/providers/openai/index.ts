// The OpenAI-compatible provider family: every preset in ../presets speaks this dialect.
import type { ProviderAdapter, SurfaceRequest, Wire } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { ChatStreamDecoder, decodeChatResponse } from './chat-decode.ts';
import { encodeChatRequest } from './chat-encode.ts';
import { openaiEmbeddingsCodec } from './embeddings.ts';
import { decodeOpenAIError } from './errors.ts';
import { decodeDataModelList } from '../common/model-list.ts';
import { passThroughUsageFrom } from './usage.ts';

const paths: Partial<Record<Wire, string>> = {
  'openai-chat': '/chat/completions',
  'openai-completions': '/completions',
  'openai-embeddings': '/embeddings',
  'openai-responses': '/responses',
  'openai-image-generations': '/images/generations',
  'openai-image-edits': '/images/edits',
  'openai-transcriptions': '/audio/transcriptions',
  'openai-translations': '/audio/translations',
  'openai-speech': '/audio/speech',
  'openai-moderations': '/moderations',
  'openai-rerank': '/rerank',
};

export const openaiProvider: ProviderAdapter = {
  dialect: 'openai',
  usage: { key: '"usage"', from: passThroughUsageFrom },
  mediaUrls: 'native',
  nativeWires: new Set<Wire>(Object.keys(paths) as Wire[]),
  // the encoder asks a stream for its usage chunk: only a caller who asked for one may get it as it comes
  reencodes: (wire: Wire, request: CanonicalRequest) => wire === 'openai-chat' && (!request.stream || request.surfaceHints?.['includeUsage'] === true),
  passThroughPath(wire: Wire): string {
    return paths[wire]!;
  },
  forwardHeaders(_request: SurfaceRequest): string[] {
    return [];
  },
  modelListPath: '/models',
  decodeModelList: decodeDataModelList,
  decodeError: decodeOpenAIError,
  chat: {
    encodeRequest: encodeChatRequest,
    decodeResponse: decodeChatResponse,
    createStreamDecoder: (_request: CanonicalRequest) => new ChatStreamDecoder(),
  },
  embeddings: openaiEmbeddingsCodec,
};
