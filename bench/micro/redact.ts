// What the built-in `redact` plugin costs per 64 KB of prompt text (issue #18): the strings of a
// recorded agent's messages (bench/bodies/agent-bodies.ts, the 64 KB OpenAI-chat body: prose, code,
// tool arguments and results), scanned part by part as the plugin does:
// - all detectors, redact mode, nothing to find (the common case);
// - the same text with 12 findings spread through it (replacement strings built);
// - count only (block and log modes);
// - one detector group alone (secrets; email; phone + credit-card), to see where the time goes;
// - for scale, JSON.parse of the 64 KB body, which a translated request pays anyway (its text is
//   about half of that of the cases above).
// CPU time per call (process.cpuUsage), interleaved rounds, median.
// `nice -n 19 npx node bench/micro/redact.ts [--rounds 9] [--iterations 50]`
import { cpuRounds } from '../lib/cpu-rounds.ts';
import { parseArgs } from 'node:util';
import { agentBody } from '../bodies/agent-bodies.ts';
import { PromptScanner, REDACT_KINDS, type Findings } from '../../src/plugins/builtin/redact.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '9' }, iterations: { type: 'string', default: '50' } } });
const rounds = Number(values.rounds);
const iterations = Number(values.iterations);

const body = agentBody('openai-chat', 64 * 1024, { model: 'agent-model', stream: false });
const texts: string[] = [];
(function collect(value: unknown): void {
  if (typeof value === 'string') texts.push(value);
  else if (Array.isArray(value)) value.forEach(collect);
  else if (typeof value === 'object' && value !== null) Object.values(value).forEach(collect);
})((JSON.parse(body) as { messages: unknown }).messages);
// the messages of a 64 KB body hold about half of it as text (tools and JSON take the rest): the
// texts are repeated until they make 64 KB of prompt text
const recorded = texts.length;
for (let i = 0, total = texts.reduce((sum, text) => sum + text.length, 0); total < 64 * 1024; i++) {
  const text = texts[i % recorded]!.slice(0, 64 * 1024 - total);
  texts.push(text);
  total += text.length;
}
const totalChars = texts.reduce((sum, text) => sum + text.length, 0);

// 12 findings, one in each of 12 texts spread over the list
const fakeKey = `sk-proj-${'aB3dE5gH7jK9'.repeat(6)}`;
const findings = [fakeKey, 'jane.doe@example.com', '4111 1111 1111 1111', '+1 (415) 555-2671'];
const dirty = texts.map((text, i) => (i % Math.max(1, Math.floor(texts.length / 12)) === 0 ? `${text.slice(0, text.length >> 1)} ${findings[i % findings.length]} ${text.slice(text.length >> 1)}` : text));

const all = new PromptScanner(REDACT_KINDS);
const secrets = new PromptScanner(['private-key', 'anthropic-key', 'openai-key', 'stripe-key', 'google-key', 'aws-key', 'github-token', 'slack-token', 'jwt']);
const email = new PromptScanner(['email']);
const numbers = new PromptScanner(['phone', 'credit-card']);

let sink: unknown;
function redactEach(scanner: PromptScanner, list: readonly string[]): () => void {
  return () => {
    const found: Findings = new Map();
    for (const text of list) sink = scanner.redact(text, found);
  };
}
const cases: Record<string, () => void> = {
  'all detectors, redact, nothing found': redactEach(all, texts),
  'all detectors, redact, 12 findings': redactEach(all, dirty),
  'all detectors, count (block/log modes)': () => {
    const found: Findings = new Map();
    for (const text of texts) all.count(text, found);
    sink = found;
  },
  'secrets only': redactEach(secrets, texts),
  'email only': redactEach(email, texts),
  'phone + credit-card only': redactEach(numbers, texts),
  'for scale: JSON.parse of the 64 KB body': () => { sink = JSON.parse(body); },
};

const medians = cpuRounds(cases, rounds, iterations, 10);
console.log(`prompt text: ${texts.length} strings, ${totalChars} characters (body ${body.length} bytes)`);
for (const [name, value] of medians) console.log(`${name.padEnd(44)} ${value.toFixed(0).padStart(6)} µs`);
void sink;
