import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UploadSpool } from '../../src/server/upload-spool.ts';

function parentDirectory(t: { after(fn: () => void): void }): string {
  const parent = mkdtempSync(join(tmpdir(), 'switchyard-spool-test-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  return parent;
}

/** A pid that no process has now: one that just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

test('the spool is a directory of this process, readable by this user only, with fresh names', (t) => {
  const parent = parentDirectory(t);
  const spool = UploadSpool.open(parent);
  assert.match(spool.directory, new RegExp(`/switchyard-uploads-${process.pid}-[^/]+$`));
  assert.equal(statSync(spool.directory).mode & 0o777, 0o700);
  const first = spool.nextPath();
  const second = spool.nextPath();
  assert.notEqual(first, second);
  assert.ok(first.startsWith(spool.directory));
  writeFileSync(first, 'x');
  spool.close();
  assert.equal(existsSync(spool.directory), false, 'closing removes the directory and what is in it');
  spool.close();
});

test('opening removes the directories that crashed processes left, and keeps those of running ones', (t) => {
  const parent = parentDirectory(t);
  const stale = join(parent, `switchyard-uploads-${deadPid()}-abc123`);
  mkdirSync(stale, { mode: 0o700 });
  writeFileSync(join(stale, '1.part'), 'left behind');
  const running = join(parent, `switchyard-uploads-${process.ppid}-def456`);
  mkdirSync(running, { mode: 0o700 });
  const unrelated = join(parent, 'something-else-1');
  mkdirSync(unrelated);
  const spool = UploadSpool.open(parent);
  t.after(() => spool.close());
  assert.equal(existsSync(stale), false, 'a dead process\'s spool is removed');
  assert.equal(existsSync(running), true, 'a running process\'s spool is kept');
  assert.equal(existsSync(unrelated), true, 'other directories are not touched');
  assert.deepEqual(readdirSync(parent).sort(), [running, spool.directory, unrelated].map((path) => path.slice(parent.length + 1)).sort());
});

test('at start-up the spool opens without reading the directory, and the sweep after listening removes what crashed processes left, as opening does', (t) => {
  const parent = parentDirectory(t);
  const stale = join(parent, `switchyard-uploads-${deadPid()}-abc123`);
  mkdirSync(stale, { mode: 0o700 });
  writeFileSync(join(stale, '1.part'), 'left behind');
  const running = join(parent, `switchyard-uploads-${process.pid}-def456`);
  mkdirSync(running, { mode: 0o700 });
  const module = new URL('../../src/server/upload-spool.ts', import.meta.url).href;
  const code = `import { sweepStaleSpools, uploadSpool } from ${JSON.stringify(module)}; import { existsSync } from 'node:fs';
    const spool = uploadSpool({ sweep: false }); const before = existsSync(${JSON.stringify(stale)});
    sweepStaleSpools(); sweepStaleSpools();
    console.log(JSON.stringify({ before, after: existsSync(${JSON.stringify(stale)}), own: existsSync(spool.directory) }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: parent } });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { before: true, after: false, own: true }, 'not swept while opening; swept after; its own kept');
  assert.equal(existsSync(running), true, 'a running process\'s spool is kept');
});

test('the process\'s spool (under $TMPDIR) is removed when the process exits; one killed leaves it to the next process', (t) => {
  const parent = parentDirectory(t);
  const module = new URL('../../src/server/upload-spool.ts', import.meta.url).href;
  const run = (code: string) => spawnSync(process.execPath, ['--input-type=module', '-e', `import { uploadSpool } from ${JSON.stringify(module)}; ${code}`], {
    encoding: 'utf8', env: { PATH: process.env.PATH, TMPDIR: parent },
  });
  const exited = run('const spool = uploadSpool(); console.log(spool.directory); process.exit(0);');
  assert.equal(exited.status, 0, exited.stderr);
  assert.ok(exited.stdout.trim().startsWith(parent));
  assert.equal(existsSync(exited.stdout.trim()), false, 'removed at exit');
  const killed = run("const spool = uploadSpool(); console.log(spool.directory); process.kill(process.pid, 'SIGKILL');");
  const left = killed.stdout.trim();
  assert.equal(existsSync(left), true, 'a killed process cannot clean up');
  const next = run('console.log(uploadSpool().directory);');
  assert.equal(next.status, 0, next.stderr);
  assert.equal(existsSync(left), false, 'the next process removes it');
});
