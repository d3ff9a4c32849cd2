// The non-secret label of a client key: `key-` and the first 8 hex digits of its SHA-256. Names
// the key in logs, usage rows and errors; the same key gets the same id in every process and
// across restarts, so usage (and the budgets read back from it) follows the key.
import { hash } from 'node:crypto';

export function clientKeyId(key: string): string {
  return `key-${hash('sha256', key, 'hex').slice(0, 8)}`;
}
