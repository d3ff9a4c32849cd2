import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigSchema } from '../../src/config/schema.ts';
import type { TSchema } from '@sinclair/typebox';

const script = fileURLToPath(new URL('../../scripts/gen-config-docs.ts', import.meta.url));

test('docs/config.md is up to date (gen-config-docs --check)', () => {
  const result = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${result.stderr}\nRun: npm run docs`);
});

test('every schema property has a description, so the generated docs are complete', () => {
  const missing: string[] = [];
  const walk = (schema: TSchema, path: string) => {
    for (const [name, property] of Object.entries((schema.properties ?? {}) as Record<string, TSchema>)) {
      const key = path === '' ? name : `${path}.${name}`;
      if (typeof property.description !== 'string' || property.description === '') missing.push(key);
      walk(property, key);
      if (property.type === 'array') walk(property.items as TSchema, `${key}[]`);
      for (const value of Object.values((property.patternProperties ?? {}) as Record<string, TSchema>)) walk(value, `${key}.<name>`);
    }
  };
  walk(ConfigSchema, '');
  assert.deepEqual(missing, []);
});
