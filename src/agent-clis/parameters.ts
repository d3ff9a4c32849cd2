// What each agent CLI can carry of a caller's request parameters to its model. Data only: the
// gateway's `unsupported_params` policy (src/pipeline/unsupported-params.ts) drops or refuses
// what is not carried, before the turn reaches the driver; a driver maps what is listed here.
//
// A CLI is not an API: it builds its own model request, and most of its knobs are process-wide
// settings, not per-turn ones. Each entry below is verified against the real CLI (the driver's
// integration test sends the value and checks that it reaches the vendor mock).
import type { AgentCliType } from './driver.ts';

/**
 * A request parameter, by what it does (whatever the caller's dialect calls it):
 * - sampling: `temperature`, `top_p`, `top_k`, `seed`, `presence_penalty`, `frequency_penalty`;
 * - `max_tokens`: the longest answer (`max_completion_tokens`, `max_output_tokens`, `maxOutputTokens`, `num_predict`);
 * - `stop`: stop sequences;
 * - `reasoning_effort` (an effort level) and `reasoning_budget` (thinking tokens);
 * - `json_object` (any JSON object) and `json_schema` (JSON that follows a schema);
 * - `tool_choice`: a tool the model must call (`required`, or one by name); `auto` and `none`
 *   are what a CLI does anyway with no tool of the caller's.
 */
export type RequestParameter =
  | 'temperature' | 'top_p' | 'top_k' | 'seed' | 'presence_penalty' | 'frequency_penalty'
  | 'max_tokens' | 'stop'
  | 'reasoning_effort' | 'reasoning_budget'
  | 'json_object' | 'json_schema'
  | 'tool_choice';

export const REQUEST_PARAMETERS: readonly RequestParameter[] = [
  'temperature', 'top_p', 'top_k', 'seed', 'presence_penalty', 'frequency_penalty',
  'max_tokens', 'stop', 'reasoning_effort', 'reasoning_budget', 'json_object', 'json_schema', 'tool_choice',
];

/**
 * What each CLI carries, per turn, through the protocol its driver speaks:
 * - Codex app-server: `turn/start` takes `effort` and `outputSchema` (the exec fallback passes
 *   `-c model_reasoning_effort=…` and `--output-schema`).
 * - Claude Code, Gemini CLI, opencode: nothing per turn that the driver sends today (see
 *   docs/agent-clis.md#request-parameters for what their CLIs offer and why it is not used).
 */
export const CARRIED_PARAMETERS: Readonly<Record<AgentCliType, ReadonlySet<RequestParameter>>> = Object.freeze({
  'claude-code': new Set<RequestParameter>(),
  codex: new Set<RequestParameter>(['reasoning_effort', 'json_schema']),
  'gemini-cli': new Set<RequestParameter>(),
  opencode: new Set<RequestParameter>(),
});
