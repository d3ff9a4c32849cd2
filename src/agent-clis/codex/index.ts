// Codex (`@openai/codex`) as a provider: see codex-driver.ts for how it is driven.
import type { AgentCliDriverFactory } from '../driver.ts';
import { CodexDriver } from './codex-driver.ts';

export { CodexDriver } from './codex-driver.ts';

export const createCodexDriver: AgentCliDriverFactory = (settings) => new CodexDriver(settings);
