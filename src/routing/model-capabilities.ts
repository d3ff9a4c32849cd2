// Built-in capability records of the models agents use most, from the same published pages as the
// price list (observability/price-list.ts): OpenAI's model pages, Anthropic's models overview and
// structured-outputs page, Google's Gemini API model pages, and for open-weight models served
// locally, the "tools" and "vision" marks of the Ollama library. Checked on 2026-12-06. What a
// page does not say plainly is left out: a missing fact is "unknown", never "yes". Read by an auto
// alias's hard constraints (pipeline/auto-route.ts): a target whose record says it cannot take
// images, a JSON schema or tools is dropped for such a request; one with no record is tried only
// where no target known to serve it is left. Any target's facts can be given in the config
// (`supports:` and `context_window` on the target), over these.
//
// Keys are family names, matched as the price list's are (util/model-family.ts: vendor prefixes,
// snapshot and date suffixes dropped, `4.5` = `4-5`); an Ollama tag (`qwen3:8b`) falls back to its
// family (`qwen3`). `contextWindow` is the largest prompt in tokens (the input limit where the
// provider gives one apart from the output: GPT-5's 400,000 context holds 272,000 of prompt). The
// context windows of local models depend on how the server runs them, so none is given.
import { familyTable, lookupFamily } from '../util/model-family.ts';

export const CAPABILITY_LIST_DATE = '2026-12-06';

export interface ModelCapabilities {
  /** Takes images in the prompt. */
  images?: boolean;
  /** Answers in JSON that follows a given schema (structured output). */
  jsonSchema?: boolean;
  /** Calls the caller's function tools. */
  tools?: boolean;
  /** The largest prompt, in tokens. */
  contextWindow?: number;
}

const all = (contextWindow?: number): ModelCapabilities => ({ images: true, jsonSchema: true, tools: true, ...(contextWindow !== undefined ? { contextWindow } : {}) });
// Claude takes images and tools; structured outputs only from the 4.1/4.5 generation on
const claude = (jsonSchema: boolean): ModelCapabilities => ({ images: true, tools: true, jsonSchema, contextWindow: 200_000 });
const gemini: ModelCapabilities = all(1_048_576);
/** Open-weight models as the Ollama library marks them (JSON schemas are the server's: see auto-route.ts). */
const textTools: ModelCapabilities = { images: false, tools: true };

export const capabilityList: Readonly<Record<string, ModelCapabilities>> = {
  // ----- OpenAI ---------------------------------------------------------------------------------
  'gpt-5': all(272_000),
  'gpt-5-mini': all(272_000),
  'gpt-5-nano': all(272_000),
  'gpt-5.1': all(272_000),
  'gpt-5-pro': all(),
  'gpt-4.1': all(1_047_576),
  'gpt-4.1-mini': all(1_047_576),
  'gpt-4.1-nano': all(1_047_576),
  'gpt-4o': all(128_000),
  'gpt-4o-mini': all(128_000),
  'o1': all(200_000),
  'o3': all(200_000),
  'o3-pro': all(200_000),
  'o4-mini': all(200_000),
  'o3-mini': { images: false, jsonSchema: true, tools: true, contextWindow: 200_000 },

  // ----- Anthropic ------------------------------------------------------------------------------
  'claude-opus-4.5': claude(true),
  'claude-opus-4.1': claude(true),
  'claude-opus-4': claude(false),
  'claude-sonnet-4.5': claude(true),
  'claude-sonnet-4': claude(false),
  'claude-haiku-4.5': claude(true),
  'claude-3.7-sonnet': claude(false),
  'claude-3.5-sonnet': claude(false),
  'claude-3-haiku': claude(false),
  'claude-3-opus': claude(false),

  // ----- Google ---------------------------------------------------------------------------------
  'gemini-2.5-pro': gemini,
  'gemini-2.5-flash': gemini,
  'gemini-2.5-flash-lite': gemini,
  'gemini-2.0-flash': gemini,

  // ----- DeepSeek (text only; JSON mode but no schema) -------------------------------------------
  'deepseek-chat': { images: false, jsonSchema: false, tools: true },
  'deepseek-reasoner': { images: false, jsonSchema: false },

  // ----- Open-weight models, as Ollama names them ---------------------------------------------------
  'qwen3': textTools,
  'qwen2.5': textTools,
  'qwen2.5-coder': textTools,
  'llama3.1': textTools,
  'llama3.2': textTools,
  'llama3.3': textTools,
  'mistral': textTools,
  'gpt-oss': textTools,
  'llama3.2-vision': { images: true, tools: false },
  'llava': { images: true, tools: false },
};

const builtIn = familyTable(capabilityList);

/** The built-in record of a model name as providers and routers spell it; undefined when none. */
export function listCapabilitiesOf(model: string): ModelCapabilities | undefined {
  const found = lookupFamily(builtIn, model);
  if (found !== undefined) return found;
  // an Ollama tag: `qwen3:8b`, `llama3.2-vision:11b-instruct-q4_K_M`
  const tag = model.lastIndexOf(':');
  return tag > model.lastIndexOf('/') + 1 ? lookupFamily(builtIn, model.slice(0, tag)) : undefined;
}
