// A small, spec-following Server-Sent Events parser for tests. It follows the WHATWG dispatch
// rules (blank line dispatches, one optional space after the colon is dropped, multi-line data is
// joined with '\n', comments and events without data are skipped, an unterminated trailing event
// is discarded) so a test sees exactly what a browser or the OpenAI SDK would see.

import { Readable } from 'node:stream';

export interface SseEvent {
  event?: string;
  data: string;
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  let eventName: string | undefined;
  let dataLines: string[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (const line of body.split(/\r\n|\r|\n/)) {
    if (line === '') {
      if (dataLines.length > 0) {
        const event: SseEvent = { data: dataLines.join('\n') };
        if (eventName !== undefined) event.event = eventName;
        events.push(event);
      }
      eventName = undefined;
      dataLines = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') dataLines.push(value);
    else if (field === 'event') eventName = value;
    // 'id' and 'retry' carry nothing the tests look at.
  }
  return events;
}

/** Reads a whole SSE body (a fetch Response, or a Node Readable such as an IncomingMessage). */
export async function readSse(
  source: { body: AsyncIterable<Uint8Array> | null } | Readable,
): Promise<SseEvent[]> {
  return parseSse(await readText(source));
}

export async function readText(
  source: { body: AsyncIterable<Uint8Array> | null } | Readable,
): Promise<string> {
  const iterable: AsyncIterable<Uint8Array | string> | null =
    source instanceof Readable ? source : source.body;
  if (iterable === null) return '';
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of iterable) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}

/** Reads a response until at least `count` whole events have arrived; resolves with the text so far. */
export function readUntilEvents(incoming: NodeJS.ReadableStream & { setEncoding(encoding: BufferEncoding): unknown }, count: number): Promise<string> {
  let received = '';
  return new Promise<string>((resolve) => {
    incoming.setEncoding('utf8');
    incoming.on('data', (data: string) => {
      received += data;
      if (parseSse(received).length >= count) resolve(received);
    });
    incoming.on('error', () => {});
  });
}
