// Before encoding for a provider that only takes inline media: every URL image (or file/audio)
// in the canonical request is downloaded and replaced by base64, concurrently, cancellable.
import type { CanonicalRequest, ContentPart } from '../canonical/request.ts';
import type { MediaFetcher } from '../upstream/media.ts';
import type { Cancellable } from './context.ts';

type UrlMediaPart = ContentPart & { source: { kind: 'url'; url: string; mediaType?: string } };

function urlParts(request: CanonicalRequest, keep: ((url: string) => boolean) | undefined): UrlMediaPart[] {
  const found: UrlMediaPart[] = [];
  const visit = (parts: readonly ContentPart[]) => {
    for (const part of parts) {
      if ((part.type === 'image' || part.type === 'audio' || part.type === 'file') && part.source.kind === 'url' && keep?.(part.source.url) !== true) found.push(part as never);
      else if (part.type === 'tool-result' && Array.isArray(part.content)) visit(part.content);
    }
  };
  for (const message of request.messages) visit(message.content);
  return found;
}

export function needsInlining(request: CanonicalRequest, keep?: (url: string) => boolean): boolean {
  return urlParts(request, keep).length > 0;
}

/** Replaces URL media with inline base64 in place; the returned handle cancels the downloads. */
export function inlineMedia(request: CanonicalRequest, fetcher: MediaFetcher, keep?: (url: string) => boolean): { done: Promise<void>; cancel: Cancellable } {
  const controller = new AbortController();
  const parts = urlParts(request, keep);
  const done = Promise.all(parts.map(async (part) => {
    const media = await fetcher.fetch(part.source.url, controller.signal);
    const mediaType = part.source.mediaType ?? media.mediaType;
    (part as { source: unknown }).source = { kind: 'base64', mediaType, data: media.data };
  })).then(() => undefined);
  return { done, cancel: { cancel: () => controller.abort() } };
}
