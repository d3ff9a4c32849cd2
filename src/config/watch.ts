// Tells the caller when the config file changed; reloading and swapping are the caller's job.
// The directory is watched, not the file: editors save by writing a new file and renaming it over
// the old one, which silently ends a watch on the old inode.
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';

const DEBOUNCE_MS = 150;
// Kubernetes mounts ConfigMaps as symlinks into `..data`, which is swapped atomically on update.
const KUBERNETES_DATA_LINK = '..data';

export function watchConfigFile(path: string, onChange: () => void): () => void {
  const absolute = resolve(path);
  const name = basename(absolute);
  let last = read(absolute);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;

  const fire = () => {
    timer = undefined;
    // Editors emit several events per save, some with the content unchanged (touch, backup
    // files); compare so that one save is one reload. A vanished file is a save in progress.
    const current = read(absolute);
    if (current === undefined || current === last) return;
    last = current;
    onChange();
  };

  try {
    watcher = watch(dirname(absolute), { persistent: false }, (_event, filename) => {
      if (filename !== null && filename !== name && filename !== KUBERNETES_DATA_LINK) return;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(fire, DEBOUNCE_MS);
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

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
