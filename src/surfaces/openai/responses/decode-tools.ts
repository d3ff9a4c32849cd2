// Responses tool definitions → canonical tools, for providers that do not speak Responses. Codex
// declares tools in four places: `tools`, an `additional_tools` input item (its "responses-lite"
// requests), the `tools` a client tool search answered with (`tool_search_output`), and namespaces
// inside any of them. Each tool the model can call becomes one function tool; how its calls go
// back to the client (a custom tool's `custom_tool_call`, a tool search's `tool_search_call`, a
// namespaced tool's call naming its namespace) is kept by name for the answer's encoders.
import { createHash } from 'node:crypto';
import type { HostedTool, HostedToolKind, ToolDefinition } from '../../../canonical/request.ts';
import { invalidRequest } from '../../../canonical/errors.ts';
import { type JsonObject, objectFrom, stringsFrom, textFrom } from '../../../util/json-value.ts';
import { NO_PARAMETERS, schemaOf, userLocationOf } from '../fields.ts';

/** A free-form custom tool travels as a function with one string argument. */
export const CUSTOM_TOOL_ARGUMENT = 'input';

export function str(value: unknown, param: string): string {
  if (typeof value !== 'string') throw invalidRequest(`Invalid '${param}': expected a string.`, param);
  return value;
}

/** How the model's call of a tool goes back to the client, for tools that are not plain functions. */
export interface ToolCallShape {
  /** The output item: a custom (free-form) tool's, a client tool search's, or a function call naming its namespace. */
  item: 'custom_tool_call' | 'tool_search_call' | 'function_call';
  /** The tool's name as the client declared it (the provider may see it prefixed with its namespace). */
  name: string;
  namespace?: string;
}

/** The name a client tool search is offered under (it has none of its own). */
export const TOOL_SEARCH = 'tool_search';

/** Names the provider sees at most (OpenAI's and Gemini's limit on function names). */
const MAX_NAME = 64;

/**
 * The one name a provider sees for a tool: its own when it has no namespace (or `functions`, the
 * namespace plain function tools live in), else `namespace__name` (as Codex's own chat-completions
 * client names them), folded to a prefix and a hash when longer than providers allow.
 */
export function flatName(namespace: string | undefined, name: string): string {
  if (namespace === undefined || namespace.length === 0 || namespace === 'functions') return name;
  const joined = `${namespace}__${name}`;
  if (joined.length <= MAX_NAME) return joined;
  return `${joined.slice(0, MAX_NAME - 9)}_${createHash('sha256').update(joined).digest('hex').slice(0, 8)}`;
}

/**
 * Tools OpenAI runs itself, by kind: a web search maps to other providers' searches; the others
 * have no equivalent elsewhere and are left to the `unsupported_tools` policy. Built-in tools the
 * client runs (`local_shell`, `computer_use_preview`, `apply_patch`, …) are not hosted: a provider
 * of another dialect refuses them.
 */
export function hostedKind(type: string): HostedToolKind | undefined {
  if (type === 'web_search' || type === 'web_search_preview' || type.startsWith('web_search_2') || type.startsWith('web_search_preview_')) return 'web-search';
  if (type === 'code_interpreter') return 'code-execution';
  if (type === 'file_search' || type === 'image_generation' || type === 'mcp') return 'other';
  return undefined;
}

const CONTEXT_SIZES: ReadonlySet<unknown> = new Set(['low', 'medium', 'high']);

function hostedTool(tool: JsonObject, type: string, kind: HostedToolKind): HostedTool {
  const hosted: HostedTool = { kind, field: `tools.${type}`, dialect: 'openai-responses', raw: tool };
  if (kind !== 'web-search') return hosted;
  const allowed = stringsFrom(objectFrom(tool.filters)?.allowed_domains);
  if (allowed !== undefined && allowed.length > 0) hosted.allowedDomains = allowed;
  const location = userLocationOf(tool.user_location);
  if (location !== undefined) hosted.userLocation = location;
  if (CONTEXT_SIZES.has(tool.search_context_size)) hosted.searchContextSize = tool.search_context_size as 'low' | 'medium' | 'high';
  if (tool.external_web_access === false) hosted.cachedOnly = true;
  return hosted;
}

function customToolParameters(tool: JsonObject): Record<string, unknown> {
  const format = objectFrom(tool.format);
  let description = 'The raw input for this tool.';
  if (format?.type === 'grammar' && typeof format.definition === 'string') {
    description = `The raw input for this tool, following this ${textFrom(format.syntax)} grammar:\n${textFrom(format.definition)}`;
  }
  return { type: 'object', properties: { [CUSTOM_TOOL_ARGUMENT]: { type: 'string', description } }, required: [CUSTOM_TOOL_ARGUMENT], additionalProperties: false };
}

/** The tools of a request, gathered from wherever it declares them; a name seen twice is offered once. */
export class DecodedTools {
  readonly tools: ToolDefinition[] = [];
  readonly hosted: HostedTool[] = [];
  /** Built-in tools the client runs (`local_shell`, …): carried for a Responses provider, refused by any other. */
  readonly builtIn: Record<string, unknown[]> = {};
  /** How calls go back, for the tools that are not plain functions, by the name the provider sees. */
  readonly calls = new Map<string, ToolCallShape>();
  private readonly names = new Set<string>();

  /** One entry of a tool list, at `where` (`tools[3]`, `input[0].tools[1]`); the names the model can call it (or its members) by. */
  add(entry: unknown, where: string): string[] {
    const tool = objectFrom(entry);
    if (typeof tool?.type !== 'string') throw invalidRequest(`Invalid '${where}.type': expected a string.`, `${where}.type`);
    switch (tool.type) {
      case 'function':
      case 'custom':
        return [this.callable(tool, where, undefined)];
      case 'namespace': {
        if (!Array.isArray(tool.tools)) break;
        // a group of tools (Codex's multi_agent_v1, its MCP servers): each offered on its own, its calls naming the namespace
        const names: string[] = [];
        for (const [j, inner] of tool.tools.entries()) {
          const member = objectFrom(inner);
          const at = `${where}.tools[${j}]`;
          if (member?.type !== 'function' && member?.type !== 'custom') throw invalidRequest(`Invalid '${at}': only function and custom tools can be translated from a namespace.`, at);
          names.push(this.callable(member, at, str(tool.name, `${where}.name`)));
        }
        return names;
      }
      case 'tool_search':
        // a tool search the client runs (Codex's): an ordinary tool for the model, its calls tool_search_call items
        if (tool.execution === 'client') {
          this.offer({ name: TOOL_SEARCH, ...(typeof tool.description === 'string' ? { description: tool.description } : {}), parameters: schemaOf(tool.parameters, `${where}.parameters`, NO_PARAMETERS) }, { item: 'tool_search_call', name: TOOL_SEARCH });
          return [TOOL_SEARCH];
        }
        this.hosted.push(hostedTool(tool, tool.type, 'tool-search'));
        return [];
      default:
        break;
    }
    const kind = hostedKind(tool.type);
    if (kind !== undefined) this.hosted.push(hostedTool(tool, tool.type, kind));
    // carried for a Responses provider; any other provider refuses it, naming the tool type
    else (this.builtIn[`tools.${tool.type}`] ??= []).push(tool);
    return [];
  }

  /** Keeps only the tools `allowed` names (a tool_choice of allowed tools). */
  keep(allowed: ReadonlySet<string>): void {
    const kept = this.tools.filter((tool) => allowed.has(tool.name));
    this.tools.length = 0;
    this.tools.push(...kept);
  }

  /** Offers a function or custom tool; the name the provider sees. */
  private callable(tool: JsonObject, where: string, namespace: string | undefined): string {
    const name = str(tool.name, `${where}.name`);
    const custom = tool.type === 'custom';
    const flat = flatName(namespace, name);
    const definition: ToolDefinition = {
      name: flat,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      parameters: custom ? customToolParameters(tool) : schemaOf(tool.parameters, `${where}.parameters`, NO_PARAMETERS),
      ...(!custom && typeof tool.strict === 'boolean' ? { strict: tool.strict } : {}),
    };
    const prefixed = flat !== name;
    this.offer(definition, custom || prefixed ? { item: custom ? 'custom_tool_call' : 'function_call', name, ...(prefixed && namespace !== undefined ? { namespace } : {}) } : undefined);
    return flat;
  }

  private offer(definition: ToolDefinition, shape: ToolCallShape | undefined): void {
    if (this.names.has(definition.name)) return;
    this.names.add(definition.name);
    this.tools.push(definition);
    if (shape !== undefined) this.calls.set(definition.name, shape);
  }
}
