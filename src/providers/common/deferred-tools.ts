// Deferred tools for providers that load every tool up front. Anthropic can defer a tool
// (`defer_loading`): the model does not see it until a tool search loads it — a tool result holding
// a reference to it (Claude Code's ToolSearch answers so). Another provider is offered what the
// model could call at this point of the conversation: the tools not deferred and the deferred ones
// already referenced. A deferred tool nothing referenced stays unseen, as with Anthropic (Claude
// Code's `DeferredToolPlaceholder` is such a tool). When the request's tool search is one the
// provider cannot run (Anthropic's server-side `tool_search_tool_*`, left to the unsupported_tools
// policy), nothing could load them, so all are offered: what a client does without tool search.
import type { CanonicalRequest, ToolDefinition } from '../../canonical/request.ts';

/** The request as a provider without deferred loading sees it; the request itself when no tool is deferred. */
export function withLoadedTools(request: CanonicalRequest): CanonicalRequest {
  const tools = request.tools;
  if (tools === undefined || !tools.some((tool) => tool.deferred === true)) return request;
  const offered: ToolDefinition[] = [];
  const searchElsewhere = request.hostedTools?.some((tool) => tool.kind === 'tool-search') === true;
  const loaded = searchElsewhere ? undefined : referencedTools(request);
  for (const tool of tools) {
    if (tool.deferred !== true) offered.push(tool);
    else if (loaded === undefined || loaded.has(tool.name)) offered.push(tool);
  }
  const seen: CanonicalRequest = { ...request, tools: offered };
  if (offered.length === 0) {
    // nothing to call yet: no tool settings either (providers refuse them without tools)
    delete seen.tools;
    delete seen.toolChoice;
    delete seen.parallelToolCalls;
  }
  return seen;
}

/** Names of the tools that tool results in the conversation have loaded. */
function referencedTools(request: CanonicalRequest): Set<string> {
  const names = new Set<string>();
  for (const message of request.messages) {
    for (const part of message.content) {
      if (part.type !== 'tool-result' || typeof part.content === 'string') continue;
      for (const inner of part.content) if (inner.type === 'text' && inner.toolReference !== undefined) names.add(inner.toolReference);
    }
  }
  return names;
}
