// Command-line parsing (node:util parseArgs): switchyard [serve] [options] | check-config FILE.
import { parseArgs } from 'node:util';

export interface ServeArgs {
  command: 'serve';
  config?: string;
  host?: string;
  port?: number;
  workers?: number | 'auto';
  logLevel?: string;
}

export interface UsageArgs {
  command: 'usage';
  groupBy: string;
  from?: string;
  to?: string;
  /** The gateway's base URL. */
  url: string;
  key?: string;
  json: boolean;
}

export type CliArgs =
  | ServeArgs
  | UsageArgs
  | { command: 'check-config'; file: string }
  | { command: 'help' }
  | { command: 'version' };

export class UsageError extends Error {}

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:18080';

export const usage = `Usage:
  switchyard [serve] [--config FILE] [--host H] [--port N] [--workers N|auto] [--log-level L]
  switchyard check-config FILE
  switchyard usage [--group-by model|provider|key|day|surface] [--from T] [--to T] [--url URL] [--key K] [--json]
  switchyard keys create|list|get|update|revoke|enable|rotate|delete|usage …   (switchyard keys --help)
  switchyard route eval FILE.jsonl [--config FILE] [--svg FILE]   (switchyard route eval --help)
  switchyard --help | --version

Commands:
  serve          Start the gateway (the default).
  check-config   Validate a config file; prints every problem with its line, exits 1 if any.
  usage          Print the recorded requests, tokens and cost of a running gateway as a table
                 (from its GET /v0/usage).
  keys           Virtual keys and teams: create (the secret shown once), list, revoke, rotate,
                 usage — through the gateway's management API, or the key store when it is down.
  route eval     An auto alias (strategy: auto) against baselines on labelled prompts, offline:
                 quality, cost, savings, decision latency; a cost–quality plot.

Options:
  -c, --config FILE      Config file. Default: $SWITCHYARD_CONFIG, else ./switchyard.yaml if present,
                         else zero-config (providers from environment variables and local servers).
      --host H           Address to bind (default 127.0.0.1).
  -p, --port N           Port to listen on (default 18080).
  -w, --workers N|auto   Worker processes; auto = one per core (default 1).
  -l, --log-level L      fatal | error | warn | info | debug | trace | silent (default info).
  -h, --help             Show this help.
  -v, --version          Show the version.

Options of usage:
      --group-by G       model (default), provider, key, day or surface.
      --from T, --to T   The time range (default: the last 24 hours): an ISO date or date-time
                         (a bare date is UTC midnight), epoch ms, today, yesterday, now, or a
                         duration ago such as 24h or 7d.
      --url URL          The gateway (default: $SWITCHYARD_URL, else ${DEFAULT_GATEWAY_URL}).
      --key K            A client key, when the gateway has auth.keys (default: $SWITCHYARD_KEY).
      --json             Print the JSON answer instead of a table.

Examples:
  npm start
  npm start -- --config switchyard.yaml --port 8080
  switchyard check-config switchyard.yaml
  switchyard usage --from yesterday --to today --group-by key
  switchyard keys create --name ci-bot --models 'gpt-*,claude-*' --rpm 60 --budget 10/day`;

const USAGE_OPTIONS = ['group-by', 'from', 'to', 'url', 'key', 'json'] as const;

export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        workers: { type: 'string', short: 'w' },
        'log-level': { type: 'string', short: 'l' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        'group-by': { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        url: { type: 'string' },
        key: { type: 'string' },
        json: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { command: 'help' };
  if (values.version === true) return { command: 'version' };
  const [command = 'serve', ...rest] = positionals;
  if (command === 'usage') {
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const groups = ['model', 'provider', 'key', 'day', 'surface'];
    const groupBy = values['group-by'] ?? 'model';
    if (!groups.includes(groupBy)) throw new UsageError(`--group-by must be one of ${groups.join(', ')}`);
    const parsedUsage: UsageArgs = { command: 'usage', groupBy, url: (values.url ?? env.SWITCHYARD_URL ?? DEFAULT_GATEWAY_URL).replace(/\/+$/, ''), json: values.json === true };
    if (values.from !== undefined) parsedUsage.from = values.from;
    if (values.to !== undefined) parsedUsage.to = values.to;
    const key = values.key ?? env.SWITCHYARD_KEY;
    if (key !== undefined && key !== '') parsedUsage.key = key;
    return parsedUsage;
  }
  const misplaced = USAGE_OPTIONS.find((name) => values[name] !== undefined);
  if (misplaced !== undefined) throw new UsageError(`--${misplaced} is an option of 'switchyard usage'`);
  if (command === 'check-config') {
    const file = rest[0] ?? values.config;
    if (file === undefined) throw new UsageError('check-config needs a FILE');
    if (rest.length > 1) throw new UsageError(`unexpected argument '${rest[1]}'`);
    return { command: 'check-config', file };
  }
  if (command === 'help') return { command: 'help' };
  if (command === 'version') return { command: 'version' };
  if (command !== 'serve') throw new UsageError(`unknown command '${command}'`);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const serve: ServeArgs = { command: 'serve' };
  if (values.config !== undefined) serve.config = values.config;
  if (values.host !== undefined) serve.host = values.host;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer between 0 and 65535, not '${values.port}'`);
    serve.port = port;
  }
  if (values.workers !== undefined) {
    if (values.workers === 'auto') serve.workers = 'auto';
    else {
      const workers = Number(values.workers);
      if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError(`--workers must be 'auto' or an integer between 1 and 256, not '${values.workers}'`);
      serve.workers = workers;
    }
  }
  if (values['log-level'] !== undefined) {
    const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
    if (!levels.includes(values['log-level'])) throw new UsageError(`--log-level must be one of ${levels.join(', ')}`);
    serve.logLevel = values['log-level'];
  }
  return serve;
}
