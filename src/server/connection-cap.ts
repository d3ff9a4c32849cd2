// A cap on client connections, below the process's file-descriptor limit, that keeps the gateway
// answering at the cap. Refusing new connections at the cap (what net.Server's maxConnections
// does) would hand the listener to whoever opened the most sockets: 21,000 half-open connections
// and even `/healthz` is refused. Instead a new connection replaces the oldest one that holds no
// work — an idle keep-alive socket or one that has not finished its headers — and failing that
// the oldest one still uploading its request; only when every connection carries a request being
// answered is the new one refused. Counting and eviction cost nothing per request: sockets are
// looked at only when the cap is reached.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { Socket } from 'node:net';

/** Descriptors kept for everything that is not a client connection: the database, logs, config, DNS. */
const RESERVED_DESCRIPTORS = 128;
/** Past this, memory rather than descriptors is the limit: raise max_connections explicitly. */
const DERIVED_MAX = 65_536;
const DERIVED_MIN = 32;
/** When the limit cannot be read (not Linux): the most common soft limit. */
const FALLBACK_OPEN_FILES = 1024;

/**
 * The soft RLIMIT_NOFILE of this process as the kernel reports it (Node raises the soft limit to
 * the hard one at start, so the shell's `ulimit -n` may be lower than what applies here), or
 * undefined where /proc is not available.
 */
export function openFileLimit(limits = '/proc/self/limits'): number | undefined {
  let text: string;
  try {
    text = readFileSync(limits, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^Max open files\s+(\S+)/m.exec(text);
  if (match === null) return undefined;
  if (match[1] === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const value = Number(match[1]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/**
 * The default connection cap for a descriptor limit: every client connection with a request in
 * flight may hold an upstream socket too, so half of what is left after the reserve.
 */
export function defaultMaxConnections(limit = openFileLimit() ?? FALLBACK_OPEN_FILES): number {
  return Math.min(DERIVED_MAX, Math.max(DERIVED_MIN, Math.floor((limit - RESERVED_DESCRIPTORS) / 2)));
}

/** Node's own link from a socket to the response being written on it (absent between requests). */
interface HttpSocket extends Socket {
  _httpMessage?: (http.ServerResponse & { req?: http.IncomingMessage }) | null;
}

/** Caps `server`'s client connections at `max`. */
export function capConnections(server: http.Server, max: number): ConnectionCap {
  return new ConnectionCap(server, max);
}

export class ConnectionCap {
  readonly max: number;
  /** Open client connections, oldest first. */
  private readonly sockets = new Set<Socket>();
  private readonly forget: (this: Socket) => void;
  /** Connections closed to make room, and connections refused because every one was busy. */
  evicted = 0;
  refused = 0;

  constructor(server: http.Server, max: number) {
    this.max = max;
    const sockets = this.sockets;
    this.forget = function forget(this: Socket) {
      sockets.delete(this);
    };
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  get open(): number {
    return this.sockets.size;
  }

  private admit(socket: Socket): void {
    if (this.sockets.size >= this.max) {
      const victim = this.victim();
      if (victim === undefined) {
        this.refused++;
        socket.destroy();
        return;
      }
      this.evicted++;
      this.sockets.delete(victim);
      victim.destroy();
    }
    this.sockets.add(socket);
    socket.once('close', this.forget);
  }

  /** The oldest connection without a request being answered, else the oldest still uploading one. */
  private victim(): Socket | undefined {
    let uploading: Socket | undefined;
    for (const socket of this.sockets) {
      const response = (socket as HttpSocket)._httpMessage;
      if (response === undefined || response === null) return socket;
      if (uploading === undefined && response.req !== undefined && !response.req.complete) uploading = socket;
    }
    return uploading;
  }
}
