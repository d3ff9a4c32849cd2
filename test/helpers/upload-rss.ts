// The gateway's side of an upload, alone in a child process so that its memory is all that RSS
// measures (test/integration/multipart-memory.test.ts runs the client and the upstream): every
// request is read with readMultipart, then sent on once to the upstream through an
// UpstreamAttempt, and answered with the form's sizes and the RSS while it was handled.
// Usage: node --expose-gc test/helpers/upload-rss.ts <upstream url>; prints its own URL on stdout.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayError } from '../../src/canonical/errors.ts';
import { readMultipart } from '../../src/server/multipart.ts';
import type { FormBodyStream } from '../../src/server/spooled-form.ts';
import { UploadSpool } from '../../src/server/upload-spool.ts';
import { Endpoint } from '../../src/upstream/endpoint.ts';
import { UpstreamAttempt, type AttemptSink } from '../../src/upstream/attempt.ts';

const endpoint = new Endpoint({
  provider: 'p', baseUrl: `${process.argv[2]}/v1`, apiKeys: [], auth: { header: 'authorization', prefix: 'Bearer ' }, headers: {},
  timeouts: { connectMs: 5000, firstByteMs: 60_000, idleMs: 60_000, totalMs: 0 }, pool: { connections: 2, keepAliveMs: 4000 },
});
const parent = mkdtempSync(join(tmpdir(), 'switchyard-rss-'));
const spool = UploadSpool.open(parent);
const gc = (globalThis as { gc?: () => void }).gc;

let peak = 0;
setInterval(() => {
  const rss = process.memoryUsage().rss;
  if (rss > peak) peak = rss;
}, 10).unref();

function sendOn(body: FormBodyStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const sink: AttemptSink = {
      onAttemptStart: () => {},
      onAttemptData: (_attempt, chunk) => { text += chunk.toString('utf8'); },
      onAttemptEnd: () => resolve(text),
      onAttemptError: (_attempt, error) => reject(error),
    };
    new UpstreamAttempt(endpoint, sink).start({ method: 'POST', path: '/audio/transcriptions', headers: ['content-type', body.contentType, 'content-length', String(body.byteLength)], body });
  });
}

const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  gc?.();
  const before = process.memoryUsage().rss;
  peak = before;
  readMultipart(request, { limit: 1024 * 1024 * 1024, response, spool }).then(async (form) => {
    const body = form.body({ model: 'upstream-model' });
    const upstream = JSON.parse(await sendOn(body)) as Record<string, unknown>;
    peak = Math.max(peak, process.memoryUsage().rss);
    response.end(JSON.stringify({ fileSize: form.files[0]?.size, model: form.field('model'), bodyLength: body.byteLength, upstream, rssBefore: before, rssPeak: peak }));
  }, (error: GatewayError) => {
    response.statusCode = error.status;
    response.end(error.message);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`));
process.once('SIGTERM', () => {
  spool.close();
  rmSync(parent, { recursive: true, force: true });
  process.exit(0);
});
