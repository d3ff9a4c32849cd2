// Downloads URL media for providers that only take it inline (base64). Bounded in size and time,
// http(s) only, and — unless the config allows it — never to loopback, private or link-local
// addresses, checked on the resolved address at connect time so DNS cannot be used to sneak past.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent } from '../util/undici.ts';
import { headerValue } from '../util/header-value.ts';
import type { MediaConfig } from '../config/types.ts';
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import { ACCEPT_IDENTITY, readDecoded } from './content-coding.ts';

const IDENTITY_HEADERS = { [ACCEPT_IDENTITY[0]]: ACCEPT_IDENTITY[1] };

const blocked = new BlockList();
for (const [network, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) blocked.addSubnet(network, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    return mapped !== null ? blocked.check(mapped[1]!, 'ipv4') : blocked.check(address, 'ipv6');
  }
  return false;
}

function mediaError(message: string, cause?: unknown): GatewayError {
  return new GatewayError(ErrorCode.mediaFetch, message, { status: 400, origin: 'downstream', errorClass: 'client-error', ...(cause !== undefined ? { cause } : {}) });
}

const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error !== null) {
      callback(error, '', 0);
      return;
    }
    const denied = addresses.find((entry) => isPrivateAddress(entry.address));
    if (denied !== undefined) {
      callback(Object.assign(new Error(`${hostname} resolves to a private address`), { code: 'ESWYPRIVATE' }), '', 0);
      return;
    }
    if ((options as { all?: boolean }).all === true) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
    else callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

export interface InlineMedia {
  mediaType: string;
  data: string;
}

export class MediaFetcher {
  private readonly config: MediaConfig;
  private readonly agent: Agent;

  constructor(config: MediaConfig) {
    this.config = config;
    this.agent = new Agent({
      connect: config.allowPrivateNetworks ? { timeout: config.timeoutMs } : { timeout: config.timeoutMs, lookup: guardedLookup },
      keepAliveTimeout: 1000,
    });
  }

  async fetch(url: string, signal: AbortSignal): Promise<InlineMedia> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw mediaError(`Could not download media: '${url.slice(0, 100)}' is not a URL.`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw mediaError(`Could not download media: only http and https URLs can be inlined (got ${parsed.protocol}).`);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (!this.config.allowPrivateNetworks && (host === 'localhost' || isPrivateAddress(host))) {
      throw mediaError(`Could not download media from ${parsed.host}: private and loopback addresses are not fetched (media.allow_private_networks).`);
    }
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    let response;
    try {
      response = await this.agent.request({
        origin: parsed.origin, path: parsed.pathname + parsed.search, method: 'GET', headers: IDENTITY_HEADERS,
        signal: AbortSignal.any([signal, timeout]), headersTimeout: this.config.timeoutMs, bodyTimeout: this.config.timeoutMs,
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason = code === 'ESWYPRIVATE' ? 'it resolves to a private address (media.allow_private_networks)' : code ?? (error as Error).message;
      throw mediaError(`Could not download media from ${parsed.host}: ${reason}.`, error);
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw mediaError(`Could not download media from ${parsed.host}: it answered ${response.statusCode}.`);
    }
    // the timeout's signal covers the whole body; a server that compresses although identity was
    // asked for is decoded, and the decoded size bounded, so nothing compressed is inlined
    let body: Buffer | undefined;
    try {
      body = await readDecoded(response.body, response.headers['content-encoding'], this.config.maxBytes);
    } catch (error) {
      throw mediaError(`Could not download media from ${parsed.host}: ${(error as Error).message}.`, error);
    }
    if (body === undefined) throw mediaError(`Could not download media from ${parsed.host}: larger than ${this.config.maxBytes} bytes (media.max_bytes).`);
    const mediaType = headerValue(response.headers, 'content-type')?.split(';')[0]?.trim() || 'application/octet-stream';
    return { mediaType, data: body.toString('base64') };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
