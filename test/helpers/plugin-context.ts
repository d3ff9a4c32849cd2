// A PluginContext for unit tests of a plugin's hooks, without a gateway around them.
import type { PluginContext, PluginRejection } from '../../src/plugins/api.ts';
import { pluginRejectionCode } from '../../src/pipeline/plugin-host.ts';

export interface FakeContextOptions<Config> {
  config?: Config;
  keyId?: string;
  model?: string;
  dialect?: string;
  path?: string;
  stream?: boolean;
  headers?: Record<string, string>;
}

/** A context whose log lines are kept in `logged` and whose `reject` builds a rejection as the gateway's does (its code checked). */
export function fakePluginContext<Config = unknown>(options: FakeContextOptions<Config> = {}): PluginContext<Config> & { logged: { message: string; fields?: Record<string, unknown> }[] } {
  const logged: { message: string; fields?: Record<string, unknown> }[] = [];
  return {
    requestId: 'req-test',
    plugin: 'test',
    config: options.config as Config,
    keyId: options.keyId ?? '',
    model: options.model ?? 'gpt-test',
    dialect: options.dialect ?? 'openai',
    surface: 'openai-chat',
    path: options.path ?? '/v1/chat/completions',
    stream: options.stream ?? false,
    header: (name) => options.headers?.[name],
    state: {},
    log(message, fields) {
      logged.push(fields === undefined ? { message } : { message, fields });
    },
    reject(status, message, code) {
      return Object.assign(new Error(message), { status, code: pluginRejectionCode(code) ?? 'SWY_ERR_PLUGIN_REJECTED', rejection: true as const }) as PluginRejection;
    },
    logged,
  };
}
