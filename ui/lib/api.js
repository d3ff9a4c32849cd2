// Calls to the gateway's own endpoints from the page: same origin, the session cookie sent by the
// browser, the session's CSRF token added to every call that changes something.

/** @type {string} */
let csrfToken = '';

/** @param {string} token the CSRF token GET /ui/session gave */
export function setCsrf(token) {
  csrfToken = token;
}

export function csrf() {
  return csrfToken;
}

/** An answer that was not 2xx, with the gateway's message. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message @param {unknown} data */
  constructor(status, message, data) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

/**
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const method = options.method ?? 'GET';
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== '') headers['x-switchyard-csrf'] = csrfToken;
  const response = await fetch(path, {
    method, headers, credentials: 'same-origin', signal: options.signal,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    data = text;
  }
  if (!response.ok) {
    const message = data?.error?.message ?? `${response.status} ${response.statusText}`;
    // a session that ended (logout elsewhere, expiry, restart): back to the login page
    if (response.status === 401 && !path.startsWith('/ui/session')) window.dispatchEvent(new CustomEvent('switchyard:signed-out'));
    throw new ApiError(response.status, message, data);
  }
  return data;
}
