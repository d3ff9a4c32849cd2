// What a request refused by a key's 100-rpm limit must carry, on one gateway or across several.
import assert from 'node:assert/strict';

/** The headers OpenAI clients read and the error in the caller's dialect; the key's secret never shown. */
export function assertRpmRefusal(response: Response, body: string, secret: string): void {
  assert.equal(response.headers.get('x-ratelimit-limit-requests'), '100');
  assert.equal(response.headers.get('x-ratelimit-remaining-requests'), '0');
  assert.match(response.headers.get('x-ratelimit-reset-requests')!, /^(\d+ms|\d+s|\d+m\d+s)$/);
  assert.ok(Number(response.headers.get('retry-after')) >= 1);
  const error = JSON.parse(body).error;
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(error.type, 'rate_limit_error');
  assert.match(error.message, /key 'ci' \(key-[0-9a-f]{8}\).*100 requests per minute/);
  assert.ok(!error.message.includes(secret), 'the secret is never shown');
}
