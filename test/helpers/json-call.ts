// A JSON call to a gateway as the management-API tests make them: the body as JSON (or a string as
// it is), a key as a Bearer token, and the answer's raw text kept for secret scans.

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any;
}

export interface CallOptions {
  body?: unknown;
  key?: string;
  headers?: Record<string, string>;
}

/** `seen`, when given, gets every answer's raw text (to scan for secrets afterwards). */
export async function call(target: { url: string }, method: string, path: string, options: CallOptions = {}, seen?: string[]): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const response = await fetch(`${target.url}${path}`, { method, headers, body });
  const text = await response.text();
  seen?.push(text);
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}
