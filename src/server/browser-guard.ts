// Keeps web pages in the user's browser from driving the gateway, which runs on their machine and
// holds their provider keys. Three checks, compiled from the config at load and run first on
// every request (a header lookup and a string compare each on the common path):
// - `Host` must name the gateway: an IP literal, `localhost` (and `*.localhost`), the bind host or
//   `server.allowed_hosts`. After DNS rebinding a page is same-origin with the gateway, but its
//   requests still carry the attacker's host name, so they are refused here.
// - A request from a page (`Origin`, or `Sec-Fetch-Site: cross-site|same-site`) must come from the
//   gateway's own origin or from `server.cors.allowed_origins`, which also get proper CORS answers
//   (preflight included). Browsers add `Origin` to every cross-origin POST, `no-cors` ones too.
// - JSON endpoints take `application/json` only (checked by the caller before reading the body),
//   so a "simple" cross-origin request (text/plain, form encoded) is never parsed as JSON, even
//   from a browser that sends no `Origin`. Upload endpoints take multipart/form-data, which is
//   itself "simple" (an HTML form posts it, no preflight asked): they require a credential header
//   instead, which no page can add to a cross-origin request without a preflight.
import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { hostName, normalizeOrigin } from '../util/origin.ts';
import { requireMultipart } from './multipart.ts';

export interface BrowserGuardOptions {
  /** The bind address (`server.host`). */
  host: string;
  /** Extra host names (`server.allowed_hosts`): exact names, `*.suffix`, or `*` for any. */
  allowedHosts: readonly string[];
  /** Origins allowed to call from a page (`server.cors.allowed_origins`), or `*` for any. */
  allowedOrigins: readonly string[];
}

/** The preflight was answered; nothing more to do for this request. */
export const ANSWERED = 'answered';

/** Host values remembered as accepted; past this the memory is cleared (only valid hosts enter). */
const ACCEPTED_HOSTS_MAX = 64;
/** Longest part of a refused value echoed in an error message. */
const ECHO_MAX = 100;
const PREFLIGHT_MAX_AGE_S = '600';
const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
/** Headers a page may read from an answer: the request id, the gateway's own, rate-limit hints. */
const EXPOSED_HEADERS = 'x-request-id, x-switchyard-model, x-switchyard-provider, x-switchyard-attempts, x-switchyard-fallback, '
  + 'x-switchyard-error-code, x-switchyard-cooldown, x-switchyard-upstream-status, x-switchyard-token-count, retry-after, server-timing';
/** Longest `Access-Control-Request-Headers` echoed back. */
const REQUEST_HEADERS_MAX = 2048;
const TOKEN_LIST = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/;

function echo(value: string): string {
  return value.length > ECHO_MAX ? `${value.slice(0, ECHO_MAX)}…` : value;
}

function isJsonMediaType(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === 'application/json') return true;
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

export class BrowserGuard {
  private readonly exactHosts: ReadonlySet<string>;
  private readonly hostSuffixes: readonly string[];
  private readonly anyHost: boolean;
  private readonly origins: ReadonlySet<string>;
  private readonly anyOrigin: boolean;
  private readonly accepted = new Set<string>();

  constructor(options: BrowserGuardOptions) {
    const exact = new Set<string>(['localhost']);
    const suffixes = ['.localhost'];
    let anyHost = false;
    const bind = hostName(options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host);
    if (bind !== '' && isIP(bind.replace(/^\[|\]$/g, '')) === 0) exact.add(bind);
    for (const entry of options.allowedHosts) {
      const name = hostName(entry.trim());
      if (name === '*') anyHost = true;
      else if (name.startsWith('*.')) suffixes.push(name.slice(1));
      else if (name !== '') exact.add(name);
    }
    this.exactHosts = exact;
    this.hostSuffixes = suffixes;
    this.anyHost = anyHost;
    const origins = new Set<string>();
    let anyOrigin = false;
    for (const entry of options.allowedOrigins) {
      const origin = normalizeOrigin(entry.trim());
      if (origin === '*') anyOrigin = true;
      else if (origin !== undefined) origins.add(origin);
    }
    this.origins = origins;
    this.anyOrigin = anyOrigin;
  }

  /**
   * Refuses what a web page must not do (the error to answer), answers a CORS preflight from an
   * allowed origin (`ANSWERED`), or lets the request through (undefined), adding the CORS headers
   * an allowed foreign origin needs.
   */
  admit(request: IncomingMessage, response: ServerResponse): GatewayError | typeof ANSWERED | undefined {
    const headers = request.headers;
    const host = headers.host;
    if (host !== undefined && !this.anyHost && !this.accepted.has(host) && !this.hostAllowed(host)) {
      return new GatewayError(ErrorCode.hostNotAllowed,
        `Host '${echo(host)}' is not one of the gateway's names. Switchyard answers requests addressed to loopback names, IP addresses `
        + 'and server.host; add this name to server.allowed_hosts if you reach the gateway through it.',
        { status: 403, origin: 'downstream', errorClass: 'client-error' });
    }
    const origin = headers.origin;
    if (origin === undefined) {
      const site = headers['sec-fetch-site'];
      if (site === undefined || site === 'same-origin' || site === 'none') return undefined;
      // a page's request without Origin: only a top-level navigation (the user opening a link) may pass
      if ((request.method === 'GET' || request.method === 'HEAD') && headers['sec-fetch-mode'] === 'navigate') return undefined;
      return new GatewayError(ErrorCode.originNotAllowed,
        `A ${site} request from a web page is not allowed. Add the page's origin to server.cors.allowed_origins to let it call the gateway.`,
        { status: 403, origin: 'downstream', errorClass: 'client-error' });
    }
    if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}` || sameOrigin(origin, host))) return undefined;
    if (!this.anyOrigin && !this.origins.has(origin)) {
      return new GatewayError(ErrorCode.originNotAllowed,
        `Requests from the web page at '${echo(origin)}' are not allowed: a page in your browser must not spend your provider keys. `
        + 'Add the origin to server.cors.allowed_origins if this page should call the gateway.',
        { status: 403, origin: 'downstream', errorClass: 'client-error' });
    }
    response.setHeader('access-control-allow-origin', origin);
    response.setHeader('vary', 'origin');
    if (request.method === 'OPTIONS' && headers['access-control-request-method'] !== undefined) {
      this.preflight(request, response);
      return ANSWERED;
    }
    response.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    return undefined;
  }

  /** 415 unless the body is declared JSON; called before a JSON endpoint reads its body. */
  static requireJson(request: IncomingMessage): GatewayError | undefined {
    const type = request.headers['content-type'];
    if (isJsonMediaType(type)) return undefined;
    const said = type === undefined ? 'no Content-Type' : `Content-Type '${echo(type)}'`;
    return new GatewayError(ErrorCode.unsupportedMediaType,
      `This endpoint takes a JSON body, but the request has ${said}. Send "Content-Type: application/json" (with curl: -H 'content-type: application/json').`,
      { status: 415, origin: 'downstream', errorClass: 'client-error' });
  }

  /**
   * 415 unless the body is multipart/form-data; 403 unless the request carries a credential
   * header (`Authorization`, `x-api-key`, `x-goog-api-key` or `api-key`, any value when the gateway
   * has no client keys). A page can post a form anywhere without a preflight, and an old browser
   * may send it without `Origin`; it cannot add any of these headers without a preflight, which
   * the Origin check refuses. SDKs always send one.
   */
  static requireUpload(request: IncomingMessage): GatewayError | undefined {
    const notForm = requireMultipart(request);
    if (notForm !== undefined) return notForm;
    const headers = request.headers;
    if (headers.authorization !== undefined || headers['x-api-key'] !== undefined || headers['x-goog-api-key'] !== undefined || headers['api-key'] !== undefined) return undefined;
    return new GatewayError(ErrorCode.originNotAllowed,
      'An upload (multipart/form-data) must carry an Authorization or x-api-key header, with any value when the gateway has no client keys, '
      + "so that a web page's form post is never taken for one. SDKs send it; with curl add -H 'authorization: Bearer <key>'.",
      { status: 403, origin: 'downstream', errorClass: 'client-error' });
  }

  private preflight(request: IncomingMessage, response: ServerResponse): void {
    const headers = request.headers;
    response.setHeader('access-control-allow-methods', ALLOWED_METHODS);
    const asked = headers['access-control-request-headers'];
    if (asked !== undefined && asked.length <= REQUEST_HEADERS_MAX && TOKEN_LIST.test(asked.trim())) response.setHeader('access-control-allow-headers', asked.trim());
    // Chrome's Private Network Access asks before a page on another address space calls loopback
    if (headers['access-control-request-private-network'] === 'true') response.setHeader('access-control-allow-private-network', 'true');
    response.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE_S);
    response.setHeader('vary', 'origin, access-control-request-method, access-control-request-headers');
    response.setHeader('content-length', '0');
    response.writeHead(204);
    response.end();
  }

  private hostAllowed(host: string): boolean {
    const name = hostName(host);
    let allowed = this.exactHosts.has(name) || isIP(name.startsWith('[') ? name.slice(1, -1) : name) !== 0;
    for (let i = 0; !allowed && i < this.hostSuffixes.length; i++) allowed = name.endsWith(this.hostSuffixes[i]!);
    if (allowed) {
      if (this.accepted.size >= ACCEPTED_HOSTS_MAX) this.accepted.clear();
      this.accepted.add(host);
    }
    return allowed;
  }
}

/** `Origin` names the same scheme-less authority as `Host`, compared case-insensitively. */
function sameOrigin(origin: string, host: string): boolean {
  const separator = origin.indexOf('://');
  if (separator < 0) return false;
  const scheme = origin.slice(0, separator).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return false;
  const authority = origin.slice(separator + 3).toLowerCase();
  const hostLower = host.toLowerCase();
  if (authority === hostLower) return true;
  // a default port is left out of Origin but may be written in Host
  return (scheme === 'http' && hostLower === `${authority}:80`) || (scheme === 'https' && hostLower === `${authority}:443`);
}
