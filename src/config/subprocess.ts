// Config loading in a child process, so the serving process never keeps the YAML parser and the
// schema library resident (about 25 MB of a ~90 MB process). A thread would not do: its memory
// stays with the process after it ends. Start-up and reloads pay ~100 ms for the child.
import { execFile } from 'node:child_process';
import module from 'node:module';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { deepFreeze } from './freeze.ts';
import { NOTHING_WRITTEN_EMPTY, type WrittenEmpty } from './reload-guard.ts';
import type { GatewayConfig } from './types.ts';

type ChildResult =
  | { ok: true; config: GatewayConfig; warnings: string[]; found: string[]; writtenEmpty?: WrittenEmpty; text?: string }
  | { ok: false; source: string; problems: ConfigProblem[] }
  | { ok: false; message: string; source?: undefined };

/** In the bundle (scripts/build-bundle.ts): the bundled child, relative to this source file. */
declare const SWITCHYARD_BUNDLED_CHILD: string | undefined;
const script = new URL(typeof SWITCHYARD_BUNDLED_CHILD === 'string' ? SWITCHYARD_BUNDLED_CHILD : './load-child.ts', import.meta.url).pathname;

interface ChildLoaded {
  config: GatewayConfig;
  warnings: string[];
  found: string[];
  writtenEmpty: WrittenEmpty;
  text?: string;
}

type ChildRequest = { kind: 'file'; path: string } | { kind: 'masked'; path: string } | { kind: 'zero'; agentCliTypes: readonly string[] } | { kind: 'candidate'; source: string; path?: string };

function runChild(request: ChildRequest, env: NodeJS.ProcessEnv, input?: string): Promise<ChildLoaded> {
  const cache = module.getCompileCacheDir?.();
  const childEnv: NodeJS.ProcessEnv = { ...env };
  if (cache !== undefined) childEnv.NODE_COMPILE_CACHE = cache;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [script, JSON.stringify(request)], { env: childEnv, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      let result: ChildResult;
      try {
        result = JSON.parse(stdout) as ChildResult;
      } catch {
        reject(new Error(`the config loader failed: ${error?.message ?? ''} ${stderr}`.trim()));
        return;
      }
      if (result.ok) {
        resolve({ config: deepFreeze(result.config), warnings: result.warnings, found: result.found, writtenEmpty: result.writtenEmpty ?? NOTHING_WRITTEN_EMPTY, ...(result.text !== undefined ? { text: result.text } : {}) });
      } else if (result.source !== undefined) reject(new ConfigError(result.source, result.problems));
      else reject(new Error(result.message));
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/**
 * Checks a candidate config text as a file is checked (problems name the candidate's lines, under
 * `source`); with `over`, the current file, also the text to write: the candidate laid over it
 * (its comments and `${VAR}` references kept where the values stay; config/candidate.ts).
 */
export async function checkCandidateInChild(text: string, source: string, over?: string, env: NodeJS.ProcessEnv = process.env): Promise<{ config: GatewayConfig; warnings: string[]; writtenEmpty: WrittenEmpty; text: string }> {
  const loaded = await runChild({ kind: 'candidate', source, ...(over !== undefined ? { path: over } : {}) }, env, text);
  return { config: loaded.config, warnings: loaded.warnings, writtenEmpty: loaded.writtenEmpty, text: loaded.text ?? text };
}

/** The config file's text with every literal credential masked in place (config/candidate.ts maskedFileText). */
export async function maskedFileInChild(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { text } = await runChild({ kind: 'masked', path }, env);
  return text ?? '';
}

export async function loadConfigFileInChild(path: string, env: NodeJS.ProcessEnv = process.env): Promise<{ config: GatewayConfig; warnings: string[]; writtenEmpty: WrittenEmpty }> {
  const { config, warnings, writtenEmpty } = await runChild({ kind: 'file', path }, env);
  return { config, warnings, writtenEmpty };
}

/** `agentCliTypes`: the agent CLIs this build has drivers for (zero-config registers no other). */
export async function buildZeroConfigInChild(env: NodeJS.ProcessEnv = process.env, agentCliTypes: readonly string[] = []): Promise<{ config: GatewayConfig; found: string[] }> {
  const { config, found } = await runChild({ kind: 'zero', agentCliTypes }, env);
  return { config, found };
}
