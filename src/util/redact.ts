/**
 * Replaces every occurrence of any secret in `text`. Used on upstream error text (which may echo
 * a provider key) before it is shown to a client or logged.
 */
export function redactText(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 6 && result.includes(secret)) result = result.split(secret).join('[redacted]');
  }
  return result;
}

