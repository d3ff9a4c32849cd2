// Where uploaded files wait while a request is routed and tried: one directory per process under
// the system's temporary directory ($TMPDIR), readable by this user only. A process that exits
// removes its directory; one that crashed leaves it behind, and the next process to start removes
// it (a directory whose process no longer runs).
import { lstatSync, mkdtempSync, readdirSync, rmSync, unlink } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'switchyard-uploads-';
const NAME = /^switchyard-uploads-(\d+)-/;

export class UploadSpool {
  /** The process's own directory (mode 0700). */
  readonly directory: string;
  private counter = 0;
  private closed = false;

  private constructor(directory: string) {
    this.directory = directory;
  }

  /**
   * Removes what crashed processes left in `parent` (unless `sweep` is false: the caller sweeps
   * with `sweepStaleSpools`), then makes this process's directory there. Synchronous: it runs
   * once, at startup (or at the first upload).
   */
  static open(parent: string = tmpdir(), sweep = true): UploadSpool {
    if (sweep) removeStale(parent);
    // mkdtemp makes the directory 0700 under a name no one could have prepared in advance
    return new UploadSpool(mkdtempSync(join(parent, `${PREFIX}${process.pid}-`)));
  }

  /** A fresh file name in the directory (the caller creates it with `wx`, mode 0600). */
  nextPath(): string {
    return join(this.directory, `${++this.counter}.part`);
  }

  /** Removes one spooled file; a failure (already gone) is of no consequence. */
  remove(path: string): void {
    unlink(path, ignore);
  }

  /** Removes the directory and whatever is still in it (at exit). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function ignore(): void {}

/** Removes `parent`'s upload directories whose process no longer runs (and that belong to this user). */
function removeStale(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const uid = process.getuid?.();
  for (const name of names) {
    if (!isStale(name)) continue;
    const path = join(parent, name);
    try {
      const stat = lstatSync(path);
      if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // another process cleaned it first, or it is not ours to remove
    }
  }
}

let swept = false;

/** At start-up, once listening: removes what crashed processes left in the temporary directory (once per process). */
export function sweepStaleSpools(): void {
  if (swept) return;
  swept = true;
  removeStale(tmpdir());
}

/** A spool directory's name whose process no longer runs. */
function isStale(name: string): boolean {
  const match = NAME.exec(name);
  if (match === null) return false;
  const pid = Number(match[1]);
  return pid !== process.pid && !isRunning(pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process runs, as another user
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let shared: UploadSpool | undefined;

/**
 * The process's spool, opened at the first call (call it at startup so stale directories go
 * then) and removed when the process exits. `sweep: false` leaves the stale directories to the
 * caller (start-up removes them with `sweepStaleSpools` once it listens).
 */
export function uploadSpool(options: { sweep?: boolean } = {}): UploadSpool {
  if (shared === undefined) {
    const spool = UploadSpool.open(tmpdir(), options.sweep ?? true);
    shared = spool;
    process.once('exit', () => spool.close());
  }
  return shared;
}
