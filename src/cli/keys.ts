// `switchyard keys`: the management API from the terminal — create, list, get, update, revoke
// (disable), enable, rotate, delete, usage; keys and teams. It talks to the running gateway
// (`--url`, else $SWITCHYARD_URL, else the config's address) with an admin key (`--admin-key`,
// else $SWITCHYARD_ADMIN_KEY; none needed on loopback without auth.admin_keys). When no gateway
// answers there, it opens the key store itself (the config's storage) and makes the change
// there, audited as `cli`; a running gateway picks it up within seconds.
import { parseArgs } from 'node:util';
import { Agent, request, type Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/types.ts';
import { DEFAULT_STORAGE } from '../config/defaults.ts';
import { parseKeyInput, parseTeamInput, type ModelCheck } from '../governance/key-input.ts';
import { KeyStore } from '../governance/key-store.ts';
import { openKeyDatabase } from '../state/key-database.ts';
import { openUsageStore } from '../state/usage-store.ts';
import { isGlob } from '../util/glob.ts';
import { formatCost } from './usage.ts';
import { usageByPeriod, withSecret } from '../admin/management.ts';
import { DEFAULT_GATEWAY_URL, UsageError } from './args.ts';

const ACTIONS = ['create', 'list', 'get', 'update', 'revoke', 'enable', 'rotate', 'delete', 'usage'] as const;
type Action = (typeof ACTIONS)[number];
const REQUEST_TIMEOUT_MS = 30_000;

export interface KeysArgs {
  command: 'keys';
  action: Action | 'help';
  /** `keys team …`: the same actions on teams. */
  teams: boolean;
  target?: string;
  /** The JSON body of create / update, from the flags. */
  body: Record<string, unknown>;
  url?: string;
  adminKey?: string;
  config?: string;
  json: boolean;
}

export const keysUsage = `Usage:
  switchyard keys create --name NAME [--team T] [--models 'gpt-*,claude-*'] [--rpm N] [--tpm N]
                         [--max-concurrent N] [--budget USD/PERIOD] [--soft-budget USD] [--expires WHEN]
                         [--cache TTL_S[/per-key]]
  switchyard keys list | get ID|NAME | usage ID|NAME
  switchyard keys update ID|NAME [the options of create; 'none' clears one]
  switchyard keys revoke ID|NAME      disable the key (refused from now on; enable undoes it)
  switchyard keys enable ID|NAME | rotate ID|NAME | delete ID|NAME
  switchyard keys team create|list|get|update|delete|usage …   the same for teams

Options:
      --budget USD/PERIOD  e.g. 10/day, 50/week, 200/month, 1000/total
      --expires WHEN       an ISO date-time, or a duration from now: 30d, 12h
      --cache TTL_S        answer the key's repeated requests from the response cache for TTL_S
                           seconds; 3600/per-key keeps its answers apart from other callers'
      --url URL            the gateway (default: $SWITCHYARD_URL, else the config's server address)
      --admin-key K        one of auth.admin_keys (default: $SWITCHYARD_ADMIN_KEY)
  -c, --config FILE        the config (for the address and, offline, the key store's location)
      --json               print the JSON answers

With no gateway answering, the change is made in the key store directly (the config's storage).`;

const LIMIT_OPTIONS = ['name', 'team', 'models', 'rpm', 'tpm', 'max-concurrent', 'budget', 'soft-budget', 'expires', 'cache'] as const;

function integer(value: string, flag: string): number | null {
  if (value === 'none') return null;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new UsageError(`--${flag} must be a positive integer (or 'none'), not '${value}'`);
  return number;
}

/** `10/day` → { usd: 10, period: 'day' }. */
export function parseBudget(value: string, soft: string | undefined): Record<string, unknown> | null {
  if (value === 'none') return null;
  const match = /^\$?(\d+(?:\.\d+)?)(?:\/(day|week|month|total))?$/.exec(value.trim());
  if (match === null) throw new UsageError(`--budget must be USD/PERIOD such as 10/day, 50/week, 200/month or 1000/total, not '${value}'`);
  const budget: Record<string, unknown> = { usd: Number(match[1]), period: match[2] ?? 'month' };
  if (soft !== undefined) budget.soft_usd = Number(soft);
  return budget;
}

/** `3600` → { ttl_s: 3600 }; `3600/per-key` keeps the key's answers apart. */
export function parseCache(value: string): Record<string, unknown> | null {
  if (value === 'none') return null;
  const match = /^(\d+)(\/per-key)?$/.exec(value.trim());
  if (match === null || Number(match[1]) < 1) throw new UsageError(`--cache must be seconds such as 3600 (or 3600/per-key, or 'none'), not '${value}'`);
  return match[2] === undefined ? { ttl_s: Number(match[1]) } : { ttl_s: Number(match[1]), per_key: true };
}

/** `30d`, `12h` from now, or an ISO date-time. */
export function parseExpiry(value: string, now = Date.now()): string | null {
  if (value === 'none') return null;
  const duration = /^(\d+)([hdw])$/.exec(value.trim());
  if (duration !== null) return new Date(now + Number(duration[1]) * { h: 3_600_000, d: 86_400_000, w: 604_800_000 }[duration[2] as 'h' | 'd' | 'w']).toISOString();
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new UsageError(`--expires must be an ISO date-time or a duration such as 30d, not '${value}'`);
  return new Date(at).toISOString();
}

export function parseKeysCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): KeysArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        name: { type: 'string' }, team: { type: 'string' }, models: { type: 'string' }, rpm: { type: 'string' }, tpm: { type: 'string' },
        'max-concurrent': { type: 'string' }, budget: { type: 'string' }, 'soft-budget': { type: 'string' }, expires: { type: 'string' }, cache: { type: 'string' },
        url: { type: 'string' }, 'admin-key': { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help === true) return { command: 'keys', action: 'help', teams: false, body: {}, json: false };
  const positionals = [...parsed.positionals];
  const teams = positionals[0] === 'team' || positionals[0] === 'teams';
  if (teams) positionals.shift();
  const action = positionals.shift() ?? 'list';
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`unknown keys action '${action}'; one of ${ACTIONS.join(', ')}`);
  if (teams && ['revoke', 'enable', 'rotate'].includes(action)) throw new UsageError(`'${action}' is for keys, not teams`);
  const target = positionals.shift();
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const needsTarget = !['create', 'list'].includes(action);
  if (needsTarget && target === undefined) throw new UsageError(`keys ${action} needs the key's id or name`);
  const body: Record<string, unknown> = {};
  const editing = action === 'create' || action === 'update';
  for (const option of LIMIT_OPTIONS) {
    if (values[option] !== undefined && !editing) throw new UsageError(`--${option} is an option of create and update`);
  }
  if (action === 'create' && values.name === undefined) throw new UsageError('keys create needs --name');
  if (values.name !== undefined) body.name = values.name;
  if (values.team !== undefined) {
    if (teams) throw new UsageError('--team is an option of keys, not teams');
    body.team = values.team === 'none' ? null : values.team;
  }
  if (values.models !== undefined) body.models = values.models === 'none' ? null : values.models.split(',').map((model) => model.trim()).filter((model) => model !== '');
  if (values.rpm !== undefined) body.rpm = integer(values.rpm, 'rpm');
  if (values.tpm !== undefined) body.tpm = integer(values.tpm, 'tpm');
  if (values['max-concurrent'] !== undefined) body.max_concurrent = integer(values['max-concurrent'], 'max-concurrent');
  if (values.budget !== undefined) body.budget = parseBudget(values.budget, values['soft-budget']);
  else if (values['soft-budget'] !== undefined) throw new UsageError('--soft-budget goes with --budget');
  if (values.expires !== undefined) {
    if (teams) throw new UsageError('--expires is an option of keys, not teams');
    body.expires_at = parseExpiry(values.expires);
  }
  if (values.cache !== undefined) {
    if (teams) throw new UsageError('--cache is an option of keys, not teams');
    body.cache = parseCache(values.cache);
  }
  if (action === 'revoke') body.disabled = true;
  if (action === 'enable') body.disabled = false;
  const args: KeysArgs = { command: 'keys', action: action as Action, teams, body, json: values.json === true };
  if (target !== undefined) args.target = target;
  const url = values.url ?? env.SWITCHYARD_URL;
  if (url !== undefined && url !== '') args.url = url.replace(/\/+$/, '');
  const adminKey = values['admin-key'] ?? env.SWITCHYARD_ADMIN_KEY;
  if (adminKey !== undefined && adminKey !== '') args.adminKey = adminKey;
  if (values.config !== undefined) args.config = values.config;
  return args;
}

/** One answer of the management API (or of the store, offline): status and JSON. */
interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** The request the action makes: method, path under /v0/management, body. */
function requestOf(args: KeysArgs & { action: Action }): { method: string; path: string; body?: Record<string, unknown> } {
  const collection = args.teams ? 'teams' : 'keys';
  const item = `/${collection}/${encodeURIComponent(args.target ?? '')}`;
  switch (args.action) {
    case 'create': return { method: 'POST', path: `/${collection}`, body: args.body };
    case 'list': return { method: 'GET', path: `/${collection}` };
    case 'get': return { method: 'GET', path: item };
    case 'update': case 'revoke': case 'enable': return { method: 'PATCH', path: item, body: args.body };
    case 'rotate': return { method: 'POST', path: `${item}/rotate` };
    case 'delete': return { method: 'DELETE', path: item };
    case 'usage': return { method: 'GET', path: `${item}/usage` };
  }
}

/** The gateway's address from the config (a wildcard bind reached through loopback). */
function addressOf(config: GatewayConfig | undefined): string {
  if (config === undefined) return DEFAULT_GATEWAY_URL;
  let host = config.server.host;
  if (host === '0.0.0.0' || host === '::' || host === '[::]') host = '127.0.0.1';
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `http://${host}:${config.server.port}`;
}

async function loadConfig(args: KeysArgs): Promise<GatewayConfig | undefined> {
  const { findConfigPath } = await import('../config/locate.ts');
  const path = findConfigPath(args.config);
  if (path === undefined) return undefined;
  const { loadConfigFile } = await import('../config/load.ts');
  return loadConfigFile(path).config;
}

async function online(url: string, args: KeysArgs & { action: Action }): Promise<Answer | 'unreachable'> {
  const call = requestOf(args);
  const headers: Record<string, string> = {};
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (args.adminKey !== undefined) headers.authorization = `Bearer ${args.adminKey}`;
  // one request, then the connection closes: a kept-alive socket would hold the command open
  const dispatcher = new Agent({ pipelining: 0 });
  let status: number;
  let text: string;
  try {
    const response = await request(`${url}/v0/management${call.path}`, {
      method: call.method as Dispatcher.HttpMethod, headers, dispatcher, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return 'unreachable';
    throw new Error(`cannot reach the gateway at ${url} (${code ?? (error as Error).message})`);
  } finally {
    await dispatcher.close().catch(() => {});
  }
  try {
    return { status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new Error(`${url} answered ${status} with something other than JSON; is it a Switchyard gateway?`);
  }
}

/** Offline, allow-list entries are checked against the config alone: providers of `provider:…`, aliases, listed models. */
function configModelCheck(config: GatewayConfig | undefined): ModelCheck {
  const providers = new Set(config?.providers.map((provider) => provider.name) ?? []);
  return (entry) => {
    const colon = entry.indexOf(':');
    if (colon > 0 && !isGlob(entry.slice(0, colon)) && !providers.has(entry.slice(0, colon)) && (isGlob(entry) || config?.models.some((alias) => alias.name === entry) !== true)) {
      if (providers.size > 0 || isGlob(entry)) return `'${entry}' names provider '${entry.slice(0, colon)}', which is not configured.`;
    }
    return undefined;
  };
}

async function offline(config: GatewayConfig | undefined, args: KeysArgs & { action: Action }): Promise<Answer> {
  const storage = config?.storage ?? { ...DEFAULT_STORAGE };
  const store = new KeyStore(await openKeyDatabase(storage));
  try {
    await store.load();
    const check = configModelCheck(config);
    const target = args.target ?? '';
    const now = Date.now();
    const found = () => {
      const item = args.teams ? store.findTeam(target) : store.findKey(target);
      if (item === undefined) throw Object.assign(new Error(`No ${args.teams ? 'team' : 'key'} with id or name '${target}'.`), { status: 404 });
      return item;
    };
    if (args.teams) {
      switch (args.action) {
        case 'create': return { status: 201, body: { ...await store.createTeam(parseTeamInput(args.body, 'create'), 'cli', check, now) } };
        case 'list': return { status: 200, body: { object: 'list', data: store.listTeams() } };
        case 'get': return { status: 200, body: { ...store.teamView(found() as never) } };
        case 'update': return { status: 200, body: { ...await store.updateTeam(target, parseTeamInput(args.body, 'update'), 'cli', check, now) } };
        case 'delete': {
          const view = await store.deleteTeam(target, 'cli', now);
          return { status: 200, body: { id: view.id, name: view.name, object: 'team', deleted: true } };
        }
        default: break;
      }
    }
    switch (args.action) {
      case 'create': {
        const result = await store.createKey(parseKeyInput(args.body, 'create', now), 'cli', check, now);
        return { status: 201, body: withSecret(result.view, result.secret!) };
      }
      case 'list': return { status: 200, body: { object: 'list', data: store.listKeys() } };
      case 'get': return { status: 200, body: { ...store.keyView(found() as never) } };
      case 'update': case 'revoke': case 'enable':
        return { status: 200, body: { ...(await store.updateKey(target, parseKeyInput(args.body, 'update', now), 'cli', check, now)).view } };
      case 'rotate': {
        const result = await store.rotateKey(target, 'cli', now);
        return { status: 200, body: withSecret(result.view, result.secret!) };
      }
      case 'delete': {
        const view = await store.deleteKey(target, 'cli', now);
        return { status: 200, body: { id: view.id, name: view.name, object: 'key', deleted: true } };
      }
      case 'usage': {
        const item = found();
        const ids = args.teams ? new Set(store.listKeys().filter((key) => key.team === item.name).map((key) => key.id)) : new Set([item.id]);
        const usageStore = await openUsageStore(storage);
        try {
          return { status: 200, body: { object: args.teams ? 'team.usage' : 'key.usage', id: item.id, name: item.name, usage: await usageByPeriod(usageStore, ids, now), remaining: null } };
        } finally {
          await usageStore.close();
        }
      }
    }
    throw new Error('unreachable');
  } catch (error) {
    const status = (error as { status?: number }).status ?? 500;
    return { status, body: { error: { message: (error as Error).message } } };
  } finally {
    await store.close();
  }
}

// ----- printing ----------------------------------------------------------------------------------

function limitsText(item: Record<string, unknown>): string {
  const parts: string[] = [];
  if (Array.isArray(item.models)) parts.push(`models ${item.models.join(',')}`);
  if (item.rpm !== undefined) parts.push(`${String(item.rpm)} rpm`);
  if (item.tpm !== undefined) parts.push(`${String(item.tpm)} tpm`);
  if (item.max_concurrent !== undefined) parts.push(`${String(item.max_concurrent)} at once`);
  const budget = item.budget as { usd: number; period: string; soft_usd?: number } | undefined;
  if (budget !== undefined) parts.push(`$${budget.usd}/${budget.period}${budget.soft_usd !== undefined ? ` (warn at $${budget.soft_usd})` : ''}`);
  const cache = item.cache as { ttl_s: number; per_key?: boolean } | undefined;
  if (cache !== undefined) parts.push(`cached ${cache.ttl_s} s${cache.per_key === true ? ' per key' : ''}`);
  return parts.length === 0 ? 'no limits' : parts.join(', ');
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column]!.length)));
  return all.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n';
}

export function render(args: KeysArgs, body: Record<string, unknown>): string {
  const what = args.teams ? 'team' : 'key';
  if (args.action === 'list') {
    const data = body.data as Record<string, unknown>[];
    if (data.length === 0) return `No ${what}s yet: switchyard keys ${args.teams ? 'team ' : ''}create --name NAME\n`;
    if (args.teams) return table(['ID', 'NAME', 'KEYS', 'LIMITS'], data.map((team) => [String(team.id), String(team.name), String(team.keys), limitsText(team)]));
    return table(['ID', 'NAME', 'KEY', 'TEAM', 'STATE', 'EXPIRES', 'LIMITS'], data.map((key) => [
      String(key.id), String(key.name), String(key.key_prefix), key.team === null ? '-' : String(key.team),
      key.disabled === true ? 'disabled' : 'active', key.expires_at === null ? '-' : String(key.expires_at).slice(0, 16).replace('T', ' '), limitsText(key),
    ]));
  }
  if (args.action === 'usage') {
    const usage = body.usage as Record<string, { from: string; requests: number; errors: number; input_tokens: number; output_tokens: number; cost_usd: number | null }>;
    const rows = Object.entries(usage).map(([period, sums]) => [period, period === 'total' ? '-' : sums.from.slice(0, 10), String(sums.requests), String(sums.errors), String(sums.input_tokens), String(sums.output_tokens), formatCost(sums.cost_usd)]);
    return `Usage of ${what} '${String(body.name)}' (${String(body.id)})\n\n` + table(['PERIOD', 'SINCE', 'REQUESTS', 'ERRORS', 'INPUT', 'OUTPUT', 'COST'], rows);
  }
  if (args.action === 'delete') return `Deleted ${what} '${String(body.name)}' (${String(body.id)}).\n`;
  const lines: string[] = [];
  const name = `${what} '${String(body.name)}' (${String(body.id)})`;
  switch (args.action) {
    case 'create': lines.push(`Created ${name}.`); break;
    case 'rotate': lines.push(`Rotated ${name}: the old secret no longer works.`); break;
    case 'revoke': lines.push(`Revoked ${name}: it is refused from now on (switchyard keys enable undoes it; delete removes it).`); break;
    case 'enable': lines.push(`Enabled ${name}.`); break;
    case 'update': lines.push(`Updated ${name}.`); break;
    default: lines.push(`${what === 'key' ? 'Key' : 'Team'} '${String(body.name)}' (${String(body.id)})`);
  }
  if (typeof body.key === 'string') lines.push('', `  ${body.key}`, '', 'This is the only time the key is shown: store it now.', '');
  if (!args.teams) {
    lines.push(`team: ${body.team === null ? '-' : String(body.team)}   state: ${body.disabled === true ? 'disabled' : 'active'}   expires: ${body.expires_at === null ? 'never' : String(body.expires_at)}`);
  }
  lines.push(`limits: ${limitsText(body)}`);
  return lines.join('\n') + '\n';
}

export async function runKeys(args: KeysArgs, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (args.action === 'help') {
    stdout.write(keysUsage + '\n');
    return 0;
  }
  let answer: Answer;
  let config: GatewayConfig | undefined;
  try {
    config = await loadConfig(args);
    const url = args.url ?? addressOf(config);
    const action = args as KeysArgs & { action: Action };
    const reached = await online(url, action);
    if (reached === 'unreachable') {
      stderr.write(`switchyard: no gateway answers at ${url}; using the key store directly.\n`);
      answer = await offline(config, action);
    } else answer = reached;
  } catch (error) {
    stderr.write(`switchyard: ${(error as Error).message}\n`);
    return 1;
  }
  if (answer.status >= 400) {
    const message = (answer.body.error as { message?: string } | undefined)?.message ?? JSON.stringify(answer.body);
    const hint = answer.status === 401 || answer.status === 403 ? ' Pass an admin key (auth.admin_keys) with --admin-key or $SWITCHYARD_ADMIN_KEY.' : '';
    stderr.write(`switchyard: ${answer.status}: ${message}${hint}\n`);
    return 1;
  }
  stdout.write(args.json ? JSON.stringify(answer.body, null, 2) + '\n' : render(args, answer.body));
  return 0;
}
