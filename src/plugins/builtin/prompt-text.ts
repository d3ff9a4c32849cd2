// The text of a canonical request that a prompt filter (redact, content-guard) reads: every
// message's text parts (system, user, assistant), tool results' text and the arguments of earlier
// tool calls. Reasoning parts are left alone: their text is signed by the provider, and a changed
// one would be refused.
import type { CanonicalRequest, ContentPart } from '../api.ts';

/**
 * Calls `visit` with each prompt text and stores what it returns when that differs, so a filter
 * that only reads returns its argument and changes nothing.
 */
export function visitPromptText(request: CanonicalRequest, visit: (text: string) => string): void {
  for (const message of request.messages) visitParts(message.content, visit);
}

function visitParts(parts: ContentPart[], visit: (text: string) => string): void {
  for (const part of parts) {
    switch (part.type) {
      case 'text': {
        const text = visit(part.text);
        if (text !== part.text) part.text = text;
        break;
      }
      case 'tool-call': {
        const text = visit(part.arguments);
        if (text !== part.arguments) part.arguments = text;
        break;
      }
      case 'tool-result':
        if (typeof part.content === 'string') {
          const text = visit(part.content);
          if (text !== part.content) part.content = text;
        } else {
          visitParts(part.content, visit);
        }
        break;
      default:
        break;
    }
  }
}
