// Files a reader may open at any moment (a checkpoint, a report rewritten during a soak) are
// written whole or not at all: a kill mid-write leaves the previous version, never half a file.
import { renameSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(path: string, data: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}
