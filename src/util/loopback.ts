// Whether a host name or address is this machine's loopback: what the gateway may serve without
// client keys, and where the management API answers without admin keys.

/** `localhost`, `127.x.y.z`, `::1` (bare or bracketed). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}
