export type * from './request.ts';
export type * from './response.ts';
export type * from './usage.ts';
export type * from './stream.ts';
export { GatewayError, ErrorCode } from './errors.ts';
export type { ErrorInfo, ErrorClass, ErrorOrigin, GatewayErrorInit, ErrorCodeValue } from './errors.ts';
export type * from './embeddings.ts';
export type * from './adapters.ts';
