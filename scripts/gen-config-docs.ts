// Generates docs/config.md from the config schema, the presets and switchyard.example.yaml, so the
// reference cannot drift from what the loader accepts. `--check` exits 1 when the file is stale
// (run by the tests); without it the file is rewritten.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { zeroConfigName } from '../src/config/zero-config.ts';
import { ConfigSchema } from '../src/config/schema.ts';
import { genericOpenAI, presets } from '../src/providers/presets/index.ts';

const root = new URL('../', import.meta.url);
export const docsPath = fileURLToPath(new URL('docs/config.md', root));
const examplePath = fileURLToPath(new URL('switchyard.example.yaml', root));

interface Row { key: string; type: string; fallback: string; description: string }

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(value: unknown): string {
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

function range(noun: string, schema: TSchema): string {
  const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
  if (minimum !== undefined && maximum !== undefined) return `${noun} ${minimum}–${maximum}`;
  if (minimum !== undefined) return `${noun} ≥ ${minimum}`;
  return noun;
}

function typeOf(schema: TSchema): string {
  if (schema.const !== undefined) return code(schema.const);
  if (schema.anyOf !== undefined) return (schema.anyOf as TSchema[]).map(typeOf).join(' | ');
  switch (schema.type) {
    case 'integer': return range('integer', schema);
    case 'number': return range('number', schema);
    case 'boolean': return 'boolean';
    case 'string':
      if (typeof schema.pattern === 'string' && schema.pattern.includes('[kmg]')) return 'size string';
      return typeof schema.pattern === 'string' ? `string \`${schema.pattern}\`` : 'string';
    case 'array': {
      const items = schema.items as TSchema;
      if (items.anyOf !== undefined) return `list of ${(items.anyOf as TSchema[]).map((option) => (option.type === 'object' ? 'mappings' : `${typeOf(option)}s`)).join(' or ')}`;
      return `list of ${items.type === 'object' ? 'mappings' : `${typeOf(items)}s`}`;
    }
    case 'object': {
      const values = Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>)[0];
      if (values === undefined) return 'mapping';
      return values.type === 'object' ? 'map of name → mapping' : 'map of string → string';
    }
    default: return 'any';
  }
}

function rowsOf(schema: TSchema, prefix: string): Row[] {
  const rows: Row[] = [];
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  for (const [name, property] of Object.entries(properties)) {
    const key = prefix === '' ? name : `${prefix}.${name}`;
    const fallback = required.has(name) ? 'required' : property.default === undefined ? '—' : code(property.default);
    const nested = property.type === 'object' && property.properties !== undefined;
    const items = property.type === 'array' ? property.items as TSchema : undefined;
    if (!nested) rows.push({ key, type: typeOf(property), fallback, description: property.description ?? '' });
    if (nested) rows.push(...rowsOf(property, key));
    if (items?.type === 'object') rows.push(...rowsOf(items, `${key}[]`));
    // a list of strings or mappings (`auth.keys`): the mapping's keys
    const mapping = (items?.anyOf as TSchema[] | undefined)?.find((option) => option.type === 'object');
    if (mapping !== undefined) rows.push(...rowsOf(mapping, `${key}[]`));
  }
  return rows;
}

function table(rows: Row[]): string {
  const lines = ['| Key | Type | Default | Description |', '|---|---|---|---|'];
  for (const row of rows) lines.push(`| \`${row.key}\` | ${cell(row.type)} | ${cell(row.fallback)} | ${cell(row.description)} |`);
  return lines.join('\n');
}

function sections(): string {
  const out: string[] = [];
  const properties = ConfigSchema.properties as Record<string, TSchema>;
  for (const [name, schema] of Object.entries(properties)) {
    // a map of mappings (prices) documents the mapping each name takes
    const mapped = Object.values((schema.patternProperties ?? {}) as Record<string, TSchema>)[0];
    const body = schema.type === 'array' ? schema.items as TSchema : mapped ?? schema;
    const kind = schema.type === 'array' ? ' (list)' : mapped !== undefined ? ' (map)' : '';
    out.push(`### \`${name}\`${kind}`, '', schema.description ?? '', '');
    out.push(table(rowsOf(body, mapped !== undefined ? '<model>' : '')), '');
  }
  return out.join('\n');
}

function presetTable(): string {
  const lines = [
    '| `type` | Vendor | Default base URL | Key variables (zero-config) | Zero-config name | Capabilities | Default models | Discovers |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const entries = [...Object.entries(presets), ['openai (custom base_url)', genericOpenAI] as const];
  for (const [name, preset] of entries) {
    // named as `capabilities:` writes them (image_edits)
    const capabilities = Object.entries(preset.capabilities).filter(([, on]) => on).map(([operation]) => operation.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)).join(', ');
    const zeroName = preset === genericOpenAI || preset.baseUrl === '' ? '—' : zeroConfigName(name) + (preset.local ? ' (probed)' : '');
    const models = preset.models.length === 0 ? '—' : preset.models.map((model) => `\`${model}\``).join(' ');
    const discovers = preset.models.length === 0 || preset.discover ? 'yes' : 'no';
    lines.push(`| \`${name}\` | ${cell(preset.title)} | ${preset.baseUrl === '' ? '(required)' : `\`${preset.baseUrl}\``} | ${preset.keyEnv.map((variable) => `\`${variable}\``).join(' ') || '—'} | ${zeroName} | ${capabilities} | ${models} | ${discovers} |`);
  }
  return lines.join('\n');
}

export function renderConfigDocs(): string {
  const example = readFileSync(examplePath, 'utf8').trimEnd();
  return `<!-- Generated by scripts/gen-config-docs.ts from src/config/schema.ts, src/providers/presets/index.ts
     and switchyard.example.yaml. Do not edit by hand: run \`npm run docs\`. -->

# Configuration reference

Switchyard reads one YAML file. Which one:

1. \`--config FILE\` (or \`-c FILE\`);
2. else \`$SWITCHYARD_CONFIG\`;
3. else \`./switchyard.yaml\` if it exists;
4. else none: **zero-config** (below).

\`switchyard check-config FILE\` validates a file and prints every problem at once, each with its line:

\`\`\`
switchyard.yaml:2:9  server.port: must be an integer between 1 and 65535
switchyard.yaml:12:11  providers[0].type: unknown type 'opnai'; expected 'openai' or one of the presets: … (did you mean 'openai'?)
switchyard.yaml:31:9  models[0].targets[0].provider: no provider named 'lcoal' (did you mean 'local'?)
\`\`\`

Unknown keys are errors, except top-level keys starting with \`x-\`, which are ignored: use them to
hold YAML anchors (\`x-timeouts: &slow { idle_ms: 600000 }\`, then \`timeouts: *slow\` or
\`<<: *slow\`).

## Reloading

While running, the file is watched (and \`SIGHUP\` reloads it): a valid new version replaces the
old one without dropping in-flight requests; an invalid one is refused and logged, and the
previous config stays. The watcher acts on a save only once the file has stopped changing (the
same size, time and content twice, 150 ms apart); an empty file is taken for a save in progress
and never loaded by itself.

A reload that would remove **every client key** (turning authentication off) or **every
provider** is refused with a warning naming what it would remove, and the previous config keeps
serving: that is what an editor truncating the file, a file cut short or an unset
\`\${SWITCHYARD_KEY}\` looks like. To do it on purpose, write the empty list out: \`auth.keys: []\`
(on an address that is not loopback, also \`auth.allow_unauthenticated: true\`) or
\`providers: []\`. Every applied reload logs what changed — providers and aliases added, removed
or changed (with the settings that changed), client keys as counts, authentication on or off, the
other sections by name — never a value:

\`\`\`
config reloaded: providers +groq ~local (models); aliases +fast; client keys 2 → 3
config reload refused: it would turn client authentication off (removes all 2 client keys; an unset \${VAR} or a half-saved file does that) — to turn it off on purpose, write auth.keys: []; keeping the previous config
\`\`\`

\`server.host\`, \`server.port\`, \`server.workers\`,
\`server.keep_alive_timeout_ms\`, \`logging\`, \`storage\` and \`tracing\` take effect after a
restart (the reload log says so when they change).

## Environment variables in values

Any string value may contain \`\${VAR}\` or \`\${VAR:-default}\` (the default applies when \`VAR\` is
unset or empty); \`$\${\` is a literal \`\${\`. Substitution happens after YAML parsing, so a value
can never change the file's structure. Where a number or boolean is expected, the substituted
text is converted (\`port: \${PORT:-18080}\`). A \`\${VAR}\` with no default whose variable is unset
expands to the empty string and produces a warning. Empty keys are dropped from \`auth.keys\`,
\`api_key\` and \`api_keys\`, so \`keys: ["\${SWITCHYARD_KEY}"]\` with the variable unset means no
client authentication at start-up (a reload that would lose the keys so is refused, see above).
A problem found in a substituted value names its variable
(\`providers[0].base_url: \${OPENAI_BASE} is not set: must be a non-empty string\`). Inside
\`[ ]\` or \`{ }\`, quote values that contain \`\${…}\`.

## Keys

${sections()}
## Provider types and presets

\`type: openai\` is the OpenAI wire format. Without \`base_url\`, or with a \`base_url\` on
api.openai.com, it is the OpenAI service (its URL and model patterns apply). With any other
\`base_url\` it is a plain OpenAI-compatible server and nothing is assumed about it (all
operations allowed, no default models, so it discovers its models unless you list them).

Every other \`type\` is a preset: the base URL, auth header, default models and capabilities come
from it; \`base_url\`, \`models\` and \`headers\` in the provider override or extend them. A request
for an operation outside a provider's capabilities is not routed to it.

${presetTable()}

The agent CLIs you are logged into — \`claude-code\`, \`codex\`, \`gemini-cli\`, \`opencode\` — are
types too: the official binary, driven for your own use, with its own keys (\`command\`, \`args\`,
\`env\`, \`mode\`, \`concurrency\`, \`queue_size\`, \`queue_timeout_ms\`) and none of an HTTP
provider's. See [agent-clis.md](agent-clis.md).

## Zero-config

With no file, Switchyard listens on \`127.0.0.1:18080\` with one worker and builds a provider for each
preset whose key variable is set (named as in the table: \`openai\`, \`anthropic\`, \`gemini\`, …), plus
each local server (Ollama, LM Studio, llama.cpp) that answers \`GET /models\` on its default loopback
port within about 300 ms. Nothing but loopback is ever probed. Azure needs a \`base_url\`, so it
requires a file. An agent CLI (Claude Code, Codex, Gemini CLI, opencode) found on \`PATH\` is
registered when its login is present on disk (only its existence is checked), for personal use,
in \`mode: llm\` ([agent-clis.md](agent-clis.md#zero-config)); \`SWITCHYARD_AGENT_CLIS=off\` leaves
them out.

## Example

\`\`\`yaml
${example}
\`\`\`
`;
}

if (import.meta.main) {
  const generated = renderConfigDocs();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(docsPath, 'utf8');
    } catch {
      // a missing file is stale
    }
    if (current !== generated) {
      process.stderr.write('docs/config.md is out of date: run `npm run docs` (node scripts/gen-config-docs.ts)\n');
      process.exit(1);
    }
    process.stdout.write('docs/config.md is up to date\n');
  } else {
    writeFileSync(docsPath, generated);
    process.stdout.write(`wrote ${docsPath}\n`);
  }
}
