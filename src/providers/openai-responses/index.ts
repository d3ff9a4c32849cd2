// STUB — replaced by the openai-responses provider.
import type { ProviderAdapter } from '../../canonical/adapters.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';

export const openaiResponsesProvider: ProviderAdapter = {
  dialect: 'openai-responses',
  mediaUrls: 'native',
  nativeWires: new Set(),
  passThroughPath: () => { throw new Error('not implemented'); },
  forwardHeaders: () => [],
  modelListPath: '/models',
  decodeModelList: () => [],
  decodeError: (status, body, headers, provider) => classifyUpstreamError(status, body.toString('utf8').slice(0, 500), undefined, provider, headers),
};
