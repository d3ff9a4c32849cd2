// Canonical request → Gemini countTokens, wrapped as a whole generateContentRequest so the system
// instruction and tool declarations are counted as they would be billed.
import type { CountTokensProviderCodec, ProviderContext, UpstreamRequest } from '../../canonical/adapters.ts';
import type { CanonicalRequest } from '../../canonical/request.ts';
import { countFrom, objectFrom } from '../../util/json-value.ts';
import { encodeGenerateBody, modelPath, modelResource } from './encode-request.ts';
import { protocolError } from '../common/protocol-error.ts';

export const geminiCountTokensCodec: CountTokensProviderCodec = {
  encodeRequest(request: CanonicalRequest, model: string, provider: ProviderContext): UpstreamRequest {
    const { body, unsupported } = encodeGenerateBody(request, model, provider);
    const upstream: UpstreamRequest = { path: `${modelPath(model)}:countTokens`, headers: ['accept', 'application/json'], body: JSON.stringify({ generateContentRequest: { model: modelResource(model), ...body } }) };
    if (unsupported !== undefined) upstream.unsupported = unsupported;
    return upstream;
  },
  decodeResponse(raw: unknown): number {
    const total = countFrom(objectFrom(raw)?.totalTokens);
    if (total === undefined) throw protocolError('the countTokens answer has no totalTokens (a count)');
    return total;
  },
};
