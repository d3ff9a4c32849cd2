// A 200 MB upload read with readMultipart and sent on to an upstream keeps the reading process's
// memory flat: the file goes to disk as it arrives and back out from disk, a chunk at a time. The
// gateway's side runs alone in a child process (test/helpers/upload-rss.ts) so its RSS is all
// that is measured; the client and the upstream run here.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';

const BOUNDARY = 'memory-boundary-9';
const CHUNK = 64 * 1024;
const MB = 1024 * 1024;

/** The file's bytes: chunk i is filled with i (mod 256), so a lost or repeated chunk changes the hash. */
function fileChunk(offset: number, size: number): Buffer {
  return Buffer.allocUnsafe(Math.min(CHUNK, size - offset)).fill(offset / CHUNK);
}

async function startUpstream(t: TestContext): Promise<string> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const hash = createHash('sha256');
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    request.on('end', () => response.end(JSON.stringify({ length, sha256: hash.digest('hex'), contentType: request.headers['content-type'], contentLength: request.headers['content-length'] })));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startGatewaySide(t: TestContext, upstreamUrl: string): Promise<string> {
  const child = spawn(process.execPath, ['--expose-gc', new URL('../helpers/upload-rss.ts', import.meta.url).pathname, upstreamUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    if (out.includes('\n')) break;
  }
  return out.trim();
}

/** Streams a form with a `size`-byte file, a chunk at a time as the socket takes it. */
function upload(url: string, size: number): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'transfer-encoding': 'chunked' } });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`${response.statusCode}: ${text}`))));
    });
    request.on('error', reject);
    request.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nalias\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        const chunk = fileChunk(sent, size);
        sent += chunk.length;
        if (!request.write(chunk)) {
          request.once('drain', pump);
          return;
        }
      }
      request.end(`\r\n--${BOUNDARY}--\r\n`);
    };
    pump();
  });
}

/** The hash of the form as the gateway should send it on: the model replaced, the file as sent. */
function expectedHash(boundary: string, size: number): string {
  const hash = createHash('sha256');
  hash.update(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nupstream-model\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
  for (let offset = 0; offset < size; offset += CHUNK) hash.update(fileChunk(offset, size));
  hash.update(`\r\n--${boundary}--\r\n`);
  return hash.digest('hex');
}

test('a 200 MB upload is spooled and sent on with the reading process\'s RSS growing by far less than the file', { timeout: 120_000 }, async (t) => {
  const upstreamUrl = await startUpstream(t);
  const url = await startGatewaySide(t, upstreamUrl);
  await upload(url, 4 * MB); // code and pools loaded before measuring
  const size = 200 * MB;
  const result = await upload(url, size);
  assert.equal(result.fileSize, size);
  assert.equal(result.model, 'alias');
  assert.equal(result.upstream.length, result.bodyLength, 'the upstream received the whole form');
  assert.equal(result.upstream.contentLength, String(result.bodyLength), 'with its exact content-length');
  const boundary = /boundary=(.+)$/.exec(result.upstream.contentType)![1]!;
  assert.equal(result.upstream.sha256, expectedHash(boundary, size), 'byte for byte, with the model replaced');
  const grewBy = result.rssPeak - result.rssBefore;
  t.diagnostic(`RSS before ${(result.rssBefore / MB).toFixed(1)} MB, peak ${(result.rssPeak / MB).toFixed(1)} MB (+${(grewBy / MB).toFixed(1)} MB) for a ${size / MB} MB upload`);
  // Held whole, the file would cost 200 MB or more. What shows (about 40-55 MB) is chunks already
  // written, waiting for V8 to collect them — it collects Buffers by the amount allocated outside
  // its heap — and does not grow with the upload: about +44 MB for 50 MB, +61 MB for 400 MB.
  assert.ok(grewBy < 96 * MB, `RSS grew by ${(grewBy / MB).toFixed(1)} MB`);
});
