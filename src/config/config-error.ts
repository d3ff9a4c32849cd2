// The config error type and its formatting, free of the YAML and schema libraries so the serving
// process can report problems without loading them (config is parsed in a worker thread).

export interface ConfigProblem {
  /** Where in the file, e.g. `providers[0].base_url`; '' for the file as a whole. */
  path: string;
  line?: number;
  column?: number;
  message: string;
}

export function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  return problems.map((problem) => {
    const where = problem.line === undefined ? source : `${source}:${problem.line}:${problem.column ?? 1}`;
    return `${where}  ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`;
  }).join('\n');
}

export class ConfigError extends Error {
  /** The file (or label) the problems are in. */
  readonly source: string;
  readonly problems: ConfigProblem[];

  constructor(source: string, problems: ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${source}: ${count} in the config\n${formatProblems(source, problems)}`);
    this.name = 'ConfigError';
    this.source = source;
    this.problems = problems;
  }
}
