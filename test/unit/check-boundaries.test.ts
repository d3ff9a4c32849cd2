// The boundary check (scripts/check-boundaries.ts) against a small tree written for the purpose:
// what it must flag, and what it must let through.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { checkBoundaries } from '../../scripts/check-boundaries.ts';

const root = mkdtempSync(join(tmpdir(), 'swy-boundaries-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): void {
  const file = join(root, 'src', path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function check(): string[] {
  return checkBoundaries(root);
}

function only(files: Record<string, string>): string[] {
  rmSync(join(root, 'src'), { recursive: true, force: true });
  for (const [path, text] of Object.entries(files)) write(path, text);
  return check();
}

const TARGETS = {
  'config/types.ts': 'export interface GatewayConfig { port: number }\nexport const DEFAULT_PORT = 18080;\n',
  'canonical/errors.ts': 'export class GatewayError extends Error {}\n',
  'util/json-value.ts': 'export type JsonObject = Record<string, unknown>;\n',
  'pipeline/context.ts': 'export interface RequestContext { id: string }\nexport const NONE = 0;\n',
  'providers/openai/index.ts': 'export const openai = 1;\n',
  'providers/common/protocol-error.ts': 'export const shared = 1;\n',
  'state/health.ts': 'export class HealthBook {}\n',
};

test('the allowed imports pass: values within the table, types where only types may cross, shared provider folders', () => {
  assert.deepEqual(only({
    ...TARGETS,
    'upstream/pool.ts': "import type { GatewayConfig } from '../config/types.ts';\nimport { GatewayError } from '../canonical/errors.ts';\nexport type T = GatewayConfig | GatewayError;\n",
    'observability/log.ts': "import type { RequestContext } from '../pipeline/context.ts';\nexport type T = RequestContext;\n",
    'providers/anthropic/index.ts': "import { shared } from '../common/protocol-error.ts';\nimport type { GatewayConfig } from '../../config/types.ts';\nexport const x: GatewayConfig | number = shared;\n",
    'routing/router.ts': "import type { IncomingHttpHeaders } from 'node:http';\nimport { HealthBook } from '../state/health.ts';\nexport type H = IncomingHttpHeaders | HealthBook;\n",
    'surfaces/openai/chat/decode.ts': "import { json } from '../inspect.ts';\nexport const y = json;\n",
    'surfaces/openai/inspect.ts': 'export const json = 1;\n',
    'main.ts': "import { openai } from './providers/openai/index.ts';\nexport const z = openai;\n",
  }), []);
});

test('a value import where only types may cross is flagged, with the hint; so is `import { type X }`, which still loads the module', () => {
  const violations = only({
    ...TARGETS,
    'upstream/pool.ts': "import { DEFAULT_PORT } from '../config/types.ts';\nimport { type GatewayConfig } from '../config/types.ts';\nexport type T = GatewayConfig | typeof DEFAULT_PORT;\n",
    'observability/log.ts': "import { NONE } from '../pipeline/context.ts';\nexport const n = NONE;\n",
  });
  assert.equal(violations.length, 3, violations.join('\n'));
  assert.match(violations[0]!, /^src\/observability\/log\.ts:1: \(observability\) imports \.\.\/pipeline\/context\.ts \(pipeline\); only `import type` may cross here$/);
  assert.match(violations[1]!, /^src\/upstream\/pool\.ts:1: .*only `import type` may cross here$/);
  assert.match(violations[2]!, /^src\/upstream\/pool\.ts:2: /);
});

test('imports outside the table are flagged, type-only or not: a surface using a provider, another surface, a module it may not see', () => {
  const violations = only({
    ...TARGETS,
    'surfaces/openai/index.ts': "import { openai } from '../../providers/openai/index.ts';\nimport type { Other } from '../anthropic/index.ts';\nexport const a: Other | number = openai;\n",
    'surfaces/anthropic/index.ts': 'export type Other = string;\n',
    'server/listener.ts': "import type { HealthBook } from '../state/health.ts';\nexport type B = HealthBook;\n",
    'pipeline/gateway.ts': "export async function load(): Promise<unknown> { return import('../providers/openai/index.ts'); }\n",
  });
  assert.equal(violations.length, 4, violations.join('\n'));
  assert.match(violations[0]!, /^src\/pipeline\/gateway\.ts:1: \(pipeline\) imports \.\.\/providers\/openai\/index\.ts \(providers\/openai\)$/);
  assert.match(violations[1]!, /^src\/server\/listener\.ts:1: \(server\) imports types from \.\.\/state\/health\.ts \(state\)$/);
  assert.match(violations[2]!, /^src\/surfaces\/openai\/index\.ts:1: \(surfaces\/openai\) imports \.\.\/\.\.\/providers\/openai\/index\.ts \(providers\/openai\)$/);
  assert.match(violations[3]!, /^src\/surfaces\/openai\/index\.ts:2: \(surfaces\/openai\) imports types from \.\.\/anthropic\/index\.ts: another surface's folder$/);
});

test('canonical imports nothing (not even node: types); routing imports no node: module at run time', () => {
  const violations = only({
    'canonical/adapters.ts': "import type { IncomingHttpHeaders } from 'node:http';\nexport type H = IncomingHttpHeaders;\n",
    'routing/planner.ts': "import { randomInt } from 'node:crypto';\nexport const pick = randomInt;\n",
  });
  assert.equal(violations.length, 2, violations.join('\n'));
  assert.match(violations[0]!, /^src\/canonical\/adapters\.ts:1: \(canonical\) imports types from 'node:http'/);
  assert.match(violations[1]!, /^src\/routing\/planner\.ts:1: \(routing\) imports 'node:crypto'/);
});

test('every `any` type is flagged; the word in a comment, a string or a name is not', () => {
  const violations = only({
    'util/sample.ts': [
      '// any value: a comment',
      "export const words = 'any, as any, : any';",
      'export const anyone = 1;',
      'export function f(value: any): unknown { return value; }',
      'export const g = (value: unknown) => value as any;',
      'export type R = Record<string, any>;',
      'export const list: any[] = [];',
      'export const boxed = new Map<string, any>();',
      '',
    ].join('\n'),
  });
  assert.deepEqual(violations.map((violation) => violation.split(':').slice(0, 2).join(':')), [
    'src/util/sample.ts:4', 'src/util/sample.ts:5', 'src/util/sample.ts:6', 'src/util/sample.ts:7', 'src/util/sample.ts:8',
  ]);
});

test('a folder with no row in the table is named, so a new module cannot slip past the rules', () => {
  const violations = only({ 'extensions/host.ts': 'export const host = 1;\n' });
  assert.equal(violations.length, 1);
  assert.match(violations[0]!, /src\/extensions\/ has no row in the boundary table/);
});
