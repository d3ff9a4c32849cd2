export { createClaudeCodeDriver, type ClaudeCodeTuning } from './claude-code-driver.ts';
