import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { ErrorCode, GatewayError } from '../../src/canonical/errors.ts';
import { SpooledForm, type FieldOverrides, type FormPart } from '../../src/server/spooled-form.ts';
import { UploadSpool } from '../../src/server/upload-spool.ts';
import { collect, eventually } from '../helpers/multipart.ts';

function spoolFor(t: TestContext): UploadSpool {
  const parent = mkdtempSync(join(tmpdir(), 'switchyard-form-test-'));
  const spool = UploadSpool.open(parent);
  t.after(() => {
    spool.close();
    rmSync(parent, { recursive: true, force: true });
  });
  return spool;
}

function formWithFile(spool: UploadSpool, content: Buffer): { form: SpooledForm; path: string } {
  const path = spool.nextPath();
  writeFileSync(path, content, { mode: 0o600 });
  const parts: FormPart[] = [
    { kind: 'field', field: { name: 'model', value: 'alias', contentType: 'text/plain' } },
    { kind: 'file', file: { name: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', size: content.length, path } },
  ];
  return { form: new SpooledForm(parts, content.length + 300, spool), path };
}

test('overrides replace every field of the name, add missing ones at the end, and null drops one; the length is exact each time', async (t) => {
  const spool = spoolFor(t);
  const parts: FormPart[] = [
    { kind: 'field', field: { name: 'model', value: 'alias', contentType: 'text/plain' } },
    { kind: 'field', field: { name: 'tag', value: 'a', contentType: 'text/plain' } },
    { kind: 'field', field: { name: 'tag', value: 'b', contentType: 'text/plain' } },
    { kind: 'field', field: { name: 'user', value: 'u', contentType: 'text/plain' } },
  ];
  const form = new SpooledForm(parts, 0, spool);
  const cases: (FieldOverrides | undefined)[] = [undefined, { model: 'upstream-model' }, { tag: 'c', user: null, language: 'fr' }, { model: 'ü'.repeat(1000) }];
  for (const overrides of cases) {
    const body = form.body(overrides);
    const bytes = await collect(body);
    assert.equal(bytes.length, body.byteLength, JSON.stringify(overrides));
    const parsed = await new Response(bytes, { headers: { 'content-type': body.contentType } }).formData();
    const expected = overrides === undefined ? [['model', 'alias'], ['tag', 'a'], ['tag', 'b'], ['user', 'u']]
      : 'tag' in overrides ? [['model', 'alias'], ['tag', 'c'], ['tag', 'c'], ['language', 'fr']]
        : [['model', overrides.model], ['tag', 'a'], ['tag', 'b'], ['user', 'u']];
    assert.deepEqual([...parsed.entries()], expected);
  }
});

test('a spooled file that is gone or shorter than it was fails the body stream with the gateway\'s own error, not a provider\'s', async (t) => {
  const spool = spoolFor(t);
  const gone = formWithFile(spool, randomBytes(1000));
  unlinkSync(gone.path);
  await assert.rejects(collect(gone.form.body()), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.origin, 'gateway');
    assert.equal(error.status, 500);
    assert.equal(error.code, ErrorCode.internal);
    assert.equal(error.retryable, false);
    assert.equal(error.fallbackAllowed, false);
    assert.match(error.message, /Could not read the uploaded file back .*ENOENT/);
    return true;
  });
  const short = formWithFile(spool, randomBytes(200_000));
  truncateSync(short.path, 100_000);
  await assert.rejects(collect(short.form.body()), (error: unknown) => error instanceof GatewayError && /ended after 100000 of 200000 bytes/.test(error.message));
});

test('dispose stops the streams still being read and removes the files; a stream read to its end closes its file', async (t) => {
  const spool = spoolFor(t);
  const { form, path } = formWithFile(spool, randomBytes(1024 * 1024));
  const whole = form.body();
  assert.equal((await collect(whole)).length, whole.byteLength);
  const reading = form.body();
  reading.once('data', () => reading.pause());
  await once(reading, 'data');
  form.dispose();
  assert.equal(reading.destroyed, true, 'the stream in use is stopped');
  await eventually(() => !existsSync(path), 'the file is removed');
  form.dispose();
});
