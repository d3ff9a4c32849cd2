// A strict reader of the Prometheus text format (0.0.4), for tests: it throws, naming the line,
// on anything a Prometheus server would refuse — bad names, bad label syntax or escapes, samples
// of an undeclared family, duplicate series, histograms whose buckets are not cumulative or whose
// +Inf bucket differs from _count.

export type Labels = Record<string, string>;

export interface PromSample {
  name: string;
  labels: Labels;
  value: number;
}

export interface PromFamily {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** As Go's strconv.ParseFloat reads it (the Prometheus server's parser): NaN and Inf in any case. */
function parseValue(text: string, where: string): number {
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: bad value '${text}'`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` from `line` at `start`; returns the labels and the index after `}`. */
function parseLabels(line: string, start: number, where: string): { labels: Labels; end: number } {
  const labels: Labels = {};
  let i = start + 1;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { labels, end: i + 1 };
    const equals = line.indexOf('=', i);
    if (equals < 0) throw new Error(`${where}: label without '='`);
    const name = line.slice(i, equals).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name '${name}'`);
    if (name in labels) throw new Error(`${where}: label '${name}' twice`);
    if (line[equals + 1] !== '"') throw new Error(`${where}: label value of '${name}' not quoted`);
    let value = '';
    let j = equals + 2;
    for (;; j++) {
      const char = line[j];
      if (char === undefined) throw new Error(`${where}: unterminated label value`);
      if (char === '"') break;
      if (char === '\\') {
        const next = line[++j];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`${where}: bad escape '\\${next}' in a label value`);
      } else {
        value += char;
      }
    }
    labels[name] = value;
    i = j + 1;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected ',' or '}' after label '${name}'`);
  }
}

function familyOf(sampleName: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const exact = families.get(sampleName);
  if (exact !== undefined) return exact;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family !== undefined && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  return undefined;
}

function checkHistograms(families: Map<string, PromFamily>): void {
  for (const family of families.values()) {
    if (family.type !== 'histogram') continue;
    const series = new Map<string, { buckets: [number, number][]; count?: number }>();
    for (const sample of family.samples) {
      const { le, ...rest } = sample.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      let entry = series.get(key);
      if (entry === undefined) series.set(key, (entry = { buckets: [] }));
      if (sample.name.endsWith('_bucket')) {
        if (le === undefined) throw new Error(`${family.name}: a bucket without 'le'`);
        entry.buckets.push([parseValue(le, family.name), sample.value]);
      } else if (sample.name.endsWith('_count')) {
        entry.count = sample.value;
      }
    }
    for (const [key, entry] of series) {
      entry.buckets.sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < entry.buckets.length; i++) {
        if (entry.buckets[i]![1] < entry.buckets[i - 1]![1]) throw new Error(`${family.name}${key}: buckets are not cumulative`);
      }
      const last = entry.buckets.at(-1);
      if (last === undefined || last[0] !== Infinity) throw new Error(`${family.name}${key}: no +Inf bucket`);
      if (entry.count !== last[1]) throw new Error(`${family.name}${key}: +Inf bucket ${last[1]} differs from _count ${entry.count}`);
    }
  }
}

/** Parses a whole exposition; throws on the first line a Prometheus server would refuse. */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const where = `line ${index + 1} (${line.slice(0, 80)})`;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s+(.*))?$/.exec(line);
      if (match === null) continue; // a plain comment
      const [, keyword, name, rest = ''] = match;
      if (!METRIC_NAME.test(name!)) throw new Error(`${where}: bad metric name`);
      let family = families.get(name!);
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type '${rest}'`);
        if (family !== undefined && family.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        if (family !== undefined && family.type !== 'untyped') throw new Error(`${where}: TYPE given twice`);
        if (family === undefined) families.set(name!, (family = { name: name!, type: 'untyped', help: '', samples: [] }));
        family.type = rest as PromFamily['type'];
      } else {
        if (family === undefined) families.set(name!, (family = { name: name!, type: 'untyped', help: '', samples: [] }));
        family.help = rest;
      }
      continue;
    }
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
    if (nameEnd <= 0) throw new Error(`${where}: no value`);
    const name = line.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name '${name}'`);
    let labels: Labels = {};
    let rest = line.slice(nameEnd);
    if (line[nameEnd] === '{') {
      const parsed = parseLabels(line, nameEnd, where);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || parts[0] === '') throw new Error(`${where}: expected a value and an optional timestamp`);
    const value = parseValue(parts[0]!, where);
    const family = familyOf(name, families);
    if (family === undefined) throw new Error(`${where}: sample of a family with no TYPE`);
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(series)) throw new Error(`${where}: duplicate series`);
    seen.add(series);
    family.samples.push({ name, labels, value });
  }
  checkHistograms(families);
  return families;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function sampleSum(families: Map<string, PromFamily>, name: string, labels: Labels = {}): number {
  let sum = 0;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) sum += sample.value;
    }
  }
  return sum;
}

/** The samples named `name` whose labels include `labels`. */
export function samples(families: Map<string, PromFamily>, name: string, labels: Labels = {}): PromSample[] {
  const found: PromSample[] = [];
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) found.push(sample);
    }
  }
  return found;
}
