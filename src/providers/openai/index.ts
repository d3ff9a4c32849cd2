// The OpenAI-compatible provider family: every preset in ../presets speaks this dialect.
import type { ProviderAdapter } from '../../canonical/adapters.ts';
import type { Operation } from '../../canonical/request.ts';

const paths: Record<Operation, string> = {
  chat: '/chat/completions',
  completions: '/completions',
  embeddings: '/embeddings',
  responses: '/responses',
};

export const openaiProvider: ProviderAdapter = {
  dialect: 'openai',
  operationPath(operation: Operation): string {
    return paths[operation];
  },
  decodeModelList(body: unknown): string[] {
    const data = (body as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) return [];
    const ids: string[] = [];
    for (const entry of data) {
      const id = (entry as { id?: unknown } | null)?.id;
      if (typeof id === 'string' && id.length > 0 && id.length <= 256) ids.push(id);
    }
    return ids;
  },
  decodeErrorMessage(body: Buffer): string | undefined {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown } | string; message?: unknown };
      if (typeof parsed.error === 'string') return parsed.error;
      if (typeof parsed.error?.message === 'string') return parsed.error.message;
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      // not JSON: the caller falls back to the raw text
    }
    return undefined;
  },
};
