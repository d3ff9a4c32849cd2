// Upstream error answers of OpenAI-compatible servers → gateway errors (shared with the Responses
// provider), classified for retry, fallback and cooldown and shown with the right status.
export { decodeOpenAIError, decodeOpenAIErrorBody } from '../common/openai-family.ts';
