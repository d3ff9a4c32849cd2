// Gemini countTokens ↔ canonical: the request is either bare `contents` or a whole
// `generateContentRequest` (system instruction and tools count too).
import type { CountTokensSurfaceCodec, SurfaceRequest } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { decodeGenerateRequest } from './decode-request.ts';
import { field } from './fields.ts';
import { isObject } from '../../util/json-value.ts';
import { requestObject } from './inspect.ts';

export const countTokensCodec: CountTokensSurfaceCodec = {
  decodeRequest(raw: unknown, request: SurfaceRequest): CanonicalRequest {
    const wrapped = field(requestObject(raw), 'generateContentRequest');
    return decodeGenerateRequest(isObject(wrapped) ? wrapped : raw, request, false);
  },
  encodeResponse(inputTokens: number): string {
    return JSON.stringify({ totalTokens: inputTokens });
  },
};
