// The Gemini CLI provider type (`type: gemini-cli`): see gemini-cli-driver.ts.
import type { AgentCliDriverFactory } from '../driver.ts';
import { GeminiCliDriver } from './gemini-cli-driver.ts';

export const createGeminiCliDriver: AgentCliDriverFactory = (settings) => new GeminiCliDriver(settings);
