/**
 * A rough token count (about four characters of text per token) for `count_tokens` requests to
 * providers that have no counting endpoint. Marked as an estimate wherever it is shown.
 */
export function estimateTokens(value: unknown): number {
  let characters = 0;
  const visit = (node: unknown): void => {
    if (typeof node === 'string') characters += node.length;
    else if (Array.isArray(node)) for (const item of node) visit(item);
    else if (node !== null && typeof node === 'object') for (const item of Object.values(node)) visit(item);
  };
  visit(value);
  return Math.max(1, Math.ceil(characters / 4));
}

/**
 * The prompt's size for context-window checks: like `estimateTokens`, but inline media (data URLs
 * and long unbroken base64 runs) is left out, so an image does not count as a novel.
 */
export function estimatePromptTokens(value: unknown): number {
  let characters = 0;
  const visit = (node: unknown): void => {
    if (typeof node === 'string') {
      if (node.length > 256 && (node.startsWith('data:') || !/\s/.test(node.slice(0, 256)))) return;
      characters += node.length;
    } else if (Array.isArray(node)) for (const item of node) visit(item);
    else if (node !== null && typeof node === 'object') for (const item of Object.values(node)) visit(item);
  };
  visit(value);
  return Math.ceil(characters / 4);
}
