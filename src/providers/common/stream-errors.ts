// The errors every provider stream decoder may end a stream with, whatever its framing.
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { frameLimitText } from '../../streaming/frame-limit.ts';

export { incompleteStreamError } from '../../upstream/errors.ts';

/**
 * A line or event that never ended within the frame limit (the pass-through path's bound too):
 * the stream is ended rather than buffered without bound. Like any broken stream it may be tried
 * elsewhere when nothing reached the client yet.
 */
export function frameTooLargeError(limit: number): GatewayError {
  return new GatewayError(ErrorCode.upstreamProtocol, `The provider sent a stream line or event larger than ${frameLimitText(limit)} (the gateway's frame limit); the stream was ended.`, {
    status: 502, origin: 'upstream', errorClass: 'gateway-error',
  });
}
