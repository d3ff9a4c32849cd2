// What a provider's `GET /models` answer lists, shared by the dialects that read one.
import { objectFrom } from '../../util/json-value.ts';

/** A listed model id longer than this is not kept: a catalog entry, not a payload. */
const MODEL_ID_LIMIT = 256;

/** Whether `value` can be a listed model id: a non-empty string of reasonable length. */
export function isListedModelId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MODEL_ID_LIMIT;
}

/** Model ids from a `{data: [{id}]}` list, the shape OpenAI's and Anthropic's `GET /models` share. */
export function decodeDataModelList(body: unknown): string[] {
  const data = objectFrom(body)?.data;
  if (!Array.isArray(data)) return [];
  const ids: string[] = [];
  for (const entry of data) {
    const id = objectFrom(entry)?.id;
    if (isListedModelId(id)) ids.push(id);
  }
  return ids;
}
