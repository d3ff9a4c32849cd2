// Where an executable is: a name looked up in PATH as a shell would, or a path taken as given.
// Used to run an agent CLI by its absolute path and to tell whether one is installed at all.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

function executable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of `command`: a name (no slash) from the directories of `path` (a PATH value),
 * in order; a path (relative to the working directory) when it is an executable file. Undefined
 * when there is none. On Windows the usual PATHEXT extensions are tried too.
 */
export function findOnPath(command: string, path: string | undefined, extensions: readonly string[] = process.platform === 'win32' ? ['', '.exe', '.cmd', '.bat'] : ['']): string | undefined {
  if (command === '') return undefined;
  if (command.includes('/') || (process.platform === 'win32' && command.includes('\\'))) {
    const file = isAbsolute(command) ? command : resolve(command);
    return executable(file) ? file : undefined;
  }
  for (const directory of (path ?? '').split(delimiter)) {
    if (directory === '') continue;
    for (const extension of extensions) {
      const file = join(directory, command + extension);
      if (executable(file)) return isAbsolute(file) ? file : resolve(file);
    }
  }
  return undefined;
}
