// The OpenAI Responses API as a provider: `/v1/responses` requests pass through byte for byte;
// every other surface is translated into Responses requests (for models served only there,
// such as codex models) and the answers back.
import type { ProviderAdapter, SurfaceRequest, Wire } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { decodeResponsesResponse, usageFrom } from './decode-response.ts';
import { ResponsesStreamDecoder } from './decode-stream.ts';
import { encodeResponsesRequest } from './encode-request.ts';
import { decodeResponsesError } from './errors.ts';
import { decodeDataModelList } from '../common/model-list.ts';

export const openaiResponsesProvider: ProviderAdapter = {
  dialect: 'openai-responses',
  usage: { key: '"usage"', from: usageFrom },
  mediaUrls: 'native',
  nativeWires: new Set<Wire>(['openai-responses']),
  reencodes: (wire: Wire) => wire === 'openai-responses',
  passThroughPath(_wire: Wire): string {
    return '/responses';
  },
  forwardHeaders(_request: SurfaceRequest): string[] {
    return [];
  },
  modelListPath: '/models',
  decodeModelList: decodeDataModelList,
  decodeError: decodeResponsesError,
  chat: {
    encodeRequest: encodeResponsesRequest,
    decodeResponse: decodeResponsesResponse,
    createStreamDecoder: (request: CanonicalRequest) => new ResponsesStreamDecoder(request),
  },
};
