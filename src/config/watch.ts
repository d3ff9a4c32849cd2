// Tells the caller when the config file changed; reloading and swapping are the caller's job.
// The directory is watched, not the file: editors save by writing a new file and renaming it over
// the old one, which silently ends a watch on the old inode.
//
// A change is reported only once the file is stable: the same size, mtime and content read twice,
// `settleMs` apart, after the events have stopped for `debounceMs`. An editor that truncates the
// file and then writes it (or writes it in several pieces) must never have its half-saved file
// applied; an empty file is always taken for a save in progress, never acted on by itself.
import { watch, readFileSync, statSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

export interface WatchOptions {
  /** Quiet time after the last event before the file is looked at. */
  debounceMs?: number;
  /** Time between the two reads that must agree. */
  settleMs?: number;
}

const DEBOUNCE_MS = 150;
const SETTLE_MS = 150;
// Kubernetes mounts ConfigMaps as symlinks into `..data`, which is swapped atomically on update.
const KUBERNETES_DATA_LINK = '..data';

interface FileState {
  size: number;
  mtimeMs: number;
  text: string;
}

export function watchConfigFile(path: string, onChange: () => void, options: WatchOptions = {}): () => void {
  const absolute = resolve(path);
  const name = basename(absolute);
  const debounceMs = options.debounceMs ?? DEBOUNCE_MS;
  const settleMs = options.settleMs ?? SETTLE_MS;
  let last = readState(absolute)?.text;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;

  const schedule = (run: () => void, delayMs: number) => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, delayMs);
  };

  // Editors emit several events per save, some with the content unchanged (touch, backup files):
  // compare, so that one save is one reload. A vanished or empty file is a save in progress: the
  // event that completes it starts the wait again.
  const look = () => {
    timer = undefined;
    const first = readState(absolute);
    if (first === undefined || first.size === 0 || first.text === last) return;
    schedule(() => confirm(first), settleMs);
  };

  const confirm = (first: FileState) => {
    timer = undefined;
    const second = readState(absolute);
    if (second === undefined || second.size === 0) return;
    if (second.size !== first.size || second.mtimeMs !== first.mtimeMs || second.text !== first.text) {
      schedule(look, debounceMs); // still being written
      return;
    }
    if (second.text === last) return;
    last = second.text;
    onChange();
  };

  try {
    watcher = watch(dirname(absolute), { persistent: false }, (_event, filename) => {
      if (filename !== null && filename !== name && filename !== KUBERNETES_DATA_LINK) return;
      schedule(look, debounceMs);
    });
    // Losing the watch (directory removed) must not crash the gateway; SIGHUP still reloads.
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }

  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    watcher?.close();
    watcher = undefined;
  };
}

function readState(path: string): FileState | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const stat = statSync(path);
    return { size: stat.size, mtimeMs: stat.mtimeMs, text };
  } catch {
    return undefined;
  }
}
