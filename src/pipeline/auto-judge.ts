// An auto alias's judge (`classifier:`): a small model asked, with a fixed prompt, which tier fits
// a request no rule decided — within its timeout; on a timeout, an error or an answer that names
// no tier the complexity score decides (auto-route.ts), and each outcome is counted. The judge is
// asked directly at its route's first healthy target (no retries, no fallbacks: the score is the
// fallback), in that provider's dialect; the health book is left alone.
import type { CanonicalRequest } from '../canonical/request.ts';
import type { AutoRouting } from '../config/types.ts';
import { postJson } from '../upstream/discovery.ts';
import type { Runtime } from './runtime.ts';

/** What the judge reads of the request: the ask, not the whole conversation. */
const EXCERPT_CHARS = 2000;

export type JudgeOutcome = 'answered' | 'timeout' | 'error' | 'invalid';

export interface JudgeAnswer {
  readonly outcome: JudgeOutcome;
  /** The tier it named (answered only). */
  readonly tier: number | undefined;
  readonly ms: number;
}

const DEFAULT_DESCRIPTIONS = ['chit-chat, short factual questions, simple rewriting, extraction and summaries', 'everyday code, explanations, analysis and multi-step tasks', 'proofs, hard reasoning, system design, expert legal, medical or scientific questions'];

/** The fixed prompt: the tiers and what each is for; the answer is one tier name. */
function judgePrompt(routing: AutoRouting): string {
  const tiers = routing.tiers.map((tier, index) => {
    const described = tier.description ?? DEFAULT_DESCRIPTIONS[Math.round((index / Math.max(1, routing.tiers.length - 1)) * 2)]!;
    return `- ${tier.name}: ${described}`;
  });
  return `You pick the cheapest model tier that will answer a request well. The tiers, cheapest first:\n${tiers.join('\n')}\nAnswer with the tier's name only.`;
}

function excerpt(text: string): string {
  return text.length <= EXCERPT_CHARS ? text : `${text.slice(0, EXCERPT_CHARS / 2)}\n…\n${text.slice(-EXCERPT_CHARS / 2)}`;
}

function latestUserText(request: CanonicalRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role !== 'user') continue;
    return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
  }
  return '';
}

export class AutoJudge {
  private readonly runtime: Runtime;
  private readonly routing: AutoRouting;
  private readonly model: string;
  private readonly timeoutMs: number;
  private readonly prompt: string;
  private readonly names: readonly string[];

  constructor(runtime: Runtime, routing: AutoRouting) {
    this.runtime = runtime;
    this.routing = routing;
    this.model = routing.classifier!.model;
    this.timeoutMs = routing.classifier!.timeoutMs;
    this.prompt = judgePrompt(routing);
    this.names = routing.tiers.map((tier) => tier.name.toLowerCase());
  }

  /** Never rejects. */
  async ask(request: CanonicalRequest, signal: AbortSignal): Promise<JudgeAnswer> {
    const started = performance.now();
    const ms = () => performance.now() - started;
    const route = this.runtime.router.resolve(this.model);
    const target = route?.targets.find((candidate) => this.runtime.providers.get(candidate.provider)?.kind === 'http');
    const provider = target === undefined ? undefined : this.runtime.providers.get(target.provider);
    if (target === undefined || provider === undefined || provider.kind !== 'http' || provider.adapter.chat === undefined) return { outcome: 'error', tier: undefined, ms: ms() };
    const judgeRequest: CanonicalRequest = {
      model: target.model,
      messages: [
        { role: 'system', content: [{ type: 'text', text: this.prompt }] },
        { role: 'user', content: [{ type: 'text', text: excerpt(latestUserText(request)) }] },
      ],
      sampling: { temperature: 0, maxTokens: 8 },
      stream: false,
    };
    try {
      const codec = provider.adapter.chat;
      const upstream = codec.encodeRequest(judgeRequest, target.model, provider.context);
      const answer = await postJson(provider.endpoint, upstream.path, upstream.headers, upstream.body, this.timeoutMs, 0, signal);
      const decoded = codec.decodeResponse(answer.body, judgeRequest);
      const text = decoded.content.map((part) => (part.type === 'text' ? part.text : '')).join(' ').toLowerCase();
      const tier = this.tierNamed(text);
      return { outcome: tier === undefined ? 'invalid' : 'answered', tier, ms: ms() };
    } catch (error) {
      const failure = error as { name?: string; code?: string };
      const timedOut = failure.name === 'TimeoutError' || failure.code === 'UND_ERR_HEADERS_TIMEOUT' || failure.code === 'UND_ERR_BODY_TIMEOUT' || ms() >= this.timeoutMs;
      return { outcome: timedOut ? 'timeout' : 'error', tier: undefined, ms: ms() };
    }
  }

  /** The tier the answer names: the first word that is a tier's name (`Complex.`, `tier: medium`). */
  private tierNamed(text: string): number | undefined {
    for (const word of text.split(/[^a-z0-9_-]+/)) {
      const index = this.names.indexOf(word);
      if (index >= 0) return index;
    }
    return undefined;
  }
}
