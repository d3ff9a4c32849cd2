// JSON Schema → Gemini Schema: what the Generative Language API rejects is rewritten to the
// nearest thing it accepts (schemas as OpenAI, Anthropic and MCP tools write them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { geminiParameters, geminiResponseSchema } from '../../src/providers/gemini/schema.ts';

test('plain object schemas: upper-case types, $schema and additionalProperties dropped', () => {
  assert.deepEqual(geminiParameters({
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties: { city: { type: 'string', description: 'City name', minLength: 1 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
    required: ['city', 'ghost'],
    additionalProperties: false,
  }), {
    type: 'OBJECT',
    properties: { city: { type: 'STRING', minLength: 1, description: 'City name' }, days: { type: 'INTEGER', minimum: 1, maximum: 7 } },
    required: ['city'],
  });
});

test('no parameters: undefined (Gemini rejects an OBJECT without properties)', () => {
  assert.equal(geminiParameters({ type: 'object', properties: {} }), undefined);
  assert.equal(geminiParameters({ type: 'object' }), undefined);
  assert.equal(geminiParameters({}), undefined);
  assert.deepEqual(geminiParameters({ type: 'object', properties: { meta: { type: 'object', description: 'Free-form' } } }), {
    type: 'OBJECT', properties: { meta: { description: 'Free-form (a JSON object)' } },
  });
});

test('nullable: type lists and null variants', () => {
  assert.deepEqual(geminiParameters({ type: 'object', properties: { a: { type: ['string', 'null'] } } })!.properties, { a: { type: 'STRING', nullable: true } });
  assert.deepEqual(geminiParameters({ type: 'object', properties: { a: { anyOf: [{ type: 'integer' }, { type: 'null' }], description: 'Count' } } })!.properties, { a: { type: 'INTEGER', description: 'Count', nullable: true } });
  assert.deepEqual(geminiParameters({ type: 'object', properties: { a: { type: ['string', 'number'] } } })!.properties, { a: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] } });
  assert.deepEqual(geminiParameters({ type: 'object', properties: { a: { oneOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'null' }] } } })!.properties, { a: { anyOf: [{ type: 'STRING' }, { type: 'BOOLEAN' }], nullable: true } });
  assert.deepEqual(geminiParameters({ type: 'object', properties: { a: { enum: ['x', 'y', null] } } })!.properties, { a: { type: 'STRING', enum: ['x', 'y'], nullable: true } });
});

test('const, enums, formats and bounds Gemini lacks move into the description', () => {
  const properties = geminiParameters({
    type: 'object',
    properties: {
      kind: { const: 'circle' },
      size: { type: 'integer', enum: [1, 2, 3], format: 'int32' },
      url: { type: 'string', format: 'uri', description: 'Where' },
      when: { type: 'string', format: 'date-time' },
      ratio: { type: 'number', exclusiveMinimum: 0, multipleOf: 0.5 },
      tags: { type: 'array', items: { type: 'string' }, uniqueItems: true, minItems: 1 },
      example: { type: 'string', examples: ['a', 'b'], default: 'a', title: 'Example' },
    },
  })!.properties as Record<string, unknown>;
  assert.deepEqual(properties.kind, { type: 'STRING', enum: ['circle'] });
  assert.deepEqual(properties.size, { type: 'INTEGER', format: 'int32', description: 'one of 1, 2, 3' });
  assert.deepEqual(properties.url, { type: 'STRING', description: 'Where (format: uri)' });
  assert.deepEqual(properties.when, { type: 'STRING', format: 'date-time' });
  assert.deepEqual(properties.ratio, { type: 'NUMBER', description: 'greater than 0; a multiple of 0.5' });
  assert.deepEqual(properties.tags, { type: 'ARRAY', items: { type: 'STRING' }, minItems: 1 });
  assert.deepEqual(properties.example, { type: 'STRING', title: 'Example', default: 'a', example: 'a' });
});

test('$ref and $defs are inlined; recursion stops; allOf merges', () => {
  const schema = {
    type: 'object',
    properties: {
      owner: { $ref: '#/$defs/Person' },
      tree: { $ref: '#/definitions/Node' },
      both: { allOf: [{ $ref: '#/$defs/Person' }, { type: 'object', properties: { role: { type: 'string' } }, required: ['role'] }] },
    },
    $defs: { Person: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
    definitions: { Node: { type: 'object', description: 'A node', properties: { children: { type: 'array', items: { $ref: '#/definitions/Node' } } } } },
  };
  const properties = geminiParameters(schema)!.properties as Record<string, any>;
  assert.deepEqual(properties.owner, { type: 'OBJECT', properties: { name: { type: 'STRING' } }, required: ['name'] });
  assert.deepEqual(properties.tree, { type: 'OBJECT', properties: { children: { type: 'ARRAY', items: { description: 'A node (a Node, as defined above)' } } }, description: 'A node' });
  assert.deepEqual(properties.both, { type: 'OBJECT', properties: { name: { type: 'STRING' }, role: { type: 'STRING' } }, required: ['name', 'role'] });
  assert.equal(JSON.stringify(geminiParameters(schema)).includes('$'), false, 'no $ keyword reaches Gemini');
});

test('properties and items stay on their own types; tuples become anyOf items', () => {
  assert.deepEqual(geminiParameters({ type: 'object', properties: { s: { type: 'string', properties: { x: {} }, required: ['x'], items: {} } } })!.properties, { s: { type: 'STRING' } });
  assert.deepEqual(geminiParameters({ type: 'object', properties: { pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] } } })!.properties, {
    pair: { type: 'ARRAY', items: { anyOf: [{ type: 'STRING' }, { type: 'NUMBER' }] }, description: 'a tuple of 2 values in this order' },
  });
  assert.deepEqual(geminiParameters({ properties: { a: { items: { type: 'string' } } } }), { type: 'OBJECT', properties: { a: { type: 'ARRAY', items: { type: 'STRING' } } } }, 'types inferred');
});

test('response schemas keep the property order', () => {
  assert.deepEqual(geminiResponseSchema({ type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name'], additionalProperties: false }), {
    type: 'OBJECT', properties: { name: { type: 'STRING' }, age: { type: 'INTEGER' } }, required: ['name'], propertyOrdering: ['name', 'age'],
  });
  assert.equal(geminiResponseSchema({}), undefined);
  assert.deepEqual(geminiResponseSchema({ type: 'array', items: { type: 'string', enum: ['a', 'b'] } }), { type: 'ARRAY', items: { type: 'STRING', enum: ['a', 'b'] } });
});
