// Mock profiles (latency, stream shape) and the request every load generator sends.

export interface Profile {
  /** Also the model name clients ask for; Switchyard routes it to the provider of this profile. */
  model: string;
  latencyMs: number;
  deltas: number;
  intervalMs: number;
}

export const profiles = {
  lat0: { model: 'lat0', latencyMs: 0, deltas: 16, intervalMs: 0 },
  lat20: { model: 'lat20', latencyMs: 20, deltas: 16, intervalMs: 20 },
  lat60: { model: 'lat60', latencyMs: 60, deltas: 16, intervalMs: 0 },
  /** Short streams for time-to-first-token: first delta after 20 ms, 8 deltas 20 ms apart. */
  ttft: { model: 'ttft', latencyMs: 20, deltas: 8, intervalMs: 20 },
  /** The concurrency test: 64 deltas 20 ms apart. */
  s64: { model: 's64', latencyMs: 20, deltas: 64, intervalMs: 20 },
} as const satisfies Record<string, Profile>;

export const allProfiles: readonly Profile[] = Object.values(profiles);

/** The mock's base URL for a profile, in the OpenAI layout (`…/v1`); Anthropic uses the same. */
export function mockBaseUrl(mockPort: number, profile: Profile): string {
  return `http://127.0.0.1:${mockPort}/p/${profile.latencyMs}/${profile.deltas}/${profile.intervalMs}/v1`;
}

/** A realistic small chat request (~330 bytes). */
export function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a concise assistant. Answer in one short paragraph.' },
      { role: 'user', content: 'Summarise in one sentence why a gateway in front of several model providers helps a team that runs coding agents.' },
    ],
    max_tokens: 256,
    temperature: 0.2,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}
