// A real gateway started from YAML text (parsed as a config file is), its JSON log lines kept.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { parseConfigText } from '../../src/config/load.ts';
import { startGateway, type RunningGateway } from '../../src/main.ts';

export type YamlGateway = RunningGateway & { logLines: Record<string, unknown>[] };

export async function startYamlGateway(yaml: string, source: string, now?: () => number): Promise<YamlGateway> {
  const { config } = parseConfigText(yaml, source, {});
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const running = await startGateway({ config, logger: pino({ level: 'info' }, sink), discover: false, host: '127.0.0.1', port: 0, ...(now !== undefined ? { now } : {}) });
  return Object.assign(running, { logLines: lines });
}
