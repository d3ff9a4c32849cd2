// STUB — replaced by the Anthropic provider (x-api-key, anthropic-version, Messages API).
import type { ProviderAdapter } from '../../canonical/adapters.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';

export const anthropicProvider: ProviderAdapter = {
  dialect: 'anthropic',
  mediaUrls: 'native',
  nativeWires: new Set(),
  passThroughPath: () => { throw new Error('not implemented'); },
  forwardHeaders: () => [],
  modelListPath: '/models',
  decodeModelList: () => [],
  decodeError: (status, body, headers, provider) => classifyUpstreamError(status, body.toString('utf8').slice(0, 500), undefined, provider, headers),
};
