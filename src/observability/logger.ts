// Structured logging (pino): JSON lines by default, pino-pretty for terminals. Writes are
// asynchronous and batched (flushed at least every 250 ms) so logging stays off the request's
// critical path: one write per batch, not per line.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LoggingConfig } from '../config/types.ts';
import { LineBatch, type Boom } from './line-batch.ts';

export type { Logger } from 'pino';

// Defensive, on the diagnostic logger only: nothing should log these, but an object carrying them
// is censored rather than written. The access log (one line per request, fields chosen by the
// gateway, never headers or keys) skips this: path redaction was ~10 % of a saturated profile.
const redactPaths = [
  'headers.authorization', 'headers["x-api-key"]', 'headers["x-goog-api-key"]', 'headers["api-key"]',
  '*.headers.authorization', '*.headers["x-api-key"]', '*.headers["x-goog-api-key"]', '*.headers["api-key"]',
  'api_key', 'apiKey', 'api_keys', 'apiKeys', '*.api_key', '*.apiKey', '*.api_keys', '*.apiKeys',
];

const FLUSH_INTERVAL_MS = 250;


export interface Loggers {
  /** Diagnostics: start-up, reloads, failures (redacting). */
  logger: Logger;
  /** One line per request, same destination, no redaction pass. */
  access: Logger;
  /** The JSON destination itself, for the specialised access-line writer (absent in pretty mode). */
  sink?: { write(line: string): unknown };
}

export function createLoggers(config: LoggingConfig, destination: DestinationStream | undefined = undefined): Loggers {
  const base = { level: config.level, base: { pid: process.pid } };
  if (destination === undefined && config.format === 'pretty') {
    const logger = pino({ ...base, redact: { paths: redactPaths, censor: '[redacted]' }, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } });
    return { logger, access: logger };
  }
  let stream = destination;
  if (stream === undefined) {
    const batch = new LineBatch(pino.destination({ dest: 1, sync: false, minLength: 0, contentMode: 'buffer' }) as unknown as Boom);
    setInterval(() => {
      try {
        batch.flush();
      } catch {
        // not ready yet, or closing: the next tick or exit flushes
      }
    }, FLUSH_INTERVAL_MS).unref();
    stream = batch;
  }
  return {
    logger: pino({ ...base, redact: { paths: redactPaths, censor: '[redacted]' } }, stream),
    access: pino(base, stream),
    sink: stream,
  };
}

export function createLogger(config: LoggingConfig, destination: DestinationStream | undefined = undefined): Logger {
  return createLoggers(config, destination).logger;
}
