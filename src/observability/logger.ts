// Structured logging (pino): JSON lines by default, pino-pretty for terminals. Writes are
// asynchronous and batched so logging stays off the request's critical path.
import { pino, type Logger } from 'pino';
import type { LoggingConfig } from '../config/types.ts';

export type { Logger } from 'pino';

// Defensive: nothing should log these, but if an object carrying them is ever logged they are
// censored rather than written.
const redactPaths = [
  'headers.authorization', 'headers["x-api-key"]', 'headers["x-goog-api-key"]', 'headers["api-key"]',
  '*.headers.authorization', '*.headers["x-api-key"]', '*.headers["x-goog-api-key"]', '*.headers["api-key"]',
  'api_key', 'apiKey', 'api_keys', 'apiKeys', '*.api_key', '*.apiKey', '*.api_keys', '*.apiKeys',
];

export function createLogger(config: LoggingConfig, destination: NodeJS.WritableStream | undefined = undefined): Logger {
  const options = {
    level: config.level,
    base: { pid: process.pid },
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
  if (destination !== undefined) return pino(options, destination);
  if (config.format === 'pretty') {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
  }
  return pino(options, pino.destination({ dest: 1, sync: false, minLength: 0 }));
}
