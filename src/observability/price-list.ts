// Built-in list prices, USD per 1M tokens, for the models agents use most. Checked on 2026-11-26
// against the providers' published pricing pages (OpenAI, Anthropic, Google AI Studio / Gemini
// API, standard tier, no batch or priority discounts). These are LIST prices: negotiated,
// regional, batch or priority rates differ, and prices change — override any of them with
// `prices:` in the config. A model missing here has no cost recorded unless priced there.
//
// Keys are family names; a request's model is matched after lower-casing, dropping a
// `vendor/` prefix (OpenRouter), a `:variant` suffix, and a date or version suffix
// (`-20250929`, `-2024-08-06`, `@20250929`, `-001`, `-latest`), with `4.5` and `4-5` equal.
// `reasoning` is left out where the provider bills thinking as output (all of these).
// `cacheWrite` is Anthropic's 5-minute cache write (1.25× input); OpenAI and Gemini charge
// nothing extra to write their implicit caches, so theirs defaults to input.
import type { PriceSettings } from '../config/types.ts';

export const PRICE_LIST_DATE = '2026-11-26';

export interface ListPrice extends PriceSettings {
  /** A higher rate for the whole request when its prompt (cache reads and writes included) is longer than `threshold` tokens. */
  longContext?: PriceSettings & { threshold: number };
}

const claude = (input: number, output: number, cacheRead = input / 10): ListPrice => ({ input, output, cachedInput: cacheRead, cacheWrite: input * 1.25 });

const opus4 = claude(15, 75);
const opus45 = claude(5, 25);
// Sonnet 4 and 4.5 charge more for the whole request past 200k prompt tokens (1M-context beta).
const sonnet4: ListPrice = { ...claude(3, 15), longContext: { threshold: 200_000, ...claude(6, 22.5) } };
const sonnet46 = claude(3, 15);

export const priceList: Readonly<Record<string, ListPrice>> = {
  // ----- OpenAI ---------------------------------------------------------------------------------
  'gpt-5': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-chat': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-codex': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5-mini': { input: 0.25, output: 2, cachedInput: 0.025 },
  'gpt-5-nano': { input: 0.05, output: 0.4, cachedInput: 0.005 },
  'gpt-5-pro': { input: 15, output: 120 },
  'gpt-5.1': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5.1-codex': { input: 1.25, output: 10, cachedInput: 0.125 },
  'gpt-5.4': { input: 2.5, output: 15, cachedInput: 0.25 },
  'gpt-5.4-mini': { input: 0.75, output: 4.5, cachedInput: 0.075 },
  'gpt-5.4-nano': { input: 0.2, output: 1.25, cachedInput: 0.02 },
  'gpt-4.1': { input: 2, output: 8, cachedInput: 0.5 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6, cachedInput: 0.1 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gpt-4o': { input: 2.5, output: 10, cachedInput: 1.25 },
  // the first gpt-4o snapshot kept its launch price
  'gpt-4o-2024-05-13': { input: 5, output: 15 },
  'gpt-4o-mini': { input: 0.15, output: 0.6, cachedInput: 0.075 },
  'o1': { input: 15, output: 60, cachedInput: 7.5 },
  'o3': { input: 2, output: 8, cachedInput: 0.5 },
  'o3-pro': { input: 20, output: 80 },
  'o3-mini': { input: 1.1, output: 4.4, cachedInput: 0.55 },
  'o4-mini': { input: 1.1, output: 4.4, cachedInput: 0.275 },
  // Media models whose usage fits this shape: speech from text tokens in to audio tokens out (the
  // usage of a streamed speech answer), and moderation, which is free. Not here, because a token
  // price per input and output cannot say what they bill: gpt-image-1 (text and image input tokens
  // at different rates), gpt-4o-transcribe and gpt-4o-mini-transcribe (audio and text input at
  // different rates), dall-e-2/3 (per image), whisper-1 (per minute), tts-1 and tts-1-hd (per
  // character). Give them under `prices:` if an approximation will do (docs/media.md).
  'gpt-4o-mini-tts': { input: 0.6, output: 12 },
  'omni-moderation': { input: 0, output: 0 },

  // ----- Anthropic ------------------------------------------------------------------------------
  'claude-opus-5': opus45,
  'claude-opus-4.8': opus45,
  'claude-opus-4.7': opus45,
  'claude-opus-4.6': opus45,
  'claude-opus-4.5': opus45,
  'claude-opus-4.1': opus4,
  'claude-opus-4': opus4,
  'claude-opus-4.0': opus4,
  'claude-sonnet-5': claude(2, 10),
  'claude-sonnet-4.6': sonnet46,
  'claude-sonnet-4.5': sonnet4,
  'claude-sonnet-4': sonnet4,
  'claude-sonnet-4.0': sonnet4,
  'claude-3.7-sonnet': claude(3, 15),
  'claude-3.5-sonnet': claude(3, 15),
  'claude-haiku-4.5': claude(1, 5),
  'claude-3.5-haiku': claude(0.8, 4),
  'claude-3-haiku': { input: 0.25, output: 1.25, cachedInput: 0.03, cacheWrite: 0.3 },
  'claude-3-opus': opus4,

  // ----- Google ---------------------------------------------------------------------------------
  'gemini-2.5-pro': { input: 1.25, output: 10, cachedInput: 0.125, longContext: { threshold: 200_000, input: 2.5, output: 15, cachedInput: 0.25 } },
  'gemini-2.5-flash': { input: 0.3, output: 2.5, cachedInput: 0.03 },
  'gemini-2.5-flash-lite': { input: 0.1, output: 0.4, cachedInput: 0.01 },
  'gemini-2.0-flash': { input: 0.1, output: 0.4, cachedInput: 0.025 },
  'gemini-2.0-flash-lite': { input: 0.075, output: 0.3 },
};
