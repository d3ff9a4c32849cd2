// Host and origin values in the forms browsers send, for comparing them with configured ones.

/** Lower-cased, without a trailing dot or the port: `LocalHost.:18080` → `localhost`. */
export function hostName(host: string): string {
  let name = host;
  if (name.startsWith('[')) {
    const end = name.indexOf(']');
    name = end < 0 ? name : name.slice(0, end + 1);
  } else {
    const colon = name.lastIndexOf(':');
    if (colon >= 0 && name.indexOf(':') === colon) name = name.slice(0, colon);
  }
  name = name.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name;
}

/** `scheme://host[:port]`, with at most a trailing slash. */
const ORIGIN_FORM = /^([a-z][a-z0-9+.-]*):\/\/([^/?#@\s]+)\/?$/i;

/**
 * `http://Example.com:80/` → `http://example.com`: the form browsers send in `Origin`. Other
 * schemes (`chrome-extension://id`, `vscode-webview://id`, `tauri://localhost`) are kept as written,
 * lower-cased. `*` and `null` pass as they are; anything else gives undefined.
 */
export function normalizeOrigin(origin: string): string | undefined {
  if (origin === '*' || origin === 'null') return origin;
  const match = ORIGIN_FORM.exec(origin);
  if (match === null) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return `${scheme}://${match[2]!.toLowerCase()}`;
  try {
    return new URL(origin).origin;
  } catch {
    return undefined;
  }
}
