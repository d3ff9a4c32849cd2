import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DEFAULT_CONFIG_FILE = 'switchyard.yaml';

/** `--config`, else `$SWITCHYARD_CONFIG`, else `./switchyard.yaml` if present, else undefined (zero-config). */
export function findConfigPath(cliPath?: string, env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): string | undefined {
  if (cliPath !== undefined && cliPath !== '') return resolve(cwd, cliPath);
  const fromEnv = env.SWITCHYARD_CONFIG;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(cwd, fromEnv);
  const local = join(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) && statSync(local).isFile() ? local : undefined;
}
