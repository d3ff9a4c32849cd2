// One endpoint = one base URL with its credentials and one undici Pool. Everything that depends
// only on config (origin, path prefix, auth header values, pool options) is computed here once.
import { Pool } from '../util/undici.ts';
import { ACCEPT_IDENTITY } from './content-coding.ts';
import type { AuthStyle, PoolSettings, TimeoutSettings } from '../config/types.ts';

export interface EndpointOptions {
  provider: string;
  baseUrl: string;
  apiKeys: readonly string[];
  auth: AuthStyle;
  headers: Readonly<Record<string, string>>;
  timeouts: TimeoutSettings;
  pool: PoolSettings;
}

export class Endpoint {
  readonly provider: string;
  readonly origin: string;
  /** Path of the base URL without a trailing slash, e.g. `/v1`; prepended to operation paths. */
  readonly basePath: string;
  readonly timeouts: TimeoutSettings;
  readonly pool: Pool;
  /** Static request headers (extra headers from config) as a flat name/value list. */
  readonly staticHeaders: readonly string[];
  private readonly authValues: readonly string[];
  private readonly authHeader: string;
  private closed = false;

  constructor(options: EndpointOptions) {
    const url = new URL(options.baseUrl);
    this.provider = options.provider;
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeouts = options.timeouts;
    this.authHeader = options.auth.header;
    this.authValues = options.apiKeys.map((key) => options.auth.prefix + key);
    const flat: string[] = [];
    for (const [name, value] of Object.entries(options.headers)) flat.push(name.toLowerCase(), value);
    // identity unless the operator configured another accept-encoding (then decoded on arrival)
    if (!Object.keys(options.headers).some((name) => name.toLowerCase() === ACCEPT_IDENTITY[0])) flat.push(...ACCEPT_IDENTITY);
    this.staticHeaders = flat;
    this.pool = new Pool(this.origin, {
      connections: options.pool.connections > 0 ? options.pool.connections : null,
      pipelining: 1,
      keepAliveTimeout: options.pool.keepAliveMs,
      // A server's Keep-Alive hint may lower our idle timeout but never raise it above ours.
      keepAliveMaxTimeout: options.pool.keepAliveMs,
      headersTimeout: options.timeouts.firstByteMs,
      bodyTimeout: options.timeouts.idleMs,
      connect: { timeout: options.timeouts.connectMs, noDelay: true, keepAlive: true },
    });
  }

  /** Appends the auth header for key `index` (chosen by routing: health and key strategy) to `headers`. */
  appendAuth(headers: string[], index: number): void {
    const count = this.authValues.length;
    if (count === 0) return;
    headers.push(this.authHeader, this.authValues[index % count]!);
  }

  get keyCount(): number {
    return this.authValues.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Lets in-flight requests finish, then closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }

  async destroy(): Promise<void> {
    this.closed = true;
    await this.pool.destroy();
  }
}
