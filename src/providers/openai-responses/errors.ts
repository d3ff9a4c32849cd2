// Upstream error answers of a Responses API: OpenAI's error shape, decoded by the shared helper.
export { decodeOpenAIError as decodeResponsesError, decodeOpenAIErrorBody as decodeErrorBody } from '../common/openai-family.ts';
