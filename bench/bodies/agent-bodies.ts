// Agent-sized request bodies for the benchmark, generated deterministically (same bytes on every
// run and machine) from the requests recorded from the real CLIs in test/fixtures/clients:
//   - 'anthropic': a Messages request as Claude Code 2.1.332 sends it (system blocks with
//     cache_control, its tools, metadata, thinking, context_management; a history of thinking +
//     tool_use turns and tool_result blocks, cache_control on the last one);
//   - 'responses': a Responses request as Codex 0.171.0 sends it (its tools, include,
//     prompt_cache_key, client_metadata; reasoning, function_call and function_call_output items),
//     with its base prompt in `instructions` as earlier Codex versions sent it
//     (test/fixtures/responses/codex-request.json) rather than as a first developer message;
//   - 'openai-chat': an OpenAI chat request as opencode sends it, with 24 tools (opencode's 10,
//     then Codex's and Claude Code's function tools in the chat shape) and a long tool history.
// The recordings cut every string over 400 characters ("…[trimmed N chars]"); those strings are
// grown back to their length with filler prose — fully where the target leaves room (a restored
// Claude Code request is ~87 KB before any history), proportionally at 64 KB. Then turns are
// added until the body reaches the target, and the last tool result is sized so the whole body is
// within a few bytes of it. All generated text is ASCII, so bytes = characters.
// Usage: node bench/bodies/agent-bodies.ts [out dir]  — writes every body for inspection.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type BodyDialect = 'openai-chat' | 'anthropic' | 'responses';
export const bodyDialects: readonly BodyDialect[] = ['openai-chat', 'anthropic', 'responses'];

/** The sizes the issue names. */
export const bodySizes = { '64 KB': 64 * 1024, '256 KB': 256 * 1024, '1 MB': 1024 * 1024 } as const;
export type BodySize = keyof typeof bodySizes;

/** Where each dialect's requests go, on the gateway and on the mock upstream. */
export const dialectPaths: Record<BodyDialect, string> = { 'openai-chat': '/chat/completions', anthropic: '/messages', responses: '/responses' };

export interface BodyOptions {
  model: string;
  stream: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Recording {
  requests: Record<string, { body: JsonObject }>;
}

const fixtures = new URL('../../test/fixtures/', import.meta.url);
function recorded(file: string, request: string): JsonObject {
  const recording = JSON.parse(readFileSync(new URL(file, fixtures), 'utf8')) as Recording;
  const body = recording.requests[request]?.body;
  if (body === undefined) throw new Error(`${file}: no recorded request '${request}'`);
  return body;
}

// ----- deterministic text ------------------------------------------------------------------------

/** mulberry32: a tiny seeded generator, so every run sends the same bytes. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(low: number, high: number): number {
    return low + Math.floor(this.next() * (high - low + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  hex(length: number): string {
    let text = '';
    while (text.length < length) text += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, '0');
    return text.slice(0, length);
  }
  base64(length: number): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    let text = '';
    for (let i = 0; i < length; i++) text += alphabet[Math.floor(this.next() * 64)];
    return text;
  }
}

const proseWords = ('the tool call request model gateway provider stream answer file line function test config route ' +
  'retry budget user agent context token cache system message result error value field option default when only ' +
  'each before after run read write edit search command output input schema parameter description must should never always').split(' ');

function prose(random: Random, length: number): string {
  let text = '';
  let sentence = 0;
  while (text.length < length) {
    const word = random.pick(proseWords);
    text += sentence === 0 ? word[0]!.toUpperCase() + word.slice(1) : word;
    sentence++;
    if (sentence > 8 && random.next() < 0.15) {
      text += random.next() < 0.2 ? '.\n\n' : '. ';
      sentence = 0;
    } else text += ' ';
  }
  return text.slice(0, length);
}

const identifiers = ['request', 'response', 'provider', 'route', 'attempt', 'stream', 'usage', 'config', 'budget', 'headers', 'body', 'model', 'target', 'result'];
const statements = [
  (a: string, b: string) => `const ${a} = await ${b}.resolve(${a}Options);`,
  (a: string, b: string) => `if (${a} === undefined) throw new GatewayError('SWY_ERR_${b.toUpperCase()}', 400, \`no ${a} for \${${b}.name}\`);`,
  (a: string, b: string) => `for (const ${a} of ${b}.items) total += ${a}.length;`,
  (a: string, b: string) => `return { ${a}, ${b}: ${b}.slice(0, limit), done: ${a}.length === 0 };`,
  (a: string, b: string) => `// keep the ${a} when the ${b} is retried: the client sent it once`,
  (a: string, b: string) => `export function ${a}Of${b[0]!.toUpperCase()}${b.slice(1)}(${b}: ${b[0]!.toUpperCase()}${b.slice(1)}): string {`,
  () => '}',
  (a: string) => `  this.${a}s.push(${a});`,
];

/** Source-file-like text of about `length` characters, numbered as Claude Code's Read returns it. */
function sourceText(random: Random, length: number, numbered: boolean): string {
  const lines: string[] = [];
  let size = 0;
  for (let number = 1; size < length; number++) {
    const line = random.pick(statements)(random.pick(identifiers), random.pick(identifiers));
    const text = numbered ? `${String(number).padStart(6)}\t${line}` : line;
    lines.push(text);
    size += text.length + 1;
  }
  return lines.join('\n').slice(0, length);
}

const trimmedMarker = / …\[trimmed (\d+) chars\]$/;

/** A copy of a recorded value with each cut string grown back to `fraction` of its cut length. */
function restore(value: Json, random: Random, fraction: number): Json {
  if (typeof value === 'string') {
    const match = trimmedMarker.exec(value);
    if (match === null) return value;
    const kept = value.slice(0, match.index);
    return kept + ' ' + prose(random, Math.round(Number(match[1]) * fraction));
  }
  if (Array.isArray(value)) return value.map((item) => restore(item, random, fraction));
  if (value !== null && typeof value === 'object') {
    const copy: JsonObject = {};
    for (const [key, item] of Object.entries(value)) copy[key] = restore(item, random, fraction);
    return copy;
  }
  return value;
}

function trimmedChars(value: Json): number {
  let total = 0;
  JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'string') total += Number(trimmedMarker.exec(item)?.[1] ?? 0);
    return item;
  });
  return total;
}

/** The recorded request with cut strings restored as far as the target allows (≤ 40 % of it). */
function restored(body: JsonObject, random: Random, targetBytes: number): JsonObject {
  const cut = trimmedChars(body);
  const room = Math.max(0, 0.4 * targetBytes - byteLength(body));
  return restore(body, random, cut === 0 ? 1 : Math.min(1, room / cut)) as JsonObject;
}

function byteLength(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value));
}

// ----- one agent turn ----------------------------------------------------------------------------

interface ToolStep {
  callId: string;
  tool: 'read' | 'bash' | 'grep' | 'edit';
  arguments: Record<string, string>;
  thought: string;
  output: string;
}

const files = ['src/pipeline/runner.ts', 'src/routing/route-table.ts', 'src/streaming/frame-splitter.ts', 'src/config/normalize.ts', 'test/unit/runner.test.ts', 'docs/performance.md'];

function toolStep(random: Random, index: number, outputLength: number): ToolStep {
  const file = random.pick(files);
  const tool = random.pick(['read', 'read', 'bash', 'grep', 'edit'] as const);
  const callId = `toolu_${random.base64(24).replace(/[+/]/g, 'x')}`;
  const thought = prose(random, random.int(60, 240));
  switch (tool) {
    case 'read':
      return { callId, tool, thought, arguments: { file_path: `/home/dev/switchyard/${file}` }, output: sourceText(random, outputLength, true) };
    case 'bash':
      return { callId, tool, thought, arguments: { command: `cd /home/dev/switchyard && npx node --test ${file.replace(/^src/, 'test/unit').replace(/\.ts$/, '.test.ts')}`, description: `Run the tests of step ${index}` },
        output: `TAP version 13\n${sourceText(random, outputLength - 40, false)}\n# pass ${random.int(5, 90)}\n# fail 0\n` };
    case 'grep':
      return { callId, tool, thought, arguments: { pattern: random.pick(identifiers) + '\\(', path: '/home/dev/switchyard/src' },
        output: sourceText(random, outputLength, false).split('\n').map((line, number) => `src/${random.pick(files).slice(4)}:${number + 1}:${line}`).join('\n').slice(0, outputLength) };
    case 'edit':
      return { callId, tool, thought, arguments: { file_path: `/home/dev/switchyard/${file}`, old_string: sourceText(random, 200, false), new_string: sourceText(random, 240, false) },
        output: `The file /home/dev/switchyard/${file} has been updated. Here's the result of running \`cat -n\` on a snippet of the edited file:\n${sourceText(random, outputLength - 120, true)}` };
  }
}

/** Tool output sizes like an agent's: mostly a few KB, sometimes a whole file. */
function outputLength(random: Random): number {
  return random.next() < 0.15 ? random.int(12_000, 24_000) : random.int(600, 6_000);
}

/**
 * Adds turns (one tool step each) until the body reaches the target, then sizes the last tool
 * output so the body ends within a few bytes of it.
 */
function grow(body: JsonObject, targetBytes: number, random: Random, addTurn: (step: ToolStep) => Json[], removeTurn: () => void, setLastOutput: (text: string) => void): void {
  // The size is tracked turn by turn (the items plus their commas), not re-measured: re-encoding
  // a growing 1 MB body after every turn would take seconds. It is measured exactly below.
  let size = byteLength(body);
  for (let index = 1; size < targetBytes; index++) {
    for (const item of addTurn(toolStep(random, index, outputLength(random)))) size += byteLength(item) + 1;
  }
  // The last step's output is the padding: emptied (or, if even its empty turn is too big, the
  // previous step's), then grown until the size is right.
  setLastOutput('');
  if (byteLength(body) > targetBytes) {
    removeTurn();
    setLastOutput('');
  }
  const filler = sourceText(random, Math.max(0, targetBytes - byteLength(body)) + 64, true);
  let length = 10 + targetBytes - byteLength(body);
  for (let pass = 0; pass < 4 && length >= 0; pass++) {
    setLastOutput(filler.slice(0, Math.max(0, length)));
    length += targetBytes - byteLength(body);
  }
}

// ----- Anthropic Messages, as Claude Code sends it -----------------------------------------------

function anthropicBody(targetBytes: number, options: BodyOptions): JsonObject {
  const random = new Random(0xc1a0de);
  const base = restored(recorded('clients/claude-code-request.json', 'tool-result-turn'), random, targetBytes);
  const first = (base.messages as JsonObject[])[0]!;
  const messages: JsonObject[] = [first];
  const body: JsonObject = { ...base, model: options.model, messages, stream: options.stream };
  const names: Record<ToolStep['tool'], string> = { read: 'Read', bash: 'Bash', grep: 'Bash', edit: 'Edit' };
  let lastResult: JsonObject | undefined;
  grow(body, targetBytes, random, (step) => {
    if (lastResult !== undefined) delete lastResult.cache_control;
    const input: JsonObject = step.tool === 'grep' ? { command: `grep -rn '${step.arguments.pattern}' ${step.arguments.path}`, description: 'Search the sources' } : step.arguments;
    messages.push({ role: 'assistant', content: [
      { type: 'thinking', thinking: step.thought, signature: random.base64(344) },
      { type: 'text', text: step.thought.split('. ')[0]! + '.' },
      { type: 'tool_use', id: step.callId, name: names[step.tool], input },
    ] });
    lastResult = { tool_use_id: step.callId, type: 'tool_result', content: step.output, is_error: false, cache_control: { type: 'ephemeral' } };
    messages.push({ role: 'user', content: [lastResult] });
    return messages.slice(-2);
  }, () => {
    messages.splice(-2, 2);
    lastResult = (messages.at(-1)?.content as JsonObject[] | undefined)?.[0];
    if (lastResult !== undefined && messages.length > 1) lastResult.cache_control = { type: 'ephemeral' };
  }, (text) => {
    lastResult!.content = text;
  });
  return body;
}

// ----- OpenAI Responses, as Codex sends it -------------------------------------------------------

function responsesBody(targetBytes: number, options: BodyOptions): JsonObject {
  const random = new Random(0xc0de5);
  const base = restored(recorded('clients/codex-request.json', 'tool-result-turn'), random, targetBytes);
  const recordedInput = base.input as JsonObject[];
  // Codex's base prompt (the first developer message) as `instructions`; the history after the
  // recorded first user prompt is replaced by the generated one.
  const instructions = ((recordedInput[0]!.content as JsonObject[])[0]!.text) as string;
  const input: JsonObject[] = recordedInput.slice(1, 4);
  const { model: _model, stream: _stream, ...rest } = base;
  const body: JsonObject = { model: options.model, instructions, stream: options.stream, ...rest, input };
  let lastOutput: JsonObject | undefined;
  grow(body, targetBytes, random, (step) => {
    const command = step.tool === 'read' ? `sed -n '1,400p' ${step.arguments.file_path}` : step.tool === 'grep' ? `rg -n '${step.arguments.pattern}' ${step.arguments.path}`
      : step.tool === 'edit' ? `apply_patch <<'EOF'\n*** Begin Patch\n*** Update File: ${step.arguments.file_path}\n-${step.arguments.old_string}\n+${step.arguments.new_string}\n*** End Patch\nEOF` : step.arguments.command!;
    input.push({ type: 'reasoning', summary: [{ type: 'summary_text', text: `**${step.thought.slice(0, 40)}**\n\n${step.thought}` }], content: null, encrypted_content: `gAAAAAB${random.base64(1200)}` });
    input.push({ type: 'function_call', status: 'completed', id: `fc_${random.hex(32)}`, name: 'exec_command', arguments: JSON.stringify({ cmd: command, workdir: '/home/dev/switchyard' }), call_id: step.callId.replace('toolu_', 'call_') });
    lastOutput = { type: 'function_call_output', id: `fco_${random.hex(32)}`, call_id: step.callId.replace('toolu_', 'call_'), output: '' };
    setOutput(lastOutput, random, step.output);
    input.push(lastOutput);
    return input.slice(-3);
  }, () => {
    input.splice(-3, 3);
    lastOutput = input.at(-1);
  }, (text) => {
    setOutput(lastOutput!, random, text);
  });
  return body;
}

function setOutput(item: JsonObject, random: Random, text: string): void {
  item.output = `Chunk ID: ${random.hex(6)}\nWall time: 0.${random.int(1000, 9999)} seconds\nProcess exited with code 0\nOriginal token count: ${Math.ceil(text.length / 4)}\nOutput:\n${text}`;
}

// ----- OpenAI chat with 24 tools -----------------------------------------------------------------

interface ChatTool { type: 'function'; function: { name: string; description: string; parameters: Json } }

/** opencode's 10 tools, then Codex's and Claude Code's function tools in the chat shape: 24. */
function chatTools(random: Random, targetBytes: number): ChatTool[] {
  const tools: ChatTool[] = [];
  const seen = new Set<string>();
  const add = (name: string, description: string, parameters: Json) => {
    if (tools.length >= 24 || seen.has(name.toLowerCase())) return;
    seen.add(name.toLowerCase());
    tools.push({ type: 'function', function: { name, description, parameters } });
  };
  const opencode = restored(recorded('clients/opencode-request.json', 'tool-result-turn'), random, targetBytes);
  for (const tool of opencode.tools as unknown as ChatTool[]) add(tool.function.name, tool.function.description, tool.function.parameters);
  const codex = restored(recorded('clients/codex-request.json', 'tool-result-turn'), random, targetBytes);
  const codexFunctions = (codex.tools as JsonObject[]).flatMap((tool) => tool.type === 'namespace' ? tool.tools as JsonObject[] : [tool]);
  for (const tool of codexFunctions) if (tool.type === 'function') add(tool.name as string, tool.description as string, tool.parameters!);
  const claude = restored(recorded('clients/claude-code-request.json', 'tool-result-turn'), random, targetBytes);
  for (const tool of claude.tools as JsonObject[]) if (tool.defer_loading !== true) add(tool.name as string, tool.description as string, tool.input_schema!);
  if (tools.length !== 24) throw new Error(`expected 24 chat tools from the recordings, found ${tools.length}`);
  return tools;
}

function openaiChatBody(targetBytes: number, options: BodyOptions): JsonObject {
  const random = new Random(0x0a1c4a7);
  const base = restored(recorded('clients/opencode-request.json', 'tool-result-turn'), random, targetBytes);
  const recordedMessages = base.messages as JsonObject[];
  const messages: JsonObject[] = [recordedMessages[0]!, { role: 'user', content: 'Find why the gateway re-encodes the whole body on pass-through, fix it, and run the tests.' }];
  const { model: _model, stream: _stream, stream_options: _streamOptions, tools: _tools, ...rest } = base;
  const body: JsonObject = {
    model: options.model, ...rest, messages, tools: chatTools(random, targetBytes) as unknown as Json,
    ...(options.stream ? { stream: true, stream_options: { include_usage: true } } : { stream: false }),
  };
  let lastTool: JsonObject | undefined;
  grow(body, targetBytes, random, (step) => {
    const name = step.tool === 'grep' ? 'grep' : step.tool;
    const args = step.tool === 'read' ? { filePath: step.arguments.file_path! } : step.tool === 'edit'
      ? { filePath: step.arguments.file_path!, oldString: step.arguments.old_string!, newString: step.arguments.new_string! } : step.tool === 'grep'
        ? { pattern: step.arguments.pattern!, path: step.arguments.path! } : { command: step.arguments.command!, description: step.arguments.description! };
    const id = step.callId.replace('toolu_', 'call_');
    messages.push({ role: 'assistant', content: step.thought, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] });
    lastTool = { role: 'tool', tool_call_id: id, content: step.output };
    messages.push(lastTool);
    return messages.slice(-2);
  }, () => {
    messages.splice(-2, 2);
    lastTool = messages.at(-1);
  }, (text) => {
    lastTool!.content = text;
  });
  return body;
}

// ----- entry points ------------------------------------------------------------------------------

const builders: Record<BodyDialect, (targetBytes: number, options: BodyOptions) => JsonObject> = {
  'openai-chat': openaiChatBody, anthropic: anthropicBody, responses: responsesBody,
};

/** The body of `dialect` of about `targetBytes` bytes, as a JSON string. */
export function agentBody(dialect: BodyDialect, targetBytes: number, options: BodyOptions): string {
  return JSON.stringify(builders[dialect](targetBytes, options));
}

if (import.meta.main) {
  const out = process.argv[2] ?? 'bench/.work/agent-bodies';
  mkdirSync(out, { recursive: true });
  for (const dialect of bodyDialects) {
    for (const [size, bytes] of Object.entries(bodySizes)) {
      const body = agentBody(dialect, bytes, { model: 'agent-model', stream: true });
      const file = join(out, `${dialect}-${size.replace(' ', '')}.json`);
      writeFileSync(file, body);
      process.stdout.write(`${file}: ${Buffer.byteLength(body)} bytes (target ${bytes})\n`);
    }
  }
}
