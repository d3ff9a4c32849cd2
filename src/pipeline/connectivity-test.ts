// The management API's connectivity test of one provider key: the cheapest request the provider
// type has — its model list, through the provider's own endpoint (pool, auth header, static
// headers, base path) — with a short timeout. An agent CLI spends no turn: its driver lists its
// models and says how it talks to the CLI. The health book is left alone (a test is not traffic),
// and no answer holds a secret: errors are redacted like every upstream text.
import { requestModelList, ModelListError } from '../upstream/discovery.ts';
import { redactText } from '../util/redact.ts';
import type { ProviderRuntime, Runtime } from './runtime.ts';

export interface ConnectivityResult {
  ok: boolean;
  provider: string;
  /** The fingerprint of the key tested (null for a provider without keys). */
  key: string | null;
  /** What was asked: the model list (`list-models`), or an agent CLI's driver (`agent-cli`). */
  method: 'list-models' | 'agent-cli';
  /** The upstream's HTTP status; null when none arrived (refused, timed out) or for an agent CLI. */
  status: number | null;
  latency_ms: number;
  /** Models the provider listed. */
  models?: number;
  error?: string;
  /** An agent CLI's driver's own account (`describe()`). */
  agent_cli?: Record<string, unknown>;
}

function elapsed(start: number): number {
  return Math.round((performance.now() - start) * 10) / 10;
}

function reason(error: unknown, timeoutMs: number, secrets: readonly string[]): string {
  const failure = error as { name?: string; code?: string; message?: string };
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError' || failure.code === 'UND_ERR_HEADERS_TIMEOUT' || failure.code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = failure.message !== undefined && failure.message !== '' ? failure.message : String(error);
  return redactText(cause?.code !== undefined ? `${message} (${cause.code})` : message, secrets);
}

/** Tests key `keyIndex` of `provider` (an index into its `api_keys`; 0 when it has none). Never rejects. */
export async function testConnectivity(runtime: Runtime, provider: ProviderRuntime, keyIndex: number, timeoutMs: number): Promise<ConnectivityResult> {
  const keyId = runtime.keyIds.get(provider.name)?.[keyIndex] ?? '';
  const start = performance.now();
  if (provider.kind === 'own') {
    const base = { provider: provider.name, key: null, method: 'agent-cli' as const, status: null };
    let agentCli: Record<string, unknown> | undefined;
    try {
      agentCli = provider.exchanges.describe();
      const models = await provider.exchanges.listModels(AbortSignal.timeout(timeoutMs));
      return { ok: true, ...base, latency_ms: elapsed(start), models: models.length, agent_cli: agentCli };
    } catch (error) {
      return { ok: false, ...base, latency_ms: elapsed(start), error: reason(error, timeoutMs, runtime.secrets), ...(agentCli !== undefined ? { agent_cli: agentCli } : {}) };
    }
  }
  const base = { provider: provider.name, key: keyId === '' ? null : keyId, method: 'list-models' as const };
  try {
    const answer = await requestModelList(provider.endpoint, provider.adapter.modelListPath, timeoutMs, keyIndex);
    const latency = elapsed(start);
    let models: number | undefined;
    try {
      models = provider.adapter.decodeModelList(answer.body).length;
    } catch {
      // reached and answered: connectivity holds even when the list is not one this adapter reads
    }
    return { ok: true, ...base, status: answer.status, latency_ms: latency, ...(models !== undefined ? { models } : {}) };
  } catch (error) {
    const status = error instanceof ModelListError ? error.status : null;
    return { ok: false, ...base, status, latency_ms: elapsed(start), error: reason(error, timeoutMs, runtime.secrets) };
  }
}
