// The opencode driver: opencode's HTTP API (`opencode serve`), one long-lived server per
// provider. A turn is a prompt on an opencode session (`POST /session/{id}/prompt_async`, the
// model always named), its answer read from the server's event stream (`GET /event`), its end
// `session.idle`; abort is `POST /session/{id}/abort`. A conversation keeps its session between
// turns, so opencode holds the history and only what is new is sent.
//
// `llm` mode (the default) makes opencode a model and nothing more, four times over: the managed
// server's config denies every permission and defines the agent used (no prompt of its own, every
// permission denied); each session is created with a deny-all ruleset; each prompt turns every
// tool off; and a tool call the model makes anyway ends the turn (opencode runs nothing — it
// offers no tool — but would call the model again and again).
//
// `agent` mode (opt-in) leaves opencode's tools to its own configuration; each conversation works
// in a directory of its own under the driver's work directory, and whatever opencode asks the
// user to approve is refused (nothing is approved on the caller's behalf).
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorInfo } from '../../canonical/errors.ts';
import type { PartSink } from '../../canonical/adapters.ts';
import { ErrorCode, GatewayError } from '../../canonical/errors.ts';
import { isObject, listFrom, objectFrom, stringFrom } from '../../util/json-value.ts';
import type { AgentCliDriver, AgentCliDriverFactory, AgentCliSettings, AgentCliState, AgentTurn, AgentTurnReport } from '../driver.ts';
import { KNOWN_TOOLS, LLM_AGENT } from './config.ts';
import { refusedInput, serverRefused, shuttingDown } from './errors.ts';
import type { Message } from '../../canonical/request.ts';
import { dialogueOf, heldAfterAnswer, systemPromptOf, unseenFrom, type HeldHistory } from '../transcript.ts';
import { promptParts, UnsafeContent } from './prompt.ts';
import { OpencodeServer } from './server.ts';
import { OpencodeTurn, type TurnOutcome } from './turn.ts';

/** Conversations whose opencode session is kept for the next turn; the least recently used beyond this are let go. */
const MAX_CONVERSATIONS = 256;
/** How long close() waits for the sessions it deletes. */
const CLOSE_CLEANUP_MS = 1000;

interface ModelRef {
  providerID: string;
  modelID: string;
}

/** A conversation's session and what it holds of the conversation. */
class Conversation {
  readonly session: string;
  readonly held: HeldHistory;
  /** A turn runs on the session now, or it has not gone quiet since. */
  busy = true;

  constructor(session: string, held: HeldHistory) {
    this.session = session;
    this.held = held;
  }
}

export class OpencodeDriver implements AgentCliDriver {
  readonly protocol = 'http' as const;
  private readonly settings: AgentCliSettings;
  private readonly server: OpencodeServer;
  private readonly conversations = new Map<string, Conversation>();
  private readonly turns = new Set<OpencodeTurn>();
  /** Turns not on a session yet (the server starting, the model looked up, the session made), not aborted. */
  private starting = 0;
  /** `agent` mode: each session's working directory, and whether it goes with the session (a one-off turn's). */
  private readonly directories = new Map<string, { path: string; oneOff: boolean }>();
  private providerModels: ModelRef[] | undefined = undefined;
  private closing = false;

  constructor(settings: AgentCliSettings) {
    this.settings = settings;
    this.server = new OpencodeServer(settings);
  }

  /** The server's URL once it runs (not part of the driver contract: for the status page and tests). */
  get serverUrl(): string | undefined {
    return this.server.url;
  }

  /** The managed server's process id while it runs. */
  get serverPid(): number | undefined {
    return this.server.pid;
  }

  run(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void): void {
    if (this.closing) {
      sink.onPart({ type: 'error', error: shuttingDown(this.settings.name) });
      return;
    }
    // until the turn is on its session it only waits (nothing of it runs in opencode): an abort
    // ends it at once, and start() finds it aborted when the wait is over
    this.starting++;
    let waiting = true;
    const done = (): void => {
      if (!waiting) return;
      waiting = false;
      this.starting--;
      turn.signal.removeEventListener('abort', done);
    };
    if (turn.signal.aborted) done();
    else turn.signal.addEventListener('abort', done, { once: true });
    // settled when the session is quiet again (the turn's onSettled below), or at once when the
    // turn never got that far
    const handed = { toSession: false };
    void this.start(turn, sink, report, () => {
      handed.toSession = true;
      done();
    }).finally(() => {
      done();
      if (!handed.toSession) turn.onSettled?.();
    });
  }

  async listModels(signal: AbortSignal): Promise<readonly string[]> {
    const models = await abortable(this.loadModels(), signal);
    return models.map((model) => `${model.providerID}/${model.modelID}`);
  }

  describe(): AgentCliState {
    let running = this.starting;
    for (const turn of this.turns) if (!turn.finished) running++;
    return {
      protocol: 'http',
      workers: this.server.running ? 1 : 0,
      running,
      ...(this.server.version !== undefined ? { version: this.server.version } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const error = shuttingDown(this.settings.name);
    for (const turn of this.turns) turn.end(error);
    if (this.settings.mode === 'llm' && !this.server.closed) {
      const deletions = [...this.conversations.values()].map((conversation) => this.deleteSession(conversation.session));
      await Promise.race([Promise.allSettled(deletions), new Promise((resolve) => setTimeout(resolve, CLOSE_CLEANUP_MS).unref())]);
    }
    this.conversations.clear();
    await this.server.close();
  }

  // --- a turn -------------------------------------------------------------------------------

  /** Runs the turn; `started` is called once it is on its session (the turn counted there from then on). */
  private async start(turn: AgentTurn, sink: PartSink, report: (report: AgentTurnReport) => void, started: () => void): Promise<void> {
    const { signal } = turn;
    const { settings } = this;
    const llm = settings.mode === 'llm';
    const system = systemPromptOf(turn.request.messages);
    const messages = dialogueOf(turn.request.messages);
    let model: ModelRef;
    let session: string;
    let from = 0;
    let reused: Conversation | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.server.ensure();
        if (signal.aborted) return;
        model = await this.resolveModel(turn.model);
        if (signal.aborted) return;
        const continued = this.reusable(turn.conversation, system, messages);
        reused = continued?.known;
        if (continued !== undefined) {
          continued.known.busy = true;
          session = continued.known.session;
          from = continued.from;
        } else {
          session = await this.createSession(turn.conversation);
          if (signal.aborted) {
            this.dropSession(session, true);
            return;
          }
        }
        break;
      } catch (error) {
        const info = errorInfo(error);
        // a server that died between turns is started again, once, for this turn
        if (attempt === 1 && info.errorClass === 'connect-failure' && !signal.aborted && await this.server.recover()) continue;
        if (!signal.aborted) sink.onPart({ type: 'error', error: this.closing ? shuttingDown(settings.name) : info });
        return;
      }
    }

    let parts;
    try {
      parts = promptParts(messages, from);
      if (parts.length === 0) throw new UnsafeContent('The conversation ends without a message to answer', 'messages');
    } catch (error) {
      if (reused !== undefined) reused.busy = false;
      else this.dropSession(session, true);
      const param = error instanceof UnsafeContent ? error.param : undefined;
      sink.onPart({ type: 'error', error: refusedInput(settings.name, (error as Error).message, param) });
      return;
    }

    const query = this.queryOf(session);
    const onAbort = (): void => running.abort();
    const running: OpencodeTurn = new OpencodeTurn({
      provider: settings.name,
      mode: settings.mode,
      model: turn.model,
      session,
      query,
      server: this.server,
      sink,
      report,
      onOutcome: (ended, outcome) => {
        signal.removeEventListener('abort', onAbort);
        this.outcome(ended, outcome, turn.conversation, system, messages);
      },
      onSettled: (ended) => {
        this.turns.delete(ended);
        this.settled(ended, turn.conversation);
        turn.onSettled?.();
      },
    });
    this.turns.add(running);
    started();
    this.server.subscribe(session, running);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) {
      running.abort();
      return;
    }

    const body = {
      model,
      ...(llm && this.server.hasLlmAgent ? { agent: LLM_AGENT } : {}),
      ...(system !== undefined ? { system } : {}),
      ...(llm ? { tools: this.toolsOff() } : {}),
      parts,
    };
    running.promptSending();
    try {
      const result = await this.server.call('POST', `/session/${session}/prompt_async${query}`, body);
      if (result.status < 200 || result.status > 299) running.failBeforeStart(serverRefused(settings.name, 'prompt', result.status, result.text));
    } catch (error) {
      running.failBeforeStart(errorInfo(error));
    }
  }

  /** The conversation's session, when this dialogue continues what it holds and nothing runs on it; and where the new messages start. */
  private reusable(conversation: string | undefined, system: string | undefined, messages: readonly Message[]): { known: Conversation; from: number } | undefined {
    if (conversation === undefined) return undefined;
    const known = this.conversations.get(conversation);
    if (known === undefined || known.busy) return undefined;
    const from = unseenFrom(system, messages, known.held);
    if (from === undefined) return undefined;
    // most recently used last
    this.conversations.delete(conversation);
    this.conversations.set(conversation, known);
    return { known, from };
  }

  private outcome(turn: OpencodeTurn, outcome: TurnOutcome, conversation: string | undefined, system: string | undefined, messages: readonly Message[]): void {
    if (conversation === undefined) return;
    const known = this.conversations.get(conversation);
    if (outcome !== 'answered') {
      // a failed or cut-off answer stays in opencode's history: the next turn starts afresh
      if (known?.session === turn.session) this.conversations.delete(conversation);
      return;
    }
    if (known !== undefined && known.session !== turn.session && !known.busy) this.dropSession(known.session, false);
    this.conversations.delete(conversation);
    this.conversations.set(conversation, new Conversation(turn.session, heldAfterAnswer(system, messages)));
    if (this.conversations.size > MAX_CONVERSATIONS) {
      for (const [key, oldest] of this.conversations) {
        if (oldest.busy) continue;
        this.conversations.delete(key);
        this.dropSession(oldest.session, true);
        break;
      }
    }
  }

  private settled(turn: OpencodeTurn, conversation: string | undefined): void {
    const known = conversation === undefined ? undefined : this.conversations.get(conversation);
    if (known !== undefined && known.session === turn.session) {
      known.busy = false;
      return;
    }
    this.dropSession(turn.session, false);
  }

  // --- the server's API ------------------------------------------------------------------------

  private async createSession(conversation: string | undefined): Promise<string> {
    const body = {
      title: `Switchyard: ${this.settings.name}`,
      // a deny-all ruleset on the session itself: holds on a server the gateway does not configure
      ...(this.settings.mode === 'llm' ? { permission: [{ permission: '*', pattern: '*', action: 'deny' }] } : {}),
    };
    let path = '/session';
    let directory: string | undefined;
    if (this.settings.mode === 'agent') {
      directory = conversation !== undefined
        ? join(this.settings.workDir, 'conversations', createHash('sha256').update(conversation).digest('base64url').slice(0, 24))
        : join(this.settings.workDir, 'turns', randomUUID());
      mkdirSync(directory, { recursive: true });
      path = `/session?directory=${encodeURIComponent(directory)}`;
    }
    const created = await this.server.json('POST', path, 'create session', body);
    const id = isObject(created) ? stringFrom(created.id) : undefined;
    if (id === undefined) throw serverRefused(this.settings.name, 'create session', 200, 'no session id in the answer');
    if (directory !== undefined) this.directories.set(id, { path: directory, oneOff: conversation === undefined });
    return id;
  }

  /**
   * The gateway's sessions are its own scratch, deleted when done with: a one-off turn's at its
   * end, a conversation's when another replaces it or it is the least recently used one too many.
   * In `agent` mode a one-off turn's working directory goes too, and a conversation's when the
   * conversation is let go (`forget`).
   */
  private dropSession(session: string, forget: boolean): void {
    const deleted = this.server.closed ? Promise.resolve(undefined) : this.deleteSession(session);
    const directory = this.directories.get(session);
    if (directory === undefined) return;
    this.directories.delete(session);
    if (directory.oneOff || forget) void deleted.then(() => rm(directory.path, { recursive: true, force: true })).catch(() => {});
  }

  /** `?directory=…` for a session working in a directory of its own (agent mode): its opencode instance. */
  private queryOf(session: string): string {
    const directory = this.directories.get(session);
    return directory === undefined ? '' : `?directory=${encodeURIComponent(directory.path)}`;
  }

  private deleteSession(session: string): Promise<unknown> {
    return this.server.call('DELETE', `/session/${session}${this.queryOf(session)}`).catch(() => undefined);
  }

  /** Every tool off by name, and the rest by the wildcard (a prompt's `tools` become its last, deciding rules). */
  private toolsOff(): Record<string, boolean> {
    const tools: Record<string, boolean> = { '*': false };
    for (const tool of KNOWN_TOOLS) tools[tool] = false;
    return tools;
  }

  private async loadModels(): Promise<ModelRef[]> {
    await this.server.ensure();
    const answer = objectFrom(await this.server.json('GET', '/config/providers', 'list models'));
    const models: ModelRef[] = [];
    for (const provider of listFrom(answer?.providers)) {
      if (!isObject(provider)) continue;
      const providerID = stringFrom(provider.id);
      const entries = objectFrom(provider.models);
      if (providerID === undefined || entries === undefined) continue;
      for (const modelID of Object.keys(entries)) models.push({ providerID, modelID });
    }
    this.providerModels = models;
    return models;
  }

  /**
   * `provider/model` as opencode names it is passed as it is; a bare model name is looked up
   * among the providers opencode has (and must name exactly one).
   */
  private async resolveModel(name: string): Promise<ModelRef> {
    const slash = name.indexOf('/');
    if (slash > 0 && slash < name.length - 1) return { providerID: name.slice(0, slash), modelID: name.slice(slash + 1) };
    const models = this.providerModels?.some((model) => model.modelID === name) === true ? this.providerModels : await this.loadModels();
    const matches = models.filter((model) => model.modelID === name);
    if (matches.length === 1) return matches[0]!;
    const provider = this.settings.name;
    if (matches.length === 0) {
      throw new GatewayError(ErrorCode.modelNotFound, `opencode has no model '${name}' (provider '${provider}'); name it as provider/model, as \`opencode models\` lists them`, { status: 404, origin: 'gateway', errorClass: 'not-found', provider });
    }
    const names = matches.map((model) => `${model.providerID}/${model.modelID}`).join(', ');
    throw new GatewayError(ErrorCode.invalidRequest, `More than one of opencode's providers has a model '${name}' (provider '${provider}'): name one of ${names}`, { status: 400, origin: 'downstream', errorClass: 'client-error', provider, param: 'model' });
  }
}

/** An ErrorInfo from whatever a step threw (the server's helpers throw ErrorInfo objects). */
function errorInfo(error: unknown): ErrorInfo {
  if (isObject(error) && typeof error.status === 'number' && typeof error.code === 'string') return error as unknown as ErrorInfo;
  return new GatewayError(ErrorCode.internal, `opencode driver: ${(error as Error)?.message ?? String(error)}`, { status: 500, origin: 'gateway', errorClass: 'none' });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error as Error); },
    );
  });
}

export const createOpencodeDriver: AgentCliDriverFactory = (settings) => new OpencodeDriver(settings);
