// JSON with object members in sorted order, so two values that are equal as JSON give the same
// text whatever order their members were written in (a request's tool schemas, pass-through
// fields). Members whose value is undefined are left out, as JSON.stringify leaves them out.

export function canonicalJson(value: unknown): string {
  const parts: string[] = [];
  write(value, parts);
  return parts.join('');
}

function write(value: unknown, parts: string[]): void {
  if (value === null || typeof value !== 'object') {
    // strings, numbers, booleans, null; a bare undefined (never a member) reads as null, as in arrays
    parts.push(value === undefined ? 'null' : JSON.stringify(value));
    return;
  }
  if (Array.isArray(value)) {
    parts.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) parts.push(',');
      const item: unknown = value[i];
      write(typeof item === 'function' ? null : item, parts);
    }
    parts.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  parts.push('{');
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined || typeof member === 'function') continue;
    if (!first) parts.push(',');
    first = false;
    parts.push(JSON.stringify(key), ':');
    write(member, parts);
  }
  parts.push('}');
}
