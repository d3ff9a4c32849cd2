// A plugin's `configSchema`: a Standard Schema (zod, valibot, arktype — `~standard.validate`) or a
// TypeBox schema (the gateway's own library). Returns the config to use (with the schema's
// defaults and transforms applied), or throws one message listing every problem with its field.
import { Kind, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

interface StandardIssue {
  message: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
}

interface StandardSchema {
  '~standard': {
    validate(value: unknown): { value?: unknown; issues?: readonly StandardIssue[] } | Promise<{ value?: unknown; issues?: readonly StandardIssue[] }>;
  };
}

export async function checkPluginConfig(schema: object | undefined, config: unknown): Promise<unknown> {
  if (schema === undefined) return config;
  if ('~standard' in schema) {
    const result = await (schema as StandardSchema)['~standard'].validate(config);
    if (result.issues !== undefined && result.issues.length > 0) throw new Error(result.issues.map((issue) => `${fieldOf(issue.path)}${issue.message}`).join('; '));
    return result.value;
  }
  if (Kind in schema) {
    const typed = schema as TSchema;
    const value = Value.Default(typed, Value.Clone(config));
    const errors = [...Value.Errors(typed, value)];
    if (errors.length > 0) throw new Error(errors.slice(0, 10).map((error) => `${error.path === '' ? '' : `${error.path.slice(1).replaceAll('/', '.')}: `}${messageOf(error.schema, error.message)}`).join('; '));
    return value;
  }
  throw new Error('configSchema must be a Standard Schema (zod, valibot, arktype) or a TypeBox schema');
}

/** A union of literals reads as its choices ("must be one of: redact, block, log"), not "Expected union value". */
function messageOf(schema: TSchema, message: string): string {
  const choices = (schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (choices === undefined || !choices.every((choice) => choice.const !== undefined)) return message;
  return `must be one of: ${choices.map((choice) => String(choice.const)).join(', ')}`;
}

function fieldOf(path: StandardIssue['path']): string {
  if (path === undefined || path.length === 0) return '';
  return `${path.map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.')}: `;
}
