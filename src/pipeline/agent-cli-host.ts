// Agent CLIs as providers, on the gateway's side of the driver contract (src/agent-clis/driver.ts).
//
// The host is process-wide (built by the composition root with the driver factories, one per CLI
// type) and keeps what must outlive a config reload: each provider's driver (its long-lived CLI
// workers), its turn queue and its conversation ids. A runtime asks it for each agent-CLI provider
// of its config; a provider whose settings did not change gets the driver it had, one whose
// settings changed gets a new one (the old one finishes the turns of the runtime that still uses
// it, then closes), and a driver no runtime uses any more — the provider was removed, the gateway
// stops — is closed (its CLI processes end).
//
// Per runtime, an AgentCliProvider is what the runner sees (OwnExchanges): it refuses what a CLI
// cannot do (the caller's own function tools) before anything runs, drops or refuses the request
// parameters its CLI cannot carry (unsupported_params), answers token counts with an
// estimate, and starts one AgentCliExchange per attempt.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentCliDriver, AgentCliDriverFactory, AgentCliSettings, AgentCliType } from '../agent-clis/driver.ts';
import { ErrorCode, GatewayError, invalidRequest } from '../canonical/errors.ts';
import type { CanonicalRequest } from '../canonical/request.ts';
import type { GatewayConfig, ProviderConfig, TimeoutSettings } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import { defaultStateDirectory } from '../state/usage-store.ts';
import { BoundedSemaphore } from '../util/bounded-semaphore.ts';
import { estimateTokens } from '../util/estimate-tokens.ts';
import { findOnPath } from '../util/find-on-path.ts';
import { AgentCliExchange, type AgentCliSlots } from './agent-cli-exchange.ts';
import { ConversationTracker } from './conversations.ts';
import type { Exchange, OwnExchangeRequest, OwnExchanges } from './exchange.ts';
import { sendJson } from './respond.ts';
import { CARRIED_PARAMETERS } from '../agent-clis/parameters.ts';
import { ParameterPolicy } from './unsupported-params.ts';
import { applyUnsupportedTools } from './unsupported-tools.ts';

/** The driver factory of each CLI type this build has (the composition root's registry). */
export type AgentCliDrivers = ReadonlyMap<AgentCliType, AgentCliDriverFactory>;

/** Retry-After when no turn has ended yet to estimate from. */
const DEFAULT_TURN_MS = 10_000;
const MAX_RETRY_AFTER_S = 3600;

/** One provider's driver and what goes with it; shared by the runtimes whose settings match. */
class DriverEntry implements AgentCliSlots {
  readonly name: string;
  /** The settings, serialized: a runtime whose settings serialize alike shares this entry. */
  readonly identity: string;
  readonly settings: AgentCliSettings;
  readonly driver: AgentCliDriver;
  readonly queue: BoundedSemaphore;
  readonly conversations = new ConversationTracker();
  /** Whether `command` was found (on PATH, or as a path) when the driver was made. */
  readonly commandFound: boolean;
  /** Runtimes holding it. */
  users = 0;
  private averageTurnMs = 0;

  constructor(settings: AgentCliSettings, identity: string, driver: AgentCliDriver, queue: BoundedSemaphore, commandFound: boolean) {
    this.name = settings.name;
    this.identity = identity;
    this.settings = settings;
    this.driver = driver;
    this.queue = queue;
    this.commandFound = commandFound;
  }

  retryAfterSeconds(): number {
    const turnMs = this.averageTurnMs > 0 ? this.averageTurnMs : DEFAULT_TURN_MS;
    const ahead = this.queue.queued + 1;
    return Math.min(MAX_RETRY_AFTER_S, Math.max(1, Math.ceil((turnMs * ahead) / this.queue.capacity / 1000)));
  }

  turnEnded(durationMs: number): void {
    this.averageTurnMs = this.averageTurnMs === 0 ? durationMs : this.averageTurnMs * 0.8 + durationMs * 0.2;
  }
}

export interface AgentCliHostOptions {
  logger: Logger;
  /** The gateway's environment, which the CLIs inherit (their `env` merged over it). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export class AgentCliHost {
  private readonly factories: AgentCliDrivers;
  private readonly logger: Logger;
  private readonly env: NodeJS.ProcessEnv;
  /** The current entry of each provider name. */
  private readonly current = new Map<string, DriverEntry>();
  /** Every entry not closed yet (current ones and replaced ones still in use). */
  private readonly live = new Set<DriverEntry>();
  private closed = false;

  constructor(factories: AgentCliDrivers, options: AgentCliHostOptions) {
    this.factories = factories;
    this.logger = options.logger;
    this.env = options.env ?? process.env;
  }

  /** The CLI types this build can drive. */
  get types(): readonly AgentCliType[] {
    return [...this.factories.keys()];
  }

  /** The runtime's builder for `dialect: agent-cli` providers (RuntimeDependencies.ownProviders). */
  readonly build = (provider: ProviderConfig, config: GatewayConfig): OwnExchanges => new AgentCliProvider(this, provider, this.acquire(provider, config));

  private acquire(provider: ProviderConfig, config: GatewayConfig): DriverEntry {
    if (this.closed) throw new Error('the agent-CLI host is closed');
    const cli = provider.agentCli;
    if (cli === undefined) throw new Error(`provider '${provider.name}' is not an agent CLI`);
    const factory = this.factories.get(cli.type);
    if (factory === undefined) {
      const known = this.types;
      throw new Error(`Provider '${provider.name}' (type ${cli.type}): this build of Switchyard has no driver for ${cli.type}${known.length > 0 ? ` (it has: ${known.join(', ')})` : ' (it has none yet)'}; remove the provider or use another type.`);
    }
    const env: Record<string, string | undefined> = { ...this.env, ...cli.env };
    const found = findOnPath(cli.command, env.PATH);
    const stateDirectory = config.storage.path ?? defaultStateDirectory(this.env);
    const settings: AgentCliSettings = {
      name: provider.name,
      type: cli.type,
      command: found ?? cli.command,
      args: [...cli.args],
      env,
      mode: cli.mode,
      workDir: join(stateDirectory, 'agent-clis', provider.name),
      ...(cli.baseUrl !== undefined ? { baseUrl: cli.baseUrl } : {}),
      models: [...provider.models],
    };
    const identity = JSON.stringify(settings);
    const existing = this.current.get(provider.name);
    if (existing !== undefined && existing.identity === identity) {
      existing.users++;
      existing.queue.setLimits(cli.concurrency, cli.queueSize, cli.queueTimeoutMs);
      return existing;
    }
    mkdirSync(settings.workDir, { recursive: true, mode: 0o700 });
    if (found === undefined) this.logger.warn({ provider: provider.name, command: cli.command }, `agent CLI '${cli.command}' not found${cli.command.includes('/') ? '' : ' on PATH'}: its requests will fail until it is installed (or set command:)`);
    const driver = factory(Object.freeze(settings));
    const entry = new DriverEntry(settings, identity, driver, new BoundedSemaphore(cli.concurrency, cli.queueSize, cli.queueTimeoutMs), found !== undefined);
    entry.users = 1;
    // the previous entry (other settings) stays until the runtime that holds it lets go
    this.current.set(provider.name, entry);
    this.live.add(entry);
    return entry;
  }

  /** A runtime no longer uses `entry`: the last one to let go closes its driver. */
  release(entry: DriverEntry): Promise<void> {
    if (entry.users > 0) entry.users--;
    if (entry.users > 0 || !this.live.has(entry)) return Promise.resolve();
    return this.closeEntry(entry);
  }

  private async closeEntry(entry: DriverEntry): Promise<void> {
    this.live.delete(entry);
    if (this.current.get(entry.name) === entry) this.current.delete(entry.name);
    entry.queue.drain();
    try {
      await entry.driver.close();
    } catch (error) {
      this.logger.warn({ provider: entry.name, err: (error as Error).message }, 'agent CLI driver failed to close');
    }
  }

  /** Every driver left is closed (the gateway stops). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live].map((entry) => this.closeEntry(entry)));
  }

  /** Drivers running now (for tests and the status page). */
  get drivers(): number {
    return this.live.size;
  }
}

/** An agent-CLI provider as one runtime serves it. */
class AgentCliProvider implements OwnExchanges {
  readonly label: string;
  private readonly host: AgentCliHost;
  private readonly config: ProviderConfig;
  private readonly entry: DriverEntry;
  /** What the CLI cannot carry of a request's parameters, and what becomes of it (unsupported_params). */
  private readonly parameters: ParameterPolicy;
  private released = false;

  constructor(host: AgentCliHost, config: ProviderConfig, entry: DriverEntry) {
    this.host = host;
    this.config = config;
    this.entry = entry;
    const cli = config.agentCli!;
    this.label = cli.type;
    this.parameters = new ParameterPolicy(config.name, cli.type, CARRIED_PARAMETERS[cli.type], cli.unsupportedParams);
  }

  start(request: OwnExchangeRequest): Exchange | undefined {
    const { context, surface } = request;
    if (surface.operation === 'count-tokens' && surface.countTokens !== undefined) {
      // no CLI counts tokens: the gateway's estimate, marked as one
      const counted = surface.countTokens.decodeRequest(context.parsed, request.surfaceRequest);
      context.active = undefined;
      sendJson(context, 200, surface.countTokens.encodeResponse(estimateTokens([counted.messages, counted.tools])), ['x-switchyard-token-count', 'estimate', 'x-switchyard-provider', this.config.name]);
      return undefined;
    }
    if (surface.operation !== 'chat' || surface.chat === undefined) {
      throw new GatewayError(ErrorCode.unsupportedOperation, `${context.path} cannot be served by provider '${this.config.name}' (agent CLI ${this.label}): it answers chat requests only.`, {
        status: 400, origin: 'downstream', errorClass: 'client-error', param: 'model',
      });
    }
    let canonical = request.canonical();
    if (canonical.tools !== undefined && canonical.tools.length > 0) {
      // before anything runs: a CLI runs its own tools, never the caller's, and cannot hand back a tool call
      throw invalidRequest(
        `Provider '${this.config.name}' is an agent CLI (${this.label}): it cannot call your own function tools — the CLI answers in text and never returns tool calls. Remove 'tools' from the request, or route it to an API provider.`,
        'tools',
      );
    }
    const unsupported = unsupportedFields(canonical);
    let dropped = '';
    if (unsupported.length > 0) {
      dropped = applyUnsupportedTools(unsupported, request.unsupportedTools, { name: this.config.name, config: this.config }, `agent CLI ${this.label}`);
      // dropped means not asked for: the driver never sees them
      const { hostedTools: _dropped, ...rest } = canonical;
      canonical = rest;
    }
    const parameters = this.parameters.apply(canonical, surface.wire, request.unsupportedParams);
    if (parameters !== undefined) {
      dropped = dropped === '' ? parameters.dropped.join(',') : `${dropped},${parameters.dropped.join(',')}`;
      canonical = parameters.request;
    }
    // what this attempt left out, whatever an earlier attempt on another target did
    context.dropped = dropped;
    const entry = this.entry;
    const conversation = entry.conversations.begin(canonical, request.sessionId());
    try {
      return new AgentCliExchange({
        context, surface, surfaceRequest: request.surfaceRequest, upstreamModel: request.upstreamModel, key: request.key, owner: request.owner,
        request: canonical, timeouts: mergeTimeouts(this.config.timeouts, request.timeouts), conversation, slots: entry, repeatable: this.config.agentCli!.mode === 'llm', secrets: request.secrets,
      });
    } catch (error) {
      conversation.settle('unused');
      throw error;
    }
  }

  listModels(signal: AbortSignal): Promise<readonly string[]> {
    return this.entry.driver.listModels(signal);
  }

  describe(): Record<string, unknown> {
    const entry = this.entry;
    const cli = this.config.agentCli!;
    const described: Record<string, unknown> = {
      type: cli.type,
      command: entry.settings.command,
      command_found: entry.commandFound,
      mode: cli.mode,
      concurrency: entry.queue.capacity,
      running: entry.queue.active,
      queued: entry.queue.queued,
      queue_size: entry.queue.queueCapacity,
      queue_timeout_ms: entry.queue.waitLimitMs,
      conversations: entry.conversations.size,
    };
    if (cli.baseUrl !== undefined) described.base_url = cli.baseUrl;
    try {
      const state = entry.driver.describe();
      described.protocol = state.protocol;
      described.workers = state.workers;
      described.turns = state.running;
      described.version = state.version ?? null;
      described.fallback_reason = state.fallbackReason ?? null;
    } catch (error) {
      described.protocol = entry.driver.protocol;
      described.describe_error = (error as Error).message;
    }
    return described;
  }

  release(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return this.host.release(this.entry);
  }
}

/** Hosted tools and server-side fields: a CLI runs none of them (the unsupported_tools policy decides). */
function unsupportedFields(request: CanonicalRequest): string[] {
  const fields: string[] = [];
  for (const tool of request.hostedTools ?? []) if (!fields.includes(tool.field)) fields.push(tool.field);
  for (const name of Object.keys(request.passThrough?.serverSide ?? {})) fields.push(name);
  return fields;
}

function mergeTimeouts(provider: TimeoutSettings, route: Partial<TimeoutSettings> | undefined): TimeoutSettings {
  if (route === undefined) return provider;
  return {
    connectMs: route.connectMs ?? provider.connectMs,
    firstByteMs: route.firstByteMs ?? provider.firstByteMs,
    idleMs: route.idleMs ?? provider.idleMs,
    totalMs: route.totalMs ?? provider.totalMs,
  };
}
