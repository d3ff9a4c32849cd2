// An upstream attempt that sends a spooled form as a stream: each attempt reads the form again
// from disk (a retry sends the same bytes, with the model it was routed to), a file that cannot be
// read back is the gateway's failure and not the provider's, and an upstream that answers before
// reading the whole upload (a 401) is an answer, with the file closed behind it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../../src/canonical/errors.ts';
import { SpooledForm, type FormBodyStream, type FormPart } from '../../src/server/spooled-form.ts';
import { UploadSpool } from '../../src/server/upload-spool.ts';
import { Endpoint } from '../../src/upstream/endpoint.ts';
import { UpstreamAttempt, type AttemptRequest, type AttemptSink } from '../../src/upstream/attempt.ts';
import { listenOnLoopback } from '../helpers/ports.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  length: number;
  sha256: string;
  model: string | undefined;
}

async function startUpstream(t: TestContext): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.url === '/v1/refuse') {
      // answers at once, without reading the upload
      response.writeHead(401, { 'content-type': 'application/json', connection: 'close' });
      response.end('{"error":{"message":"bad key"}}');
      return;
    }
    const hash = createHash('sha256');
    let length = 0;
    let head = '';
    request.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      if (head.length < 4096) head += chunk.toString('latin1');
    });
    request.on('end', () => {
      const model = /name="model"\r\n\r\n([^\r]*)\r\n/.exec(head)?.[1];
      received.push({ path: request.url!, headers: request.headers, length, sha256: hash.digest('hex'), model });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"text":"hello"}');
    });
  });
  return { url: await listenOnLoopback(t, server), received };
}

function endpointFor(t: TestContext, url: string): Endpoint {
  const endpoint = new Endpoint({
    provider: 'p', baseUrl: `${url}/v1`, apiKeys: ['sk-test'], auth: { header: 'authorization', prefix: 'Bearer ' }, headers: {},
    timeouts: { connectMs: 2000, firstByteMs: 5000, idleMs: 5000, totalMs: 0 }, pool: { connections: 4, keepAliveMs: 4000 },
  });
  t.after(() => endpoint.destroy());
  return endpoint;
}

interface Outcome { status: number; body: string; error: GatewayError | undefined }

function attempt(endpoint: Endpoint, path: string, body: FormBodyStream): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let status = 0;
    const sink: AttemptSink = {
      onAttemptStart: (_attempt, code) => { status = code; },
      onAttemptData: (_attempt, chunk) => { chunks.push(chunk); },
      onAttemptEnd: () => resolve({ status, body: Buffer.concat(chunks).toString('utf8'), error: undefined }),
      onAttemptError: (_attempt, error) => resolve({ status, body: '', error }),
    };
    const request: AttemptRequest = {
      method: 'POST', path, body,
      headers: ['content-type', body.contentType, 'content-length', String(body.byteLength)],
    };
    new UpstreamAttempt(endpoint, sink).start(request);
  });
}

function formOf(t: TestContext, content: Buffer): { form: SpooledForm; path: string } {
  const parent = mkdtempSync(join(tmpdir(), 'switchyard-attempt-test-'));
  const spool = UploadSpool.open(parent);
  t.after(() => {
    spool.close();
    rmSync(parent, { recursive: true, force: true });
  });
  const path = spool.nextPath();
  writeFileSync(path, content, { mode: 0o600 });
  const parts: FormPart[] = [
    { kind: 'field', field: { name: 'model', value: 'alias', contentType: 'text/plain' } },
    { kind: 'file', file: { name: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', size: content.length, path } },
    { kind: 'field', field: { name: 'language', value: 'en', contentType: 'text/plain' } },
  ];
  const form = new SpooledForm(parts, 0, spool);
  t.after(() => form.dispose());
  return { form, path };
}

test('each attempt streams the form from disk with its content-length; a second attempt sends the same bytes with its own model', { timeout: 30_000 }, async (t) => {
  const upstream = await startUpstream(t);
  const endpoint = endpointFor(t, upstream.url);
  const { form } = formOf(t, randomBytes(5 * 1024 * 1024));
  const first = form.body({ model: 'model-a' });
  const outcome = await attempt(endpoint, '/audio/transcriptions', first);
  assert.equal(outcome.error, undefined, outcome.error?.message);
  assert.equal(outcome.status, 200);
  assert.equal(outcome.body, '{"text":"hello"}');
  assert.equal(first.destroyed, true, 'the stream is closed with the attempt');
  const again = await attempt(endpoint, '/audio/transcriptions', form.body({ model: 'model-a' }));
  assert.equal(again.status, 200);
  const other = await attempt(endpoint, '/audio/transcriptions', form.body({ model: 'model-b' }));
  assert.equal(other.status, 200);
  const [one, two, three] = upstream.received;
  assert.equal(one!.path, '/v1/audio/transcriptions');
  assert.equal(one!.headers['content-length'], String(first.byteLength));
  assert.equal(one!.headers['transfer-encoding'], undefined, 'sent with a length, not chunked');
  assert.equal(one!.headers['content-type'], form.contentType);
  assert.equal(one!.headers.authorization, 'Bearer sk-test');
  assert.equal(one!.length, first.byteLength);
  assert.equal(one!.sha256, two!.sha256, 'a retry sends the same bytes');
  assert.equal(one!.model, 'model-a');
  assert.equal(three!.model, 'model-b');
  assert.notEqual(three!.sha256, one!.sha256);
});

test('a spooled file that cannot be read back fails the attempt with the gateway\'s own error (500, no retry, no fallback)', { timeout: 10_000 }, async (t) => {
  const upstream = await startUpstream(t);
  const endpoint = endpointFor(t, upstream.url);
  const { form, path } = formOf(t, randomBytes(100_000));
  unlinkSync(path);
  const outcome = await attempt(endpoint, '/audio/transcriptions', form.body({ model: 'm' }));
  assert.ok(outcome.error instanceof GatewayError, 'the attempt failed');
  assert.equal(outcome.error.origin, 'gateway');
  assert.equal(outcome.error.status, 500);
  assert.equal(outcome.error.errorClass, 'none');
  assert.equal(outcome.error.fallbackAllowed, false);
  assert.match(outcome.error.message, /Could not read the uploaded file back/);
  assert.equal(upstream.received.length, 0, 'the upstream never saw a whole request');
});

test('an upstream that answers before reading the upload: its answer is the outcome, and the file is closed', { timeout: 20_000 }, async (t) => {
  const upstream = await startUpstream(t);
  const endpoint = endpointFor(t, upstream.url);
  const { form } = formOf(t, randomBytes(32 * 1024 * 1024));
  const body = form.body({ model: 'm' });
  const outcome = await attempt(endpoint, '/refuse', body);
  if (outcome.error !== undefined) {
    // the socket may be reset before the answer is read: then it is the provider's reset, never the gateway's
    assert.equal(outcome.error.origin, 'upstream', outcome.error.message);
  } else {
    assert.equal(outcome.status, 401);
    assert.match(outcome.body, /bad key/);
  }
  assert.equal(body.destroyed, true, 'the upload stream is stopped');
  const healthy = await attempt(endpoint, '/audio/transcriptions', form.body({ model: 'm' }));
  assert.equal(healthy.status, 200, 'the endpoint still works');
});
