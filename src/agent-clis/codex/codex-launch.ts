// How the gateway runs Codex: the arguments, environment and home directory of its processes and
// the settings of each thread, decided once per provider (at config load, not per request).
//
// Codex keeps its login and its settings in one directory, CODEX_HOME (~/.codex): `auth.json` (or
// the OS keyring, keyed by that directory's path) next to `config.toml`, which may start MCP
// servers, hooks and a `notify` command — all of which would run on the host for any HTTP caller.
// `codex exec --ignore-user-config` skips config.toml and keeps the login; `codex app-server` has
// no such switch, and a thread's `config` cannot empty the user's `mcp_servers` table (overrides
// merge into it). So the app-server runs with a home of the gateway's own under the provider's work
// directory, holding no config.toml and symbolic links to the user's `auth.json` and `auth.lock`:
// Codex reads the login through the link and writes refreshed tokens back through it (it rewrites
// the file in place, verified with `codex login` into such a home), so the user's own `codex`
// stays logged in. A login kept only in the OS keyring is not reachable
// from another home; `codex exec` (the one-shot fallback) reads it.
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentCliMode, AgentCliSettings } from '../driver.ts';
import type { JsonObject } from '../../util/json-value.ts';

/** Settings every Codex process gets: no background traffic, no plugin or connector catalogues, no prompt history on disk. */
const PROCESS_SETTINGS: readonly string[] = [
  'analytics.enabled=false',
  'check_for_update_on_startup=false',
  // plugins and apps (ChatGPT connectors) sync catalogues from github.com and chatgpt.com and add tools
  'features.plugins=false',
  'features.remote_plugin=false',
  'features.apps=false',
  'history.persistence="none"',
];

/**
 * `mode: llm`: every tool Codex would offer the model is switched off, and its context describes
 * no machine. With the shell tool off, a shell or patch call the model makes anyway is answered
 * "unsupported call" and nothing runs; the thread also gets no execution environment
 * (`environments: []`), a read-only sandbox and no approvals, so a call that slipped through would
 * still find nothing to run in. Thread settings win over the process's `-c` settings, so a
 * provider's own `args` cannot turn these back on.
 */
const LLM_SETTINGS: Readonly<Record<string, string | boolean | number>> = {
  'features.shell_tool': false,
  'features.unified_exec': false,
  'features.view_image': false,
  'features.image_generation': false,
  'features.multi_agent': false,
  'features.goals': false,
  'features.hooks': false,
  'features.memories': false,
  'features.tool_suggest': false,
  'features.browser_use': false,
  'features.computer_use': false,
  'features.sleep_tool': false,
  'features.plugins': false,
  'features.remote_plugin': false,
  'features.apps': false,
  web_search: 'disabled',
  'tools.experimental_request_user_input.enabled': false,
  'skills.include_instructions': false,
  include_environment_context: false,
  include_permissions_instructions: false,
  include_apps_instructions: false,
  // no AGENTS.md from the directories above the working directory
  project_doc_max_bytes: 0,
};

/** What a thread is started (or resumed) with, besides the model and the instructions. */
export interface ThreadPolicy {
  approvalPolicy: 'never';
  sandbox: 'read-only' | 'workspace-write';
  /** Thread settings (`config` of `thread/start`), dotted keys as `-c` takes them. */
  config: JsonObject | null;
  /** `[]` in llm mode: no execution environment at all. Undefined: Codex's default (the thread's cwd). */
  environments: readonly never[] | undefined;
}

export interface CodexLaunch {
  mode: AgentCliMode;
  command: string;
  /** `codex app-server …` */
  appServerArgs: readonly string[];
  /** `codex exec …` up to the prompt's `-` (the one-shot fallback); the model is added per turn. */
  execArgs: readonly string[];
  /** The app-server's environment: the provider's, with CODEX_HOME the gateway's own. */
  appServerEnv: Readonly<Record<string, string | undefined>>;
  /** The one-shot's environment: the provider's as it is (`--ignore-user-config` keeps the user's login). */
  execEnv: Readonly<Record<string, string | undefined>>;
  /** The gateway's CODEX_HOME for the app-server. */
  home: string;
  /** The user's CODEX_HOME, where the login is. */
  userHome: string | undefined;
  /** llm mode: the empty working directory of every thread. */
  llmDirectory: string;
  /** One-shot turns with a JSON schema: the schema's file for `--output-schema`, removed with the turn. */
  schemasDirectory: string;
  /** agent mode: the parent of the per-session working directories. */
  sessionsDirectory: string;
  policy: ThreadPolicy;
}

function settingArgs(settings: readonly string[]): string[] {
  const args: string[] = [];
  for (const setting of settings) args.push('-c', setting);
  return args;
}

function tomlValue(value: string | boolean | number): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Where the user's Codex keeps its login: CODEX_HOME, else ~/.codex. */
function userCodexHome(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const explicit = env.CODEX_HOME;
  if (explicit !== undefined && explicit !== '') return explicit;
  const home = env.HOME ?? env.USERPROFILE;
  return home === undefined || home === '' ? undefined : join(home, '.codex');
}

/** Decides everything about how this provider's Codex runs (no file system access: see prepareHome). */
export function planLaunch(settings: AgentCliSettings): CodexLaunch {
  const home = join(settings.workDir, 'codex-home');
  const userHome = userCodexHome(settings.env);
  const llm = settings.mode === 'llm';
  const processSettings = llm
    ? [...PROCESS_SETTINGS, ...Object.entries(LLM_SETTINGS).map(([key, value]) => `${key}=${tomlValue(value)}`)]
    : PROCESS_SETTINGS;
  // the gateway's home holds no keyring entry: the login is read from the linked auth.json
  const appServerArgs = ['app-server', ...settingArgs([...processSettings, 'cli_auth_credentials_store="file"']), ...settings.args];
  const execArgs = [
    'exec', '--json', '--skip-git-repo-check', '--ephemeral', '--ignore-user-config', '--ignore-rules',
    '--sandbox', llm ? 'read-only' : 'workspace-write',
    ...settingArgs([...processSettings, 'approval_policy="never"']),
    ...settings.args,
  ];
  return {
    mode: settings.mode,
    command: settings.command,
    appServerArgs,
    execArgs,
    appServerEnv: { ...settings.env, CODEX_HOME: home },
    execEnv: settings.env,
    home,
    userHome,
    llmDirectory: join(settings.workDir, 'llm'),
    schemasDirectory: join(settings.workDir, 'schemas'),
    sessionsDirectory: join(settings.workDir, 'sessions'),
    policy: {
      approvalPolicy: 'never',
      sandbox: llm ? 'read-only' : 'workspace-write',
      config: llm ? { ...LLM_SETTINGS } : null,
      environments: llm ? [] : undefined,
    },
  };
}

/**
 * The user's files the gateway's CODEX_HOME links to: the login, and the lock Codex takes around
 * it, so that the user's `codex` and the gateway's never refresh the tokens at the same time.
 */
const LINKED_FILES: readonly string[] = ['auth.json', 'auth.lock'];

/**
 * Creates the gateway's CODEX_HOME and the working directories, and links the user's login into
 * that home (a link to a file not there yet is fine: `codex login` later creates it). Once per
 * worker start, never per request.
 */
export function prepareHome(launch: CodexLaunch): void {
  mkdirSync(launch.home, { recursive: true, mode: 0o700 });
  mkdirSync(launch.mode === 'llm' ? launch.llmDirectory : launch.sessionsDirectory, { recursive: true });
  const userHome = launch.userHome;
  if (userHome === undefined || !existsSync(userHome)) return;
  for (const name of LINKED_FILES) {
    const link = join(launch.home, name);
    const target = join(userHome, name);
    let present = false;
    try {
      present = lstatSync(link).isSymbolicLink() && readlinkSync(link) === target;
      // a file of its own here (a login made inside the gateway's home), or a link to another home, gives way
      if (!present) unlinkSync(link);
    } catch {
      // not there yet
    }
    if (!present) symlinkSync(target, link);
  }
}
