// Built-in plugin `redact` (issue #18): finds secrets (provider API keys, private keys, JWTs) and
// personal data (emails, phone numbers, Luhn-valid card numbers) in a request's prompt text, and
// replaces them, refuses the request, or only logs what it found. The detectors chosen at setup
// are joined into one regular expression compiled at setup, so each text is scanned once (email
// addresses apart, found from each `@`); a text with nothing to find is kept as it was. Values found never reach a log or an error message.
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCode } from '../../canonical/errors.ts';
import type { CanonicalRequest, PluginDefinition, PluginInstance } from '../api.ts';
import { visitPromptText } from './prompt-text.ts';

const EMAIL_DOMAIN = String.raw`[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b`;

interface DetectorSpec {
  /** A regular expression source without capturing groups (it becomes one group of the joined pattern). */
  source: string;
  /** A second look at a match the pattern cannot judge alone (a checksum, a digit count). */
  accept?: (match: string) => boolean;
}

// Order matters only where two detectors match at the same position: the more specific first
// (`sk-ant-` before `sk-`, a card number before a phone number).
const DETECTORS = {
  'private-key': {
    // up to the END line; a truncated block up to a quote (its end inside a JSON string) or the text's end
    source: String.raw`-----BEGIN[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40} PRIVATE KEY(?: BLOCK)?-----|(?=")|$)`,
  },
  'anthropic-key': { source: String.raw`\bsk-ant-[A-Za-z0-9_-]{20,}` },
  'openai-key': { source: String.raw`\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}`, accept: looksRandom },
  'stripe-key': { source: String.raw`\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}` },
  'google-key': { source: String.raw`\bAIza[0-9A-Za-z_-]{35}` },
  'aws-key': { source: String.raw`\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b` },
  'github-token': { source: String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})` },
  'slack-token': { source: String.raw`\bxox[abposre]-[A-Za-z0-9-]{10,}` },
  jwt: { source: String.raw`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*` },
  // found from each `@` outwards rather than by this pattern (see PromptScanner.emails): tried at
  // every position, an address pattern costs more than all the other detectors together
  email: { source: String.raw`[A-Za-z0-9._%+-]{1,64}@${EMAIL_DOMAIN}` },
  'credit-card': { source: String.raw`(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d])`, accept: isCardNumber },
  // international (+, 8–15 digits) or separated national forms: (415) 555-2671, 415-555-2671, 020 7946 0958
  phone: {
    source: String.raw`(?<![\w+])\+[1-9][\d ().-]{6,22}\d(?!\d)|(?<![\w+.-])(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])|(?<![\w+.-])0\d{2,4}[ -]\d{3,4}[ -]\d{3,4}(?![\w-])`,
    accept: isPhoneNumber,
  },
} as const satisfies Record<string, DetectorSpec>;

export type RedactKind = keyof typeof DETECTORS;
export const REDACT_KINDS = Object.keys(DETECTORS) as RedactKind[];
const SECRET_KINDS: readonly RedactKind[] = ['private-key', 'anthropic-key', 'openai-key', 'stripe-key', 'google-key', 'aws-key', 'github-token', 'slack-token', 'jwt'];
const MODES = ['redact', 'block', 'log'] as const;

export const RedactConfigSchema = Type.Object({
  mode: Type.Optional(Type.Union(MODES.map((mode) => Type.Literal(mode)), {
    default: 'redact',
    description: '`redact`: replace each finding with `[REDACTED:<kind>]` and send the request on; `block`: refuse the request with 400 naming the kinds found (never the values); `log`: send the request unchanged and log the kinds and counts found.',
  })),
  kinds: Type.Optional(Type.Array(Type.Union([...REDACT_KINDS, 'secrets'].map((kind) => Type.Literal(kind))), {
    minItems: 1,
    description: `The detectors to run (default: all): ${REDACT_KINDS.map((kind) => `\`${kind}\``).join(', ')}; \`secrets\` stands for every key and token kind (all but \`email\`, \`phone\`, \`credit-card\`).`,
  })),
}, { additionalProperties: false, description: 'Finds secrets and personal data in the prompt and redacts them, refuses the request, or logs what it found.' });

export type RedactConfig = Static<typeof RedactConfigSchema>;

/** Kind → how many times it was found in one request. */
export type Findings = Map<RedactKind, number>;

/**
 * The chosen detectors: every one but `email` joined into one global pattern, each a capturing
 * group of its own; email addresses found around each `@` (a text without one costs a single
 * `indexOf`).
 */
export class PromptScanner {
  readonly kinds: readonly RedactKind[];
  private readonly accepts: readonly (((match: string) => boolean) | undefined)[];
  private readonly pattern: RegExp | undefined;
  private readonly emails: boolean;
  private readonly emailDomain = new RegExp(EMAIL_DOMAIN, 'y');

  constructor(kinds: readonly RedactKind[]) {
    // in DETECTORS order, whatever the config's order, so specific detectors keep precedence
    this.kinds = REDACT_KINDS.filter((kind) => kind !== 'email' && kinds.includes(kind));
    this.emails = kinds.includes('email');
    this.accepts = this.kinds.map((kind) => (DETECTORS[kind] as DetectorSpec).accept);
    this.pattern = this.kinds.length === 0 ? undefined : new RegExp(this.kinds.map((kind) => `(${DETECTORS[kind].source})`).join('|'), 'g');
  }

  /** `text` with every finding replaced by `[REDACTED:<kind>]`, counted in `findings`. */
  redact(text: string, findings: Findings): string {
    const result = this.emails ? this.scanEmails(text, findings, true) : text;
    if (this.pattern === undefined) return result;
    return result.replace(this.pattern, (match: string, ...groups: unknown[]) => {
      const index = this.groupOf(groups);
      if (index < 0 || !this.accepted(index, match)) return match;
      const kind = this.kinds[index]!;
      findings.set(kind, (findings.get(kind) ?? 0) + 1);
      return `[REDACTED:${kind}]`;
    });
  }

  /** Counts the findings in `text` into `findings`, changing nothing. */
  count(text: string, findings: Findings): void {
    if (this.emails) this.scanEmails(text, findings, false);
    const pattern = this.pattern;
    if (pattern === undefined) return;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const index = this.groupOf(match.slice(1));
      if (index >= 0 && this.accepted(index, match[0])) {
        const kind = this.kinds[index]!;
        findings.set(kind, (findings.get(kind) ?? 0) + 1);
      }
    }
  }

  /**
   * Each `@` with a local part of 1–64 address characters before it (the whole run: a longer one is
   * not an address) and a domain with a top-level name after it.
   */
  private scanEmails(text: string, findings: Findings, replace: boolean): string {
    let at = text.indexOf('@');
    if (at < 0) return text;
    let result = '';
    let copied = 0;
    let found = 0;
    const domain = this.emailDomain;
    while (at >= 0) {
      let start = at;
      while (start > copied && start > at - 64 && isAddressChar(text.charCodeAt(start - 1))) start--;
      domain.lastIndex = at + 1;
      if (start < at && (start === 0 || !isAddressChar(text.charCodeAt(start - 1))) && domain.test(text)) {
        found++;
        if (replace) result += `${text.slice(copied, start)}[REDACTED:email]`;
        copied = domain.lastIndex;
        at = text.indexOf('@', copied);
      } else {
        at = text.indexOf('@', at + 1);
      }
    }
    if (found === 0) return text;
    findings.set('email', (findings.get('email') ?? 0) + found);
    return replace ? result + text.slice(copied) : text;
  }

  private groupOf(groups: readonly unknown[]): number {
    for (let i = 0; i < this.kinds.length; i++) if (groups[i] !== undefined) return i;
    return -1;
  }

  private accepted(index: number, match: string): boolean {
    const accept = this.accepts[index];
    return accept === undefined || accept(match);
  }
}

/** The characters of an address's local part: letters, digits and `._%+-`. */
function isAddressChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 46 || code === 95 || code === 37 || code === 43 || code === 45;
}

/** `openai-key: 2, email: 1`: kinds and counts, never a value. */
export function describeFindings(findings: Findings): string {
  return [...findings].map(([kind, count]) => `${kind}: ${count}`).join(', ');
}

function expandKinds(kinds: readonly string[] | undefined): RedactKind[] {
  if (kinds === undefined) return REDACT_KINDS;
  return kinds.flatMap((kind) => (kind === 'secrets' ? SECRET_KINDS : [kind as RedactKind]));
}

export const redact: PluginDefinition<RedactConfig> = {
  name: 'redact',
  // a guardrail that fails must not let through what it guards against
  onError: 'closed',
  configSchema: RedactConfigSchema,
  setup(config): PluginInstance<RedactConfig> {
    const scanner = new PromptScanner(expandKinds(config.kinds));
    const mode = config.mode ?? 'redact';
    return {
      onRequest(ctx, request: CanonicalRequest) {
        const found: Findings = new Map();
        if (mode === 'redact') {
          visitPromptText(request, (text) => scanner.redact(text, found));
          return;
        }
        visitPromptText(request, (text) => {
          scanner.count(text, found);
          return text;
        });
        if (found.size === 0) return;
        if (mode === 'block') {
          throw ctx.reject(400, `The request was refused because its prompt contains sensitive data (${describeFindings(found)}). Remove it and send the request again.`, ErrorCode.pluginSensitiveData);
        }
        ctx.log('redact: sensitive data in the prompt', { findings: Object.fromEntries(found) });
      },
    };
  },
};

/** A real key is random: letters and digits mixed. A long kebab-case slug after `sk-` is not a key. */
function looksRandom(match: string): boolean {
  return /\d/.test(match) && /[A-Za-z]/.test(match.slice(3));
}

/** 13–19 digits passing the Luhn checksum, so a random run of digits is rarely taken for a card. */
function isCardNumber(match: string): boolean {
  let sum = 0;
  let digits = 0;
  for (let i = match.length - 1; i >= 0; i--) {
    const code = match.charCodeAt(i) - 48;
    if (code < 0 || code > 9) continue;
    const doubled = digits % 2 === 1 ? code * 2 : code;
    sum += doubled > 9 ? doubled - 9 : doubled;
    digits++;
  }
  return digits >= 13 && digits <= 19 && sum % 10 === 0;
}

/** E.164 allows at most 15 digits; fewer than 7 is a short code or a number of something else. */
function isPhoneNumber(match: string): boolean {
  let digits = 0;
  for (let i = 0; i < match.length; i++) {
    const code = match.charCodeAt(i);
    if (code >= 48 && code <= 57) digits++;
  }
  return digits >= 7 && digits <= 15;
}
