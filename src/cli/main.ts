// Entry point of the `switchyard` command.
// The gateway itself (serve.ts and all it imports) is loaded only by the commands that run it, and
// `serve` loads it while the config child (load-for-serve.ts) works: with two cores they overlap.
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { ConfigError, formatProblems } from '../config/config-error.ts';
import { parseCli, usage, UsageError } from './args.ts';
import { loadForServe } from './load-for-serve.ts';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function main(argv: readonly string[]): Promise<number | undefined> {
  if (cluster.isWorker) {
    // The primary sends the config as soon as the worker is online, and a message that arrives
    // while nobody listens is dropped: hold any until serveWorker listens, then hand them over.
    const early: unknown[] = [];
    const hold = (message: unknown) => early.push(message);
    process.on('message', hold);
    const { serveWorker } = await import('./serve.ts');
    process.off('message', hold);
    serveWorker();
    for (const message of early) process.emit('message', message, undefined);
    return undefined;
  }
  if (argv[0] === 'route') {
    const { runRoute } = await import('./route-eval.ts');
    return runRoute(argv.slice(1));
  }
  if (argv[0] === 'keys') {
    const { keysUsage, parseKeysCli, runKeys } = await import('./keys.ts');
    let keysArgs;
    try {
      keysArgs = parseKeysCli(argv.slice(1));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      process.stderr.write(`switchyard: ${error.message}\n\n${keysUsage}\n`);
      return 2;
    }
    return runKeys(keysArgs);
  }
  let args;
  try {
    args = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`switchyard: ${error.message}\n\n${usage}\n`);
    return 2;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(usage + '\n');
      return 0;
    case 'version':
      process.stdout.write(version + '\n');
      return 0;
    case 'check-config':
      return checkConfig(args.file);
    case 'usage': {
      const { runUsage } = await import('./usage.ts');
      return runUsage(args);
    }
    case 'serve': {
      // The child is spawned first (loadForServe spawns it before its first await), then the
      // gateway's modules load — in this thread, while the child parses and validates the config.
      let serving: Promise<typeof import('./serve.ts')> | undefined;
      const gateway = () => serving ??= import('./serve.ts');
      const loading = loadForServe(args, async () => [...(await gateway()).agentCliTypes()]);
      // a failed config returns before awaiting the import: a failed import is then not reported
      gateway().catch(() => {});
      let loaded;
      try {
        loaded = await loading;
      } catch (error) {
        if (error instanceof ConfigError) {
          process.stderr.write(`switchyard: the config has problems:\n${formatProblems(error.source, error.problems)}\n`);
          return 1;
        }
        process.stderr.write(`switchyard: ${(error as Error).message}\n`);
        return 1;
      }
      const { checkAgentCliDrivers, checkExposure, servePrimary, serveSingle, workerCount } = await gateway();
      const exposure = checkExposure(loaded.config) ?? checkAgentCliDrivers(loaded.config);
      if (exposure !== undefined) {
        process.stderr.write(`switchyard: ${exposure}\n`);
        return 1;
      }
      try {
        if (workerCount(loaded.config) > 1) await servePrimary(args, loaded, version);
        else await serveSingle(args, loaded, version);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const where = `${loaded.config.server.host}:${loaded.config.server.port}`;
        if (code === 'EADDRINUSE') process.stderr.write(`switchyard: ${where} is already in use; pick another with --port.\n`);
        else if (code === 'EACCES') process.stderr.write(`switchyard: not allowed to listen on ${where}.\n`);
        else process.stderr.write(`switchyard: ${(error as Error).stack ?? String(error)}\n`);
        return 1;
      }
      return undefined;
    }
  }
}

async function checkConfig(file: string): Promise<number> {
  try {
    const { loadConfigFile } = await import('../config/load.ts');
    const { checkAgentCliDrivers } = await import('./serve.ts');
    const { config, warnings } = loadConfigFile(file);
    for (const warning of warnings) process.stdout.write(`warning: ${warning}\n`);
    // plugins are loaded once to check them: a syntax error or a bad config names its file and line
    const { checkPlugins } = await import('../plugins/check.ts');
    const pluginProblems = await checkPlugins(config);
    if (pluginProblems.length > 0) {
      const { problemsAt } = await import('../config/load.ts');
      throw new ConfigError(file, problemsAt(readFileSync(file, 'utf8'), pluginProblems));
    }
    const undriven = checkAgentCliDrivers(config);
    if (undriven !== undefined) {
      process.stderr.write(`${file}: ${undriven}\n`);
      return 1;
    }
    process.stdout.write(`${file}: OK (${config.providers.length} provider${config.providers.length === 1 ? '' : 's'}, ${config.models.length} alias${config.models.length === 1 ? '' : 'es'})\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(formatProblems(file, error.problems) + '\n');
      process.stderr.write(`${file}: ${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}\n`);
      return 1;
    }
    process.stderr.write(`switchyard: ${(error as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code !== undefined) process.exitCode = code;
}, (error: unknown) => {
  process.stderr.write(`switchyard: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
