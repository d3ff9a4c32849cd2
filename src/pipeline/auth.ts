// Client keys: compared as SHA-256 digests in constant time, so neither the key's length nor its
// content leaks through timing. Keys are hashed once per config load; a key that matched is
// remembered (bounded), so the callers' own keys cost a map lookup, not a SHA-256, per request.
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { KeyPolicy } from '../governance/policy.ts';
import { clientKeyId } from '../util/client-key-id.ts';
import { queryKey } from '../util/query-key.ts';

function digest(key: string): Buffer {
  // the one-shot form: half the cost of createHash().update().digest() per request
  return hash('sha256', key, 'buffer');
}

export interface ClientIdentity {
  /** A non-secret label for logs: `key-` and the first 8 hex digits of the key's digest. */
  keyId: string;
  /** The key's name, team and limits (a named key of the YAML); undefined for a plain key. */
  policy: KeyPolicy | undefined;
}

const anonymous: ClientIdentity = Object.freeze({ keyId: '', policy: undefined });

/** Accepted keys remembered; past this the memory is cleared (keys only enter it by matching). */
const ACCEPTED_MAX = 256;

export class ClientAuth {
  private readonly digests: Buffer[];
  private readonly ids: string[];
  private readonly policies: readonly (KeyPolicy | undefined)[];
  /**
   * Presented strings that matched, with their identity. Only a correct key can enter, so a
   * guesser never finds one here; what a lookup's timing could tell (that a key is valid) the
   * answer says anyway.
   */
  private readonly accepted = new Map<string, ClientIdentity>();

  /** `policies`: each key's policy, in the order of `keys` (governance/key-policies.ts). */
  constructor(keys: readonly string[], policies: readonly (KeyPolicy | undefined)[] = []) {
    this.digests = keys.map(digest);
    this.ids = keys.map(clientKeyId);
    this.policies = policies;
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  /** Finds the key in `Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `?key=`. */
  static presentedKey(headers: IncomingHttpHeaders, query: string): string | undefined {
    const authorization = headers.authorization;
    if (authorization !== undefined) {
      const space = authorization.indexOf(' ');
      if (space > 0 && authorization.slice(0, space).toLowerCase() === 'bearer') return authorization.slice(space + 1).trim();
    }
    const apiKey = headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey;
    const googKey = headers['x-goog-api-key'];
    if (typeof googKey === 'string' && googKey.length > 0) return googKey;
    // decoded as providers decode it when they drop it from a forwarded query (src/util/query-key.ts)
    return queryKey(query);
  }

  /** Returns the caller's identity or throws 401. */
  authenticate(headers: IncomingHttpHeaders, query: string): ClientIdentity {
    if (this.digests.length === 0) return anonymous;
    const key = ClientAuth.presentedKey(headers, query);
    if (key === undefined) {
      throw new GatewayError(ErrorCode.missingKey, 'Missing API key: send it as "Authorization: Bearer <key>", "x-api-key", "x-goog-api-key" or "?key=".', {
        status: 401, origin: 'downstream', errorClass: 'client-error',
      });
    }
    const known = this.accepted.get(key);
    if (known !== undefined) return known;
    const presented = digest(key);
    let match = -1;
    for (let i = 0; i < this.digests.length; i++) {
      // every configured key is compared, so the time does not depend on which one matched
      if (timingSafeEqual(presented, this.digests[i]!) && match < 0) match = i;
    }
    if (match < 0) {
      throw new GatewayError(ErrorCode.invalidKey, 'Invalid API key.', { status: 401, origin: 'downstream', errorClass: 'client-error' });
    }
    const identity: ClientIdentity = Object.freeze({ keyId: this.ids[match]!, policy: this.policies[match] });
    if (this.accepted.size >= ACCEPTED_MAX) this.accepted.clear();
    this.accepted.set(key, identity);
    return identity;
  }
}
