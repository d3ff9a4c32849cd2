// Client keys: the YAML's `auth.keys`, compared as SHA-256 digests in constant time, so neither
// the key's length nor its content leaks through timing; and the gateway's own keys (`sy-…`, the
// key store), looked up by the same digest — a Map lookup on a hash of 256 random bits tells a
// guesser nothing. Keys are hashed once per config load; a key that matched is remembered
// (bounded), so the callers' own keys cost a map lookup, not a SHA-256, per request.
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { KeyStore, StoreKeyEntry } from '../governance/key-store.ts';
import type { KeyPolicy } from '../governance/policy.ts';
import { clientKeyId } from '../util/client-key-id.ts';
import { queryKey } from '../util/query-key.ts';

export function digest(key: string): Buffer {
  // the one-shot form: half the cost of createHash().update().digest() per request
  return hash('sha256', key, 'buffer');
}

export interface ClientIdentity {
  /** A non-secret label for logs: `key-` and the first 8 hex digits of the key's digest, or a store key's id (`vk-…`). */
  keyId: string;
  /** The key's name, team and limits (frozen): a named key of the YAML, or a store key with limits; undefined for a plain key. */
  policy: KeyPolicy | undefined;
  /** The store's entry, re-checked (disabled, expired) each time the memory answers. */
  entry: StoreKeyEntry | undefined;
}

const anonymous: ClientIdentity = Object.freeze({ keyId: '', policy: undefined, entry: undefined });

/** Accepted keys remembered; past this the memory is cleared (keys only enter it by matching). */
const ACCEPTED_MAX = 256;

function unauthorized(code: string, message: string): GatewayError {
  return new GatewayError(code, message, { status: 401, origin: 'downstream', errorClass: 'client-error' });
}

export class ClientAuth {
  private readonly digests: Buffer[];
  private readonly ids: string[];
  private readonly policies: readonly (KeyPolicy | undefined)[];
  private readonly store: KeyStore | undefined;
  /**
   * Presented strings that matched, with their identity. Only a correct key can enter, so a
   * guesser never finds one here; what a lookup's timing could tell (that a key is valid) the
   * answer says anyway. Cleared when the key store changes (a key disabled, rotated, deleted).
   */
  private readonly accepted = new Map<string, ClientIdentity>();
  private generation = 0;
  /**
   * Whether a caller without a key is let in while no key exists anywhere (no `auth.keys`, an empty
   * key store): on a loopback listener, or with `auth.allow_unauthenticated`. Elsewhere a gateway
   * whose keys are all made through the management API refuses everyone until the first exists.
   */
  private readonly openWhenKeyless: boolean;

  /** `policies`: each key's policy, in the order of `keys` (governance/key-policies.ts). */
  constructor(keys: readonly string[], policies: readonly (KeyPolicy | undefined)[] = [], store?: KeyStore, openWhenKeyless = true) {
    this.digests = keys.map(digest);
    this.ids = keys.map(clientKeyId);
    this.policies = policies;
    this.store = store;
    this.openWhenKeyless = openWhenKeyless;
  }

  /** Client authentication can apply: keys in the config, a key store (which may gain keys at any time), or a listener that is never open. */
  get enabled(): boolean {
    return this.digests.length > 0 || this.store !== undefined || !this.openWhenKeyless;
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
    const store = this.store;
    // no key anywhere (a store read and empty): authentication is off, as with no `auth.keys` — on
    // loopback. A store not read yet may hold keys: a caller needs one (answered 503 until it is read)
    if (this.digests.length === 0 && this.openWhenKeyless && (store === undefined || (store.loaded && store.size === 0))) return anonymous;
    const key = ClientAuth.presentedKey(headers, query);
    if (key === undefined) {
      throw unauthorized(ErrorCode.missingKey, 'Missing API key: send it as "Authorization: Bearer <key>", "x-api-key", "x-goog-api-key" or "?key=".');
    }
    if (store !== undefined && store.generation !== this.generation) {
      this.accepted.clear();
      this.generation = store.generation;
    }
    const known = this.accepted.get(key);
    if (known !== undefined) return known.entry === undefined ? known : checked(known.entry, known);
    const presented = digest(key);
    let match = -1;
    for (let i = 0; i < this.digests.length; i++) {
      // every configured key is compared, so the time does not depend on which one matched
      if (timingSafeEqual(presented, this.digests[i]!) && match < 0) match = i;
    }
    let identity: ClientIdentity;
    if (match >= 0) identity = Object.freeze({ keyId: this.ids[match]!, policy: this.policies[match], entry: undefined });
    else {
      const entry = store?.find(presented.toString('hex'));
      if (entry === undefined) {
        if (store !== undefined && !store.loaded) {
          throw new GatewayError(ErrorCode.keyStoreUnavailable, `The key store (${store.database.kind}) has not been read yet, so this key cannot be checked; try again shortly.`, {
            status: 503, origin: 'gateway', errorClass: 'none', retryAfterSeconds: 5,
          });
        }
        throw unauthorized(ErrorCode.invalidKey, 'Invalid API key.');
      }
      identity = checked(entry, Object.freeze({ keyId: entry.id, policy: entry.policy, entry }));
    }
    if (this.accepted.size >= ACCEPTED_MAX) this.accepted.clear();
    this.accepted.set(key, identity);
    return identity;
  }
}

/** A store key that is disabled or past its expiry is refused, naming why (never the secret). */
function checked(entry: StoreKeyEntry, identity: ClientIdentity): ClientIdentity {
  if (entry.disabled) throw unauthorized(ErrorCode.keyDisabled, `API key '${entry.name}' (${entry.id}) is disabled; ask the gateway's operator to enable it.`);
  if (entry.expiresAt !== 0 && Date.now() >= entry.expiresAt) {
    throw unauthorized(ErrorCode.keyExpired, `API key '${entry.name}' (${entry.id}) expired at ${new Date(entry.expiresAt).toISOString()}; ask the gateway's operator for a new one.`);
  }
  return identity;
}
