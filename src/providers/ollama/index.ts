// STUB — replaced by the ollama provider.
import type { ProviderAdapter } from '../../canonical/adapters.ts';
import { classifyUpstreamError } from '../../upstream/classify.ts';

export const ollamaProvider: ProviderAdapter = {
  dialect: 'ollama',
  mediaUrls: 'native',
  nativeWires: new Set(),
  passThroughPath: () => { throw new Error('not implemented'); },
  forwardHeaders: () => [],
  modelListPath: '/models',
  decodeModelList: () => [],
  decodeError: (status, body, headers, provider) => classifyUpstreamError(status, body.toString('utf8').slice(0, 500), undefined, provider, headers),
};
