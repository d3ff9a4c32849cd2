// The config through the management API: the effective config with every secret masked, a
// candidate YAML validated as `switchyard check-config` validates a file, the file replaced (checked
// first and refused unchanged when invalid, laid over the old file so its comments and `${VAR}`
// references stay, written atomically, then hot-reloaded the way a file change is), and a reload
// from disk. Admin keys and the audit log as for the key endpoints (management.ts); the file and
// the reload belong to the process that loaded the config (cli/serve.ts), reached through
// `ConfigControl`.
import { ErrorCode, GatewayError } from '../canonical/errors.ts';
import type { ConfigProblem } from '../config/config-error.ts';
import type { GatewayConfig } from '../config/types.ts';
import { configVersion } from '../config/version.ts';
import type { KeyStore } from '../governance/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { RequestContext } from '../pipeline/context.ts';
import type { LocalHandler, LocalRoute } from '../pipeline/gateway.ts';
import { asGatewayError, sendError, sendJson } from '../pipeline/respond.ts';
import { readLocalBytes } from '../pipeline/local-body.ts';
import { redactText } from '../util/redact.ts';
import type { JsonObject } from '../util/json-value.ts';

/** A config file is a few kilobytes; a megabyte is a mistake. */
const BODY_LIMIT = 1024 * 1024;
const NO_STORE = ['cache-control', 'no-store'] as const;
const MASK = '[redacted]';
/** YAML, or JSON (which is YAML): never text/plain, which a web page may post without a preflight. */
const CONFIG_TYPES = /^\s*(?:application\/(?:yaml|x-yaml|json)|text\/(?:yaml|x-yaml))\s*(?:;|$)/i;
/** Names of fields whose string value is a credential wherever it stands. */
const SECRET_NAME = /(?:key|keys|token|tokens|secret|secrets|password|passwd|credential|credentials|authorization|cookie)$/i;

export interface ConfigValidation {
  valid: boolean;
  problems: ConfigProblem[];
  warnings: string[];
}

export type ConfigOutcome =
  | { applied: true; config: GatewayConfig; changes: string; restartNeeded: string[] }
  | { applied: false; message: string; problems: ConfigProblem[] };

/** The config file of the running gateway and its reload path (cli/serve.ts implements it). */
export interface ConfigControl {
  /** The file the config was read from; undefined on zero-config (nothing to write nor reload). */
  readonly path: string | undefined;
  /** Why replacing or reloading cannot be done by this process (a worker of `--workers N`); undefined when it can. */
  readonly unavailable?: string;
  validate(text: string): Promise<ConfigValidation>;
  /** The file's text with every literal credential masked in place (`"[redacted]"`); undefined on zero-config. */
  maskedText(): Promise<string | undefined>;
  /** Checks `text`, writes it over the file (atomically) and reloads; refused unchanged when invalid. */
  replace(text: string, reason: string): Promise<ConfigOutcome>;
  /** Reads the file again and applies it, as SIGHUP does. */
  reload(reason: string): Promise<ConfigOutcome>;
}

export interface ConfigRouteOptions {
  control: ConfigControl | undefined;
  store: KeyStore | undefined;
  logger: Logger;
}

// ----- masking -----------------------------------------------------------------------------------

/** A URL with its user, password and query values masked (a key may ride in `?key=`). */
export function maskedUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.username === '' && url.password === '' && url.search === '') return text;
  const query = [...url.searchParams.keys()].map((name) => `${encodeURIComponent(name)}=${MASK}`).join('&');
  const credentials = url.username !== '' || url.password !== '' ? `${MASK}@` : '';
  return `${url.protocol}//${credentials}${url.host}${url.pathname}${query !== '' ? `?${query}` : ''}`;
}

const maskAll = (values: readonly string[]): string[] => values.map((value) => (value === '' ? value : MASK));
const maskValues = (map: Readonly<Record<string, string>>): Record<string, string> => Object.fromEntries(Object.keys(map).map((name) => [name, MASK]));

/**
 * The effective config as the management API shows it: client, admin and provider keys, header and
 * environment values (where secrets given as `${VAR}` go), credentials and queries of URLs, and
 * every string under a name that says key, token, secret or password masked; then every credential
 * the runtime knows is redacted from the whole text, whatever field it stands in.
 */
export function maskedConfig(config: GatewayConfig, secrets: readonly string[]): unknown {
  const copy = structuredClone(config) as unknown as Record<string, unknown>;
  const auth = copy.auth as GatewayConfig['auth'] & Record<string, unknown>;
  auth.keys = maskAll(auth.keys);
  auth.adminKeys = maskAll(auth.adminKeys);
  const providers = copy.providers as (GatewayConfig['providers'][number] & Record<string, unknown>)[];
  for (const provider of providers) {
    provider.apiKeys = maskAll(provider.apiKeys);
    provider.headers = maskValues(provider.headers);
    if (provider.agentCli !== undefined) provider.agentCli.env = maskValues(provider.agentCli.env);
  }
  const tracing = copy.tracing as GatewayConfig['tracing'] | undefined;
  if (tracing !== undefined) tracing.headers = maskValues(tracing.headers);
  const masked = maskStrings(copy, '');
  return JSON.parse(redactText(JSON.stringify(masked), secrets.filter((secret) => secret !== MASK))) as unknown;
}

function maskStrings(value: unknown, name: string): unknown {
  if (typeof value === 'string') {
    if (value !== '' && value !== MASK && SECRET_NAME.test(name)) return MASK;
    return value.includes('://') ? maskedUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, name));
  if (typeof value === 'object' && value !== null) {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = maskStrings(item, key);
    return result;
  }
  return value;
}


// ----- the handlers ------------------------------------------------------------------------------

function answer(context: RequestContext, status: number, value: unknown): void {
  sendJson(context, status, JSON.stringify(value), NO_STORE);
}

function fail(context: RequestContext, error: unknown): void {
  sendError(context, asGatewayError(error), NO_STORE);
}

/** The candidate's text: a YAML (or JSON) body within BODY_LIMIT. */
function withText(context: RequestContext, then: (text: string) => Promise<void>): void {
  const request = context.request;
  const type = request.headers['content-type'];
  if (type === undefined || !CONFIG_TYPES.test(type)) {
    request.resume();
    fail(context, new GatewayError(ErrorCode.unsupportedMediaType,
      `This endpoint takes the config as YAML: send it with "Content-Type: application/yaml" (or application/json), not ${type === undefined ? 'without a Content-Type' : `'${type.slice(0, 80)}'`}. With curl: --data-binary @switchyard.yaml -H 'content-type: application/yaml'.`,
      { status: 415, origin: 'downstream', errorClass: 'client-error' }));
    return;
  }
  readLocalBytes(context, BODY_LIMIT, (error, bytes) => {
    if (error !== undefined) {
      fail(context, error);
      return;
    }
    then(bytes!.toString('utf8')).catch((failure: unknown) => fail(context, failure));
  });
}

function noFile(): GatewayError {
  return new GatewayError(ErrorCode.conflict,
    'The gateway runs on zero-config (no config file was found): there is no file to write or reload. Start it with a file (switchyard serve --config switchyard.yaml, or a switchyard.yaml in the working directory), then replace it here.',
    { status: 409, origin: 'gateway', errorClass: 'none' });
}

function unavailable(message: string): GatewayError {
  return new GatewayError(ErrorCode.conflict, message, { status: 409, origin: 'gateway', errorClass: 'none' });
}

/** Answers a refused replacement or reload: 400 with the problems, the file as it was. */
function refused(context: RequestContext, outcome: Extract<ConfigOutcome, { applied: false }>): void {
  answer(context, 400, {
    error: { message: outcome.message, type: 'invalid_request_error', code: 'config_invalid' },
    valid: false,
    problems: outcome.problems,
  });
}

async function audit(options: ConfigRouteOptions, actor: string, action: string, detail: JsonObject): Promise<void> {
  options.logger.info({ actor, action, ...detail }, 'config changed through the management API');
  await options.store?.record(actor, action, 'config', detail).catch((error: unknown) => {
    options.logger.warn({ err: (error as Error).message, action }, 'the audit log could not be written');
  });
}

function getConfig(options: ConfigRouteOptions): LocalHandler {
  return (_gateway, context, runtime) => {
    answer(context, 200, { object: 'config', version: configVersion(runtime.config), path: options.control?.path ?? null, config: maskedConfig(runtime.config, runtime.secrets) });
  };
}

/** The file as written (comments, `${VAR}` references), literal credentials masked: what an editor starts from. A masked value sent back to PUT keeps the file's value. */
function getConfigFile(options: ConfigRouteOptions): LocalHandler {
  return (_gateway, context, runtime) => {
    const control = options.control;
    if (control === undefined) {
      fail(context, unavailable('The config file cannot be read from this process.'));
      return;
    }
    if (control.path === undefined) {
      fail(context, noFile());
      return;
    }
    control.maskedText().then(
      (text) => answer(context, 200, { object: 'config.file', version: configVersion(runtime.config), path: control.path, text: redactText(text ?? '', runtime.secrets.filter((secret) => secret !== MASK)) }),
      (error: unknown) => fail(context, error),
    );
  };
}

function validateConfig(options: ConfigRouteOptions): LocalHandler {
  return (_gateway, context) => {
    const control = options.control;
    if (control === undefined) {
      fail(context, unavailable('Config validation is not available in this process.'));
      return;
    }
    withText(context, async (text) => {
      const result = await control.validate(text);
      answer(context, 200, { object: 'config.validation', valid: result.valid, problems: result.problems, warnings: result.warnings });
    });
  };
}

/** Applied: `{ version, … }` and the audit row; refused: 400 with the problems. */
async function settle(options: ConfigRouteOptions, context: RequestContext, action: string, outcome: ConfigOutcome): Promise<void> {
  if (!outcome.applied) {
    refused(context, outcome);
    return;
  }
  const version = configVersion(outcome.config);
  await audit(options, context.keyId, action, { version, changes: outcome.changes, ...(outcome.restartNeeded.length > 0 ? { restart_needed: outcome.restartNeeded } : {}) });
  answer(context, 200, { object: 'config', version, path: options.control?.path ?? null, changes: outcome.changes, restart_needed: outcome.restartNeeded });
}

function writable(options: ConfigRouteOptions): ConfigControl | GatewayError {
  const control = options.control;
  if (control === undefined) return unavailable('The config cannot be changed from this process.');
  if (control.path === undefined) return noFile();
  if (control.unavailable !== undefined) return unavailable(control.unavailable);
  return control;
}

function replaceConfig(options: ConfigRouteOptions): LocalHandler {
  return (_gateway, context) => {
    const control = writable(options);
    if (control instanceof GatewayError) {
      context.request.resume();
      fail(context, control);
      return;
    }
    withText(context, async (text) => settle(options, context, 'config.replace', await control.replace(text, 'management API')));
  };
}

function reloadConfig(options: ConfigRouteOptions): LocalHandler {
  return (_gateway, context) => {
    const control = writable(options);
    if (control instanceof GatewayError) {
      fail(context, control);
      return;
    }
    control.reload('management API').then(
      (outcome) => settle(options, context, 'config.reload', outcome),
      (error: unknown) => fail(context, error),
    ).catch((error: unknown) => fail(context, error));
  };
}

/** The config routes, under the management API's path (its authenticate phase has checked the admin key). */
export function managementConfigRoutes(prefix: string, options: ConfigRouteOptions): LocalRoute[] {
  const path = `${prefix}/config`;
  return [
    { path, entry: { method: 'GET', local: getConfig(options) } },
    { path, entry: { method: 'PUT', local: replaceConfig(options) } },
    { path: `${path}/file`, entry: { method: 'GET', local: getConfigFile(options) } },
    { path: `${path}/validate`, entry: { method: 'POST', local: validateConfig(options) } },
    { path: `${path}/reload`, entry: { method: 'POST', local: reloadConfig(options) } },
  ];
}
