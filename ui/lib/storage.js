// Whether the gateway records usage and keeps keys (storage.enabled in its effective config): the
// Usage and Keys pages ask this first, so a gateway without storage gets an explanation, not
// failed requests.
import { api } from './api.js';

/** @param {AbortSignal} [signal] @returns {Promise<boolean>} */
export function storageEnabled(signal) {
  return api('/v0/management/config', { signal }).then((answer) => answer?.config?.storage?.enabled !== false);
}

export const STORAGE_OFF = 'Usage recording and the key store are off on this gateway (storage.enabled: false in the config): there is nothing to show here.';
