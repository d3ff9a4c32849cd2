// The password a connection URL carries (postgres://, redis://), to redact it from logs and errors.

/** The URL's password, decoded; undefined when it has none or is not a URL. */
export function passwordOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password === '' ? undefined : password;
  } catch {
    return undefined;
  }
}
