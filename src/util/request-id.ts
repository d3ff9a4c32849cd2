import { randomUUID } from 'node:crypto';

const SAFE_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** Keeps a caller's x-request-id when it is safe to echo in a header, else makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && SAFE_ID.test(header)) return header;
  return randomUUID();
}
