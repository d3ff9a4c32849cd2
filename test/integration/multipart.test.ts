// readMultipart on a real loopback server: a form comes out as it went in (fields in order, files
// byte for byte), can be encoded again as often as there are attempts with the model replaced,
// and whatever ends the request — an answer, a 413, a malformed body, the client leaving halfway —
// leaves nothing in the spool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { request as httpRequest, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import type { SpooledForm } from '../../src/server/spooled-form.ts';
import { collect, eventually, rawForm, startFormServer } from '../helpers/multipart.ts';

const BOUNDARY = 'test-boundary-7d1';
const FORM_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

type Body = string | Buffer | FormData;

function post(url: string, body: Body, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(20_000) });
}

test('fields keep their order and values, files their bytes; body() encodes the form again, with overrides, as often as asked', { timeout: 30_000 }, async (t) => {
  const held: ServerResponse[] = [];
  const server = await startFormServer(t, { handle: (_form, response) => held.push(response) });
  const audio = randomBytes(300_000);
  const first = randomBytes(1000);
  const second = randomBytes(2000);
  const sent = new FormData();
  sent.append('model', 'whisper-alias');
  sent.append('prompt', 'Größe — 大きさ, "quoted"');
  sent.append('file', new Blob([audio], { type: 'audio/mpeg' }), 'speech.mp3');
  sent.append('timestamp_granularities[]', 'word');
  sent.append('timestamp_granularities[]', 'segment');
  sent.append('image[]', new Blob([first], { type: 'image/png' }), 'a.png');
  sent.append('image[]', new Blob([second], { type: 'image/png' }), 'b.png');
  sent.append('temperature', '0.2');
  const answered = post(server.url, sent);

  await eventually(() => server.outcomes.length === 1, 'the request reached the server');
  const form = await server.outcomes[0]! as SpooledForm;
  assert.ok(!(form instanceof GatewayError), String(form));
  assert.deepEqual(form.fields.map((field) => [field.name, field.value]), [
    ['model', 'whisper-alias'], ['prompt', 'Größe — 大きさ, "quoted"'], ['timestamp_granularities[]', 'word'], ['timestamp_granularities[]', 'segment'], ['temperature', '0.2'],
  ]);
  assert.deepEqual(form.files, [
    { name: 'file', filename: 'speech.mp3', contentType: 'audio/mpeg', size: audio.length },
    { name: 'image[]', filename: 'a.png', contentType: 'image/png', size: first.length },
    { name: 'image[]', filename: 'b.png', contentType: 'image/png', size: second.length },
  ]);
  assert.deepEqual(form.parts.map((part) => part.kind === 'field' ? part.field.name : `file:${part.file.name}`),
    ['model', 'prompt', 'file:file', 'timestamp_granularities[]', 'timestamp_granularities[]', 'file:image[]', 'file:image[]', 'temperature']);
  assert.equal(form.field('model'), 'whisper-alias');
  assert.ok(form.receivedBytes > audio.length + first.length + second.length);

  // spooled files are this user's only, in a directory that is too
  assert.equal(server.spooled().length, 3);
  assert.equal(statSync(server.spool.directory).mode & 0o777, 0o700);
  for (const name of server.spooled()) assert.equal(statSync(join(server.spool.directory, name)).mode & 0o777, 0o600, name);

  const one = form.body({ model: 'whisper-1', language: 'de', temperature: null });
  const two = form.body({ model: 'whisper-1', language: 'de', temperature: null });
  assert.equal(one.contentType, `multipart/form-data; boundary=${form.boundary}`);
  const bytesOne = await collect(one);
  const bytesTwo = await collect(two);
  assert.equal(bytesOne.length, one.byteLength, 'byteLength is exact (the attempt\'s Content-Length)');
  assert.ok(bytesOne.equals(bytesTwo), 'a replay is the same bytes');
  // an independent parser (undici's) reads the re-encoded form
  const parsed = await new Response(bytesOne, { headers: { 'content-type': one.contentType } }).formData();
  const entries = [...parsed.entries()];
  assert.deepEqual(entries.map(([name, value]) => [name, typeof value === 'string' ? value : `${value.name}:${value.type}:${value.size}`]), [
    ['model', 'whisper-1'], ['prompt', 'Größe — 大きさ, "quoted"'], ['file', `speech.mp3:audio/mpeg:${audio.length}`],
    ['timestamp_granularities[]', 'word'], ['timestamp_granularities[]', 'segment'], ['image[]', `a.png:image/png:${first.length}`], ['image[]', `b.png:image/png:${second.length}`],
    ['language', 'de'],
  ]);
  assert.ok(Buffer.from(await (parsed.get('file') as File).arrayBuffer()).equals(audio), 'the file is byte for byte what was sent');
  assert.ok(Buffer.from(await (parsed.getAll('image[]')[1] as File).arrayBuffer()).equals(second));
  const plain = await collect(form.body());
  const again = await new Response(plain, { headers: { 'content-type': form.contentType } }).formData();
  assert.equal(again.get('model'), 'whisper-alias', 'without overrides the form is as sent');
  assert.equal(again.get('temperature'), '0.2');

  held[0]!.end('done');
  assert.equal(await (await answered).text(), 'done');
  await eventually(() => server.spooled().length === 0, 'the spooled files are removed when the response closes');
  assert.ok(form.isDisposed);
  assert.throws(() => form.body(), (error: unknown) => error instanceof GatewayError && error.code === ErrorCode.canceled && /already released/.test(error.message));
});

test('names and filenames that need escaping, an empty file and a field with its own Content-Type survive the round trip', { timeout: 10_000 }, async (t) => {
  const held: ServerResponse[] = [];
  const server = await startFormServer(t, { handle: (_form, response) => held.push(response) });
  const body = rawForm(BOUNDARY, [
    { name: 'meta', value: '{"a":1}', contentType: 'application/json' },
    { name: 'empty', filename: '', content: '' },
    { name: 'file', filename: 'dir/sub/naïve %22x%22.wav', contentType: 'audio/wav', content: 'RIFF' },
  ]);
  const answered = post(server.url, body, { 'content-type': FORM_TYPE });
  await eventually(() => server.outcomes.length === 1, 'the request reached the server');
  const form = await server.outcomes[0]! as SpooledForm;
  assert.ok(!(form instanceof GatewayError), String(form));
  assert.deepEqual(form.fields, [{ name: 'meta', value: '{"a":1}', contentType: 'application/json' }]);
  assert.deepEqual(form.files.map((file) => [file.name, file.filename, file.size]), [['empty', '', 0], ['file', 'naïve %22x%22.wav', 4]], 'a path in a filename is not passed on');
  const encoded = await collect(form.body({ 'we"ird\r\nname': 'v' }));
  const text = encoded.toString('utf8');
  assert.match(text, /name="meta"\r\nContent-Type: application\/json\r\n\r\n\{"a":1\}\r\n/);
  assert.match(text, /name="empty"; filename=""\r\nContent-Type: application\/octet-stream\r\n\r\n\r\n/);
  assert.match(text, /name="we%22ird%0D%0Aname"\r\n\r\nv\r\n/, 'quotes and line breaks in a name cannot break the part header');
  const parsed = await new Response(encoded, { headers: { 'content-type': form.contentType } }).formData();
  assert.equal((parsed.get('file') as File).name, 'naïve "x".wav', 'the escaped quotes go on as sent (a WHATWG parser reads them as quotes)');
  held[0]!.end();
  await (await answered).arrayBuffer();
  await eventually(() => server.spooled().length === 0, 'the spooled files are removed');
});

/** Sends a form whose file part is `size` bytes, in chunks, without a Content-Length; `onProgress` sees the bytes written. */
function streamUpload(url: string, size: number, onProgress?: (written: number, abort: () => void) => void): Promise<{ status: number; text: string } | Error> {
  return new Promise((resolve) => {
    const request = httpRequest(url, { method: 'POST', headers: { 'content-type': FORM_TYPE, 'transfer-encoding': 'chunked' } });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode!, text }));
      response.on('error', resolve);
    });
    request.on('error', resolve);
    request.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    const abort = (): void => { request.destroy(); };
    const pump = (): void => {
      while (written < size && !request.destroyed) {
        written += chunk.length;
        onProgress?.(written, abort);
        if (request.destroyed) return;
        if (!request.write(chunk)) {
          request.once('drain', pump);
          return;
        }
      }
      if (!request.destroyed) request.end(`\r\n--${BOUNDARY}--\r\n`);
    };
    pump();
  });
}

test('413: a chunked body over body_limit is refused as it arrives, in the middle of a file; nothing stays on disk', { timeout: 20_000 }, async (t) => {
  const server = await startFormServer(t, { limit: 1024 * 1024 });
  const reply = await streamUpload(server.url, 8 * 1024 * 1024);
  const refused = await server.outcomes[0]! as GatewayError;
  assert.ok(refused instanceof GatewayError);
  assert.equal(refused.code, ErrorCode.bodyTooLarge);
  assert.equal(refused.status, 413);
  assert.match(refused.message, /server\.body_limit/);
  if (!(reply instanceof Error)) assert.equal(reply.status, 413);
  await eventually(() => server.spooled().length === 0, 'the partly written file is removed');
});

test('413: a declared Content-Length over body_limit is refused before a byte is read', { timeout: 10_000 }, async (t) => {
  const server = await startFormServer(t, { limit: 1000 });
  const response = await post(server.url, rawForm(BOUNDARY, [{ name: 'file', filename: 'a.bin', content: Buffer.alloc(5000) }]), { 'content-type': FORM_TYPE });
  assert.equal(response.status, 413);
  await response.arrayBuffer();
  assert.equal((await server.outcomes[0]! as GatewayError).code, ErrorCode.bodyTooLarge);
  assert.deepEqual(server.spooled(), []);
});

test('the client leaving mid-upload: the read fails as canceled, the spooled part is removed, nothing is handed on', { timeout: 20_000 }, async (t) => {
  let handed = 0;
  const server = await startFormServer(t, { handle: (_form, response) => { handed++; response.end(); } });
  let aborted = false;
  const reply = await streamUpload(server.url, 64 * 1024 * 1024, (written, abort) => {
    // well into the file part, once it is on disk
    if (!aborted && written >= 4 * 1024 * 1024 && server.spooled().length === 1) {
      aborted = true;
      abort();
    }
  });
  assert.ok(aborted, 'the upload was cut while a file was being spooled');
  assert.ok(reply instanceof Error || reply.status !== 200);
  await eventually(() => server.outcomes.length === 1, 'the server saw the request');
  const outcome = await server.outcomes[0]!;
  assert.ok(outcome instanceof GatewayError, 'the read rejected');
  assert.equal(outcome.code, ErrorCode.canceled);
  await eventually(() => server.spooled().length === 0, 'the partly written file is removed');
  assert.equal(handed, 0, 'nothing went on');
});

test('malformed bodies are a 400 that says what is wrong; a body that is not a form is a 415; nothing stays on disk', { timeout: 20_000 }, async (t) => {
  const server = await startFormServer(t);
  const file = { name: 'file', filename: 'a.bin', content: Buffer.alloc(100_000, 1) };
  const whole = rawForm(BOUNDARY, [{ name: 'model', value: 'm' }, file]);
  const cases: [string, Body, string, number, RegExp][] = [
    ['cut before the closing boundary', whole.subarray(0, whole.length - 30), FORM_TYPE, 400, /Malformed multipart\/form-data body: .*the body ended before the closing boundary/],
    ['no boundary parameter', whole, 'multipart/form-data', 400, /has no boundary parameter/],
    ['no multipart framing at all', 'model=m&x=y', FORM_TYPE, 400, /Malformed multipart\/form-data body/],
    ['an empty body', '', FORM_TYPE, 400, /Malformed multipart\/form-data body/],
    ['a part without a name', `--${BOUNDARY}\r\nContent-Disposition: form-data; filename="x.bin"\r\n\r\nxx\r\n--${BOUNDARY}--\r\n`, FORM_TYPE, 400, /a file part has no name/],
    ['JSON', '{"model":"m"}', 'application/json', 415, /takes a multipart\/form-data body, but the request has Content-Type 'application\/json'/],
  ];
  for (const [what, body, type, status, message] of cases) {
    const response = await post(server.url, body, { 'content-type': type });
    assert.equal(response.status, status, what);
    assert.match(await response.text(), message, what);
  }
  await eventually(() => server.spooled().length === 0, 'nothing stays on disk');
});

test('text fields are bounded in count and size, files in count, part names, file names and content types in size: a 400 naming the limit', { timeout: 20_000 }, async (t) => {
  const server = await startFormServer(t, { limits: { fields: 3, fieldBytes: 100, textBytes: 250, files: 1, nameBytes: 40 } });
  const cases: [string, Buffer, RegExp][] = [
    ['a long field', rawForm(BOUNDARY, [{ name: 'prompt', value: 'x'.repeat(101) }]), /The form field 'prompt' is longer than 100 bytes/],
    ['too many fields', rawForm(BOUNDARY, [1, 2, 3, 4].map((n) => ({ name: `f${n}`, value: 'v' }))), /more than 3 text fields/],
    ['too much text', rawForm(BOUNDARY, [1, 2, 3].map((n) => ({ name: `f${n}`, value: 'x'.repeat(100) }))), /text fields together are longer than 250 bytes/],
    ['too many files', rawForm(BOUNDARY, [{ name: 'a', filename: 'a', content: 'a' }, { name: 'b', filename: 'b', content: 'b' }]), /more than 1 files/],
    ['too many files after the most fields', rawForm(BOUNDARY, [
      ...[1, 2, 3].map((n) => ({ name: `f${n}`, value: 'v' })), { name: 'a', filename: 'a', content: 'a' }, { name: 'b', filename: 'b', content: 'b' },
    ]), /more than 1 files/],
    ['a long field name', rawForm(BOUNDARY, [{ name: 'n'.repeat(41), value: 'v' }]), /a name longer than 40 bytes/],
    ['a long file part name', rawForm(BOUNDARY, [{ name: 'n'.repeat(41), filename: 'f', content: 'f' }]), /a name longer than 40 bytes/],
    ['a long file name', rawForm(BOUNDARY, [{ name: 'file', filename: `${'f'.repeat(37)}.mp3`, content: 'f' }]), /a file name longer than 40 bytes/],
    ['a long content type', rawForm(BOUNDARY, [{ name: 'file', filename: 'f', content: 'f', contentType: `audio/${'x'.repeat(40)}` }]), /a content type longer than 40 bytes/],
  ];
  for (const [what, body, message] of cases) {
    const response = await post(server.url, body, { 'content-type': FORM_TYPE });
    assert.equal(response.status, 400, what);
    assert.match(await response.text(), message, what);
  }
  const fine = await post(server.url, rawForm(BOUNDARY, [{ name: 'n'.repeat(40), value: 'x'.repeat(100) }, { name: 'f', filename: `${'f'.repeat(36)}.mp3`, content: 'f' }]), { 'content-type': FORM_TYPE });
  assert.equal(fine.status, 200, 'at the limits is fine');
  await fine.arrayBuffer();
  await eventually(() => server.spooled().length === 0, 'nothing stays on disk');
});
