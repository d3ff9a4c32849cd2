// A minimal HTTP/1.1 response parser for the load clients: status, content-length or chunked
// bodies, keep-alive. Payload bytes are handed out as views, never copied. And the keep-alive
// connection both clients read their answers from through it.
import net from 'node:net';

export interface ResponseSink {
  /** `head`: the status line and headers, lower-cased. */
  onHead(status: number, head: string): void;
  onPayload(chunk: Buffer, start: number, end: number): void;
  onComplete(): void;
}

const phase = { head: 0, length: 1, chunkSize: 2, chunkData: 3, chunkEnd: 4, trailer: 5, untilClose: 6 } as const;
type Phase = (typeof phase)[keyof typeof phase];

export class ResponseParser {
  status = 0;
  /** False when the server said `connection: close` (or HTTP/1.0 without keep-alive). */
  keepAlive = true;
  private state: Phase = phase.head;
  private head = '';
  private line = '';
  private remaining = 0;
  private readonly sink: ResponseSink;

  constructor(sink: ResponseSink) {
    this.sink = sink;
  }

  /** True while a response is partly read (a close now is an error). */
  get midResponse(): boolean {
    return this.state !== phase.head || this.head.length > 0;
  }

  push(chunk: Buffer): void {
    let offset = 0;
    const length = chunk.length;
    while (offset < length) {
      switch (this.state) {
        case phase.head: {
          const text = this.head + chunk.toString('latin1', offset);
          const end = text.indexOf('\r\n\r\n');
          if (end < 0) {
            this.head = text;
            return;
          }
          offset += end + 4 - this.head.length;
          this.head = '';
          this.startBody(text.slice(0, end));
          break;
        }
        case phase.length:
        case phase.chunkData: {
          const take = Math.min(this.remaining, length - offset);
          this.sink.onPayload(chunk, offset, offset + take);
          offset += take;
          this.remaining -= take;
          if (this.remaining > 0) break;
          if (this.state === phase.length) this.complete();
          else { this.state = phase.chunkEnd; this.remaining = 2; }
          break;
        }
        case phase.chunkEnd: {
          const take = Math.min(this.remaining, length - offset);
          offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = phase.chunkSize;
          break;
        }
        case phase.chunkSize:
        case phase.trailer: {
          const newline = chunk.indexOf(10, offset);
          const stop = newline < 0 ? length : newline;
          this.line += chunk.toString('latin1', offset, stop);
          offset = stop;
          if (newline < 0) return;
          offset++;
          const line = this.line.trim();
          this.line = '';
          if (this.state === phase.trailer) {
            if (line === '') this.complete();
          } else {
            const size = Number.parseInt(line.split(';')[0]!, 16);
            if (Number.isNaN(size)) throw new Error(`bad chunk size line '${line}'`);
            if (size === 0) this.state = phase.trailer;
            else { this.state = phase.chunkData; this.remaining = size; }
          }
          break;
        }
        case phase.untilClose:
          this.sink.onPayload(chunk, offset, length);
          return;
      }
    }
  }

  /** The connection closed: completes a body delimited by the close. */
  end(): void {
    if (this.state === phase.untilClose) this.complete();
  }

  private startBody(head: string): void {
    this.status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    this.keepAlive = !/\r\nconnection:\s*close/.test(lower) && !lower.startsWith('http/1.0');
    this.sink.onHead(this.status, lower);
    if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      this.state = phase.chunkSize;
      return;
    }
    const match = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    if (match === null) {
      this.state = this.status === 204 || this.status === 304 ? phase.head : phase.untilClose;
      if (this.state === phase.head) this.sink.onComplete();
      return;
    }
    this.remaining = Number(match[1]);
    this.state = phase.length;
    if (this.remaining === 0) this.complete();
  }

  private complete(): void {
    this.state = phase.head;
    this.line = '';
    this.sink.onComplete();
  }
}

/** What a client's connection reports (connectParsed). */
export interface ConnectionEvents {
  /** Connected: the first request may go. */
  connected(): void;
  /** The answer could not be read (a parse error) or the socket failed. */
  failed(reason: string): void;
  /** The socket closed; the parser has been told (a partial answer is then the caller's to judge). */
  closed(): void;
}

/** One keep-alive connection to 127.0.0.1:`port` whose bytes go through `parser`. */
export function connectParsed(port: number, parser: ResponseParser, events: ConnectionEvents): net.Socket {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  socket.on('connect', () => events.connected());
  socket.on('data', (chunk: Buffer) => {
    try {
      parser.push(chunk);
    } catch (error) {
      events.failed(`unparsable response: ${(error as Error).message}`);
    }
  });
  socket.on('error', (error) => events.failed(`socket error: ${error.message}`));
  socket.on('close', () => {
    parser.end();
    events.closed();
  });
  return socket;
}
