// The secrets of the gateway's own keys: `sy-` and 256 random bits (base64url), kept only as a
// SHA-256 digest. A digest of 256 random bits needs no salt or slow hash: nothing can be guessed.
import { hash, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'sy-';
/** Characters of a secret kept in the clear (`sy-` and 4 more): enough to tell keys apart in a list. */
const SHOWN = SECRET_PREFIX.length + 4;

export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** The digest a key is stored and looked up by (hex). */
export function secretHash(secret: string): string {
  return hash('sha256', secret, 'hex');
}

export function secretPrefix(secret: string): string {
  return secret.slice(0, SHOWN);
}

/** How a key is shown after creation: its prefix and an ellipsis, never more. */
export function maskedSecret(prefix: string): string {
  return `${prefix}…`;
}

/** A fresh id with a kind prefix: `vk-` (keys) or `team-`, and 16 random hex digits. */
export function newId(kind: 'vk' | 'team'): string {
  return `${kind}-${randomBytes(8).toString('hex')}`;
}
