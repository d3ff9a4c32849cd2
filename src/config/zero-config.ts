// Running with no file: one provider per preset whose key variable is set, plus each local server
// (Ollama, LM Studio, llama.cpp) that answers on its default loopback port. The result goes
// through the same normalizer as a file, so both paths build providers identically.
import { Agent } from '../util/undici.ts';
import { presets, type Preset } from '../providers/presets/index.ts';
import { isLoopbackHost, normalizeConfig } from './normalize.ts';
import type { RawProvider } from './schema.ts';
import type { GatewayConfig } from './types.ts';

export interface ZeroConfigOptions {
  /** Resolves true when a local server answers at `baseUrl`; replaceable for tests. */
  probe?: (baseUrl: string) => Promise<boolean>;
  probeTimeoutMs?: number;
}

export interface ZeroConfig {
  config: GatewayConfig;
  /** Human lines for the banner: what was found and why. */
  found: string[];
}

const DEFAULT_PROBE_TIMEOUT_MS = 300;

/** `anthropic-openai` → `anthropic`: the suffix names the dialect, which a user need not type. */
export function zeroConfigName(presetName: string): string {
  return presetName.replace(/-openai$/, '');
}

export async function buildZeroConfig(env: NodeJS.ProcessEnv, options: ZeroConfigOptions = {}): Promise<ZeroConfig> {
  const timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const providers: RawProvider[] = [];
  const found: string[] = [];
  const locals: [string, Preset][] = [];
  for (const [presetName, preset] of Object.entries(presets)) {
    if (preset.local) {
      if (isLoopbackUrl(preset.baseUrl)) locals.push([presetName, preset]);
      continue;
    }
    const variable = preset.keyEnv.find((name) => (env[name] ?? '') !== '');
    if (variable === undefined) continue;
    const name = zeroConfigName(presetName);
    if (preset.baseUrl === '') {
      found.push(`${name}: ${variable} is set, but ${preset.title} needs a base_url; configure it in switchyard.yaml`);
      continue;
    }
    providers.push({ name, type: presetName, api_key: env[variable]! });
    found.push(`${name}: ${preset.title} at ${preset.baseUrl} (key from $${variable})`);
  }

  const agent = options.probe === undefined ? new Agent({ connect: { timeout: timeoutMs }, keepAliveTimeout: 1, pipelining: 0 }) : undefined;
  const probe = options.probe ?? ((baseUrl: string) => probeLocal(baseUrl, timeoutMs, agent!));
  try {
    const answers = await Promise.all(locals.map(([, preset]) => withDeadline(probe(preset.baseUrl), timeoutMs)));
    locals.forEach(([presetName, preset], index) => {
      if (!answers[index]) return;
      const name = zeroConfigName(presetName);
      providers.push({ name, type: presetName });
      found.push(`${name}: ${preset.title} answering at ${preset.baseUrl}`);
    });
  } finally {
    if (agent !== undefined) await agent.destroy().catch(() => {});
  }

  const { config } = normalizeConfig({ providers }, 'zero-config');
  return { config, found };
}

function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** `GET {baseUrl}/models` answered 2xx. Refuses anything but loopback: zero-config never reaches out. */
export async function probeLocal(baseUrl: string, timeoutMs: number, dispatcher?: Agent): Promise<boolean> {
  if (!isLoopbackUrl(baseUrl)) return false;
  const agent = dispatcher ?? new Agent({ connect: { timeout: timeoutMs }, keepAliveTimeout: 1, pipelining: 0 });
  try {
    const url = new URL(`${baseUrl.replace(/\/+$/, '')}/models`);
    const response = await agent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 300;
  } catch {
    return false;
  } finally {
    if (dispatcher === undefined) await agent.destroy().catch(() => {});
  }
}

/** A probe that hangs must not hold up start-up. */
function withDeadline(answer: Promise<boolean>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, timeoutMs + 50, false);
  });
  return Promise.race([answer.catch(() => false), deadline]).finally(() => clearTimeout(timer));
}
