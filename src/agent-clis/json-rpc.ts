// JSON-RPC 2.0 over a CLI's stdio, one message per line (Codex `app-server`, which omits the
// "jsonrpc" member, and the Agent Client Protocol of `gemini --acp` / `opencode acp`). Requests
// the gateway sends get promises; notifications and the CLI's own requests to the client (ACP asks
// for permission, file reads) go to handlers. Pending requests are bounded and all fail at once
// when the process ends.
import type { JsonObject } from '../util/json-value.ts';
import { isObject, objectFromLine } from '../util/json-value.ts';

/** More requests than this waiting for answers is a bug in the caller (or a stuck CLI). */
const MAX_PENDING = 1024;

export class JsonRpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

export interface JsonRpcHandlers {
  /** A notification from the CLI (no id). */
  onNotification(method: string, params: unknown): void;
  /**
   * A request from the CLI to the client (ACP `session/request_permission`, `fs/read_text_file`):
   * the result to send back, or a JsonRpcError. Undefined handlers answer "method not found".
   */
  onRequest?(method: string, params: unknown): Promise<unknown> | unknown;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class JsonRpcPeer {
  private readonly send: (line: string) => boolean;
  private readonly handlers: JsonRpcHandlers;
  /** Whether outgoing messages carry `"jsonrpc":"2.0"` (Codex's app-server omits it). */
  private readonly tagged: boolean;
  private nextId = 1;
  private readonly pending = new Map<number | string, Pending>();
  private closedWith: Error | undefined = undefined;

  constructor(send: (line: string) => boolean, handlers: JsonRpcHandlers, options: { tagged?: boolean } = {}) {
    this.send = send;
    this.handlers = handlers;
    this.tagged = options.tagged ?? true;
  }

  request(method: string, params?: unknown): Promise<unknown> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    if (this.pending.size >= MAX_PENDING) return Promise.reject(new Error(`JSON-RPC: ${MAX_PENDING} requests already waiting`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (!this.write({ id, method, ...(params !== undefined ? { params } : {}) })) {
        this.pending.delete(id);
        reject(new Error('JSON-RPC: the process is gone'));
      }
    });
  }

  notify(method: string, params?: unknown): void {
    this.write({ method, ...(params !== undefined ? { params } : {}) });
  }

  /** Feeds one line read from the CLI; lines that are not JSON-RPC messages are returned false. */
  receive(line: string): boolean {
    const message = objectFromLine(line);
    if (message === undefined) return false;
    const id = message.id;
    const method = message.method;
    if (typeof method === 'string') {
      if (id === undefined || id === null) this.handlers.onNotification(method, message.params);
      else this.answer(id as number | string, method, message.params);
      return true;
    }
    if (typeof id !== 'number' && typeof id !== 'string') return false;
    const pending = this.pending.get(id);
    if (pending === undefined) return true;
    this.pending.delete(id);
    const error = message.error;
    if (isObject(error)) pending.reject(new JsonRpcError(typeof error.code === 'number' ? error.code : -32603, typeof error.message === 'string' ? error.message : 'error', error.data));
    else pending.resolve(message.result);
    return true;
  }

  /** The process ended: every waiting request fails with `error`, and later ones at once. */
  close(error: Error): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = error;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const entry of waiting) entry.reject(error);
  }

  private answer(id: number | string, method: string, params: unknown): void {
    const handler = this.handlers.onRequest;
    if (handler === undefined) {
      this.write({ id, error: { code: -32601, message: `Method not found: ${method}` } });
      return;
    }
    Promise.resolve()
      .then(() => handler.call(this.handlers, method, params))
      .then(
        (result) => this.write({ id, result: result ?? null }),
        (error: unknown) => {
          const failure = error instanceof JsonRpcError ? error : new JsonRpcError(-32603, (error as Error).message ?? 'internal error');
          this.write({ id, error: { code: failure.code, message: failure.message, ...(failure.data !== undefined ? { data: failure.data } : {}) } });
        },
      );
  }

  private write(message: JsonObject): boolean {
    const payload = this.tagged ? { jsonrpc: '2.0', ...message } : message;
    return this.send(`${JSON.stringify(payload)}\n`);
  }
}
