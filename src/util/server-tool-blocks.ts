// Anthropic's server-tool blocks (`server_tool_use`, `web_search_tool_result`, …) and web-search
// citations, read the same way by the Anthropic surface (a conversation's history) and the
// Anthropic provider (its answers). The shapes returned match the canonical hosted-tool parts.
import { isObject, type JsonObject, listFrom, objectFrom, textFrom } from './json-value.ts';

export type ServerToolKind = 'web-search' | 'web-fetch' | 'code-execution' | 'tool-search' | 'other';

/**
 * Anthropic issues server-tool ids starting `srvtoolu_`; a block with any other id was rendered by
 * the gateway from another provider's answer, so it is never sent back to Anthropic as its own.
 */
export function isAnthropicServerId(id: unknown): boolean {
  return typeof id === 'string' && id.startsWith('srvtoolu_');
}

/** The kind of a server tool from its name or type (`web_search`, `web_search_20250305`, `bash_code_execution`, `tool_search_tool_regex`, …). */
export function serverToolKind(name: string): ServerToolKind {
  if (name.startsWith('web_search')) return 'web-search';
  if (name.startsWith('web_fetch')) return 'web-fetch';
  if (name.includes('code_execution')) return 'code-execution';
  if (name.startsWith('tool_search')) return 'tool-search';
  return 'other';
}

/** `server_tool_use` and `mcp_tool_use`: a call the provider ran itself. */
export function isServerToolCall(type: unknown): boolean {
  return type === 'server_tool_use' || type === 'mcp_tool_use';
}

/** `web_search_tool_result`, `code_execution_tool_result`, `mcp_tool_result`, …: never the caller's `tool_result`. */
export function isServerToolResult(type: unknown): type is string {
  return typeof type === 'string' && type !== 'tool_result' && type.endsWith('_tool_result');
}

export interface ServerToolCall {
  type: 'hosted-tool-call';
  id: string;
  kind: ServerToolKind;
  name: string;
  input: JsonObject;
  raw?: JsonObject;
  dialect?: string;
}

export interface ServerToolResult {
  type: 'hosted-tool-result';
  callId: string;
  kind: ServerToolKind;
  results: { url: string; title?: string; pageAge?: string }[];
  errorCode?: string;
  raw?: JsonObject;
  dialect?: string;
}

/** A `server_tool_use` block (its input whole) → a hosted call, kept verbatim when Anthropic issued it. */
export function serverToolCall(block: JsonObject, input: JsonObject): ServerToolCall {
  const name = textFrom(block.name);
  const id = textFrom(block.id);
  const call: ServerToolCall = { type: 'hosted-tool-call', id, kind: block.type === 'mcp_tool_use' ? 'other' : serverToolKind(name), name, input };
  if (isAnthropicServerId(id)) {
    call.raw = block;
    call.dialect = 'anthropic';
  }
  return call;
}

/** A `*_tool_result` block → a hosted result: a web search's results, or the error it reported. */
export function serverToolResult(block: JsonObject): ServerToolResult {
  const type = textFrom(block.type);
  const callId = textFrom(block.tool_use_id);
  const result: ServerToolResult = { type: 'hosted-tool-result', callId, kind: type === 'mcp_tool_result' ? 'other' : serverToolKind(type.slice(0, -'_tool_result'.length)), results: [] };
  const content = block.content;
  if (Array.isArray(content)) {
    for (const entry of content) {
      const item = objectFrom(entry);
      if (item?.type !== 'web_search_result' || typeof item.url !== 'string') continue;
      result.results.push({ url: item.url, ...(typeof item.title === 'string' ? { title: item.title } : {}), ...(typeof item.page_age === 'string' ? { pageAge: item.page_age } : {}) });
    }
  } else if (isObject(content)) {
    if (typeof content.error_code === 'string') result.errorCode = content.error_code;
    else if (typeof content.url === 'string') result.results.push({ url: content.url }); // web_fetch_result
  }
  if (isAnthropicServerId(callId)) {
    result.raw = block;
    result.dialect = 'anthropic';
  }
  return result;
}

export interface WebCitation {
  url: string;
  title?: string;
  citedText?: string;
  raw?: JsonObject;
  dialect?: string;
}

/**
 * A text block's citation → a canonical one: web-search locations only (document citations point
 * into the request's own documents). Kept verbatim for Anthropic when it carries its encrypted index.
 */
export function webCitation(raw: unknown): WebCitation | undefined {
  const citation = objectFrom(raw);
  if (citation?.type !== 'web_search_result_location' || typeof citation.url !== 'string') return undefined;
  const out: WebCitation = { url: citation.url };
  if (typeof citation.title === 'string') out.title = citation.title;
  if (typeof citation.cited_text === 'string') out.citedText = citation.cited_text;
  if (typeof citation.encrypted_index === 'string' && citation.encrypted_index.length > 0) {
    out.raw = citation;
    out.dialect = 'anthropic';
  }
  return out;
}

/** The web-search citations of a text block, or undefined when it has none. */
export function webCitations(raw: unknown): WebCitation[] | undefined {
  let out: WebCitation[] | undefined;
  for (const entry of listFrom(raw)) {
    const citation = webCitation(entry);
    if (citation !== undefined) (out ??= []).push(citation);
  }
  return out;
}
