// A model name taken from a request path (`/v1/models/{id}`, Gemini's `models/{model}:{method}`)
// is percent-decoded leniently: a malformed escape is looked up as written, and is then not found,
// instead of failing the request with a decoding error.

/** `text` percent-decoded, or as written when an escape in it is malformed. */
export function decodePathSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The params of a `/models/{id}` path: the rest after the prefix, decoded; none when it is empty. */
export function modelIdParams(rest: string): Record<string, string> | undefined {
  return rest.length === 0 ? undefined : { id: decodePathSegment(rest) };
}
