import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { LineBatch } from '../../src/observability/line-batch.ts';

class Target {
  readonly written: Buffer[] = [];
  flushes = 0;
  write(data: Buffer): boolean {
    this.written.push(Buffer.from(data)); // a copy: what the destination would write later
    return true;
  }
  flush(cb?: () => void): void {
    this.flushes++;
    cb?.();
  }
  flushSync(): void {}
  get text(): string {
    return Buffer.concat(this.written).toString('utf8');
  }
}

test('lines are gathered and handed over in whole buffers, in order, nothing lost or split', () => {
  const target = new Target();
  const batch = new LineBatch(target);
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(`{"n":${i},"text":"${'é'.repeat(i % 50)}"}\n`);
  for (const line of lines) batch.write(line);
  assert.ok(target.written.length >= 1, 'full buffers were handed over before any flush');
  assert.ok(target.written.every((chunk) => chunk.length <= 65536));
  assert.ok(target.written.every((chunk) => chunk.toString('utf8').endsWith('\n')), 'a buffer never ends inside a line');
  batch.flush();
  assert.equal(target.flushes, 1);
  assert.equal(target.text, lines.join(''));
});

test('flush hands over a partial buffer; a line longer than a buffer goes whole', () => {
  const target = new Target();
  const batch = new LineBatch(target);
  batch.write('first\n');
  assert.equal(target.written.length, 0, 'one short line waits for more');
  batch.flush();
  assert.equal(target.text, 'first\n');
  const long = `${'x'.repeat(100_000)}\n`;
  batch.write('second\n');
  batch.write(long);
  batch.write('third\n');
  batch.flush();
  assert.equal(target.text, `first\nsecond\n${long}third\n`);
});

test('lines still gathered when the process exits are written (stdout is a pipe here)', () => {
  const script = `
    import { createLoggers } from './src/observability/logger.ts';
    const { sink, logger } = createLoggers({ level: 'info', format: 'json' });
    for (let i = 0; i < 1000; i++) sink.write('{"n":' + i + '}\\n');
    logger.info('last');
    process.exit(0);
  `;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { n?: number; msg?: string });
  assert.equal(lines.length, 1001);
  assert.deepEqual(lines.slice(0, 1000).map((line) => line.n), [...Array(1000).keys()]);
  assert.equal(lines[1000]!.msg, 'last');
});
