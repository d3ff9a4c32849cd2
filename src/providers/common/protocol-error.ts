// The error of an upstream answer the gateway cannot read, shared by every provider's decoders.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';

/** The provider's answer (or a stream event of it) is not what its dialect promises; `what` says how. */
export function protocolError(what: string): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `The provider sent a malformed answer: ${what}.`, { status: 502, origin: 'upstream', errorClass: 'gateway-error' });
}
