// The Anthropic provider: the Messages API (x-api-key, anthropic-version from the preset).
// Same-dialect requests pass through as bytes with the client's anthropic-version and
// anthropic-beta headers and its query string (Claude Code's `?beta=true`); others are translated.
import type { ProviderAdapter, SurfaceRequest, Wire } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { decodeMessagesResponse, decodeTokenCount, usageFrom } from './decode-response.ts';
import { MessagesStreamDecoder } from './decode-stream.ts';
import { encodeCountTokensRequest, encodeMessagesRequest } from './encode-request.ts';
import { decodeAnthropicError } from './errors.ts';
import { withoutQueryKey } from '../../util/query-key.ts';
import { decodeDataModelList } from '../common/model-list.ts';

/** Client headers Anthropic acts on; a forwarded one overrides the provider's configured value. */
const FORWARDED = ['anthropic-version', 'anthropic-beta'] as const;

export function forwardAnthropicHeaders(request: SurfaceRequest): string[] {
  const out: string[] = [];
  for (const name of FORWARDED) {
    const value = request.headers[name];
    if (typeof value === 'string' && value.length > 0) out.push(name, value);
    else if (Array.isArray(value) && value.length > 0) out.push(name, value.join(','));
  }
  return out;
}

/** The client's query string (`beta=true`), without a gateway key sent as `?key=` (however encoded). */
export function upstreamQuery(query: string): string {
  return withoutQueryKey(query);
}

export const anthropicProvider: ProviderAdapter = {
  dialect: 'anthropic',
  usage: { key: '"usage"', from: usageFrom },
  mediaUrls: 'native',
  nativeWires: new Set<Wire>(['anthropic-messages', 'anthropic-count-tokens']),
  reencodes: (wire: Wire) => wire === 'anthropic-messages',
  passThroughPath(wire: Wire, _model: string, request: SurfaceRequest): string {
    const path = wire === 'anthropic-count-tokens' ? '/messages/count_tokens' : '/messages';
    const query = upstreamQuery(request.query);
    return query.length > 0 ? `${path}?${query}` : path;
  },
  forwardHeaders: forwardAnthropicHeaders,
  // Anthropic pages its list 20 at a time by default
  modelListPath: '/models?limit=1000',
  decodeModelList: decodeDataModelList,
  decodeError: decodeAnthropicError,
  chat: {
    encodeRequest: encodeMessagesRequest,
    decodeResponse: decodeMessagesResponse,
    createStreamDecoder: (_request: CanonicalRequest) => new MessagesStreamDecoder(),
  },
  countTokens: {
    encodeRequest: encodeCountTokensRequest,
    decodeResponse: decodeTokenCount,
  },
};
