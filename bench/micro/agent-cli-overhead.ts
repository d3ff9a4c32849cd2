// What the gateway adds to an agent CLI's time to first token (issue #14 asks ≤ 5 ms): the same
// instant driver (its parts come one event-loop turn apart, as a CLI's lines do) run directly —
// `driver.run` to the first text delta — and through the gateway — a streamed OpenAI chat request
// over a kept-alive connection to the first byte of content — alternating in rounds so drift and
// neighbours hit both alike. The difference is the gateway's share: HTTP, routing, decoding, the
// turn queue, conversation ids, encoding.
// `npx node bench/micro/agent-cli-overhead.ts [--rounds 5] [--requests 400]`
import { parseArgs } from 'node:util';
import { request as httpRequest, Agent } from 'node:http';
import { pino } from 'pino';
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { AgentCliDriver, AgentCliDriverFactory, AgentTurn } from '../../src/agent-clis/driver.ts';
import { startGateway } from '../../src/main.ts';
import { agentCliProvider, testConfig } from '../../test/helpers/gateway.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '400' } } });
const rounds = Number(values.rounds);
const requests = Number(values.requests);

const PARTS: StreamPart[] = [
  { type: 'response-start', id: 'msg', model: 'fake', created: 1 },
  { type: 'text-start', index: 0 },
  { type: 'text-delta', index: 0, delta: 'Hello' },
  { type: 'text-delta', index: 0, delta: ' there.' },
  { type: 'text-end', index: 0 },
  { type: 'response-end', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 2 } },
];

/** Plays PARTS, one per setImmediate, like a CLI's stdout lines. */
class InstantDriver implements AgentCliDriver {
  readonly protocol = 'stream-json' as const;
  run(turn: AgentTurn, sink: PartSink): void {
    let index = 0;
    const next = (): void => {
      if (turn.signal.aborted || index >= PARTS.length) return;
      sink.onPart(PARTS[index++]!);
      setImmediate(next);
    };
    setImmediate(next);
  }
  listModels(): Promise<readonly string[]> {
    return Promise.resolve(['fake']);
  }
  describe() {
    return { protocol: this.protocol, workers: 1, running: 0 };
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const factory: AgentCliDriverFactory = () => new InstantDriver();

function direct(): Promise<number> {
  const driver = new InstantDriver();
  const started = performance.now();
  return new Promise((resolve) => {
    driver.run({ request: { model: 'fake', messages: [], sampling: {}, stream: true }, model: 'fake', conversation: undefined, signal: new AbortController().signal }, {
      onPart(part) {
        if (part.type === 'text-delta' && part.delta === 'Hello') resolve(performance.now() - started);
      },
    });
  });
}

const body = JSON.stringify({ model: 'fake', stream: true, messages: [{ role: 'user', content: 'hi' }] });
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function throughGateway(port: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: '127.0.0.1', port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let first = 0;
      response.on('data', (chunk: Buffer) => {
        if (first === 0 && chunk.includes('Hello')) first = performance.now() - started;
      });
      response.on('end', () => resolve(first));
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

process.env.SWITCHYARD_STATE_DIR ??= `${process.env.TMPDIR ?? '/tmp'}/swy-bench-agent-cli`;
const gateway = await startGateway({
  config: testConfig({ providers: [agentCliProvider('cli', { type: 'claude-code', concurrency: 8 }, { models: ['fake'] })] }),
  logger: pino({ level: 'silent' }), discover: false, agentCliDrivers: new Map([['claude-code', factory]]),
});
for (let i = 0; i < 200; i++) await throughGateway(gateway.port); // warm-up
await direct();
const directTimes: number[] = [];
const gatewayTimes: number[] = [];
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < requests; i++) directTimes.push(await direct());
  for (let i = 0; i < requests; i++) gatewayTimes.push(await throughGateway(gateway.port));
}
await gateway.close();
agent.destroy();
directTimes.sort((a, b) => a - b);
gatewayTimes.sort((a, b) => a - b);
const row = (label: string, times: number[]) => `${label.padEnd(18)} p50 ${percentile(times, 0.5).toFixed(3)} ms   p90 ${percentile(times, 0.9).toFixed(3)} ms   p99 ${percentile(times, 0.99).toFixed(3)} ms`;
console.log(`time to the first text delta, ${rounds} × ${requests} each`);
console.log(row('driver directly', directTimes));
console.log(row('through gateway', gatewayTimes));
console.log(`added by the gateway: p50 ${(percentile(gatewayTimes, 0.5) - percentile(directTimes, 0.5)).toFixed(3)} ms, p99 ${(percentile(gatewayTimes, 0.99) - percentile(directTimes, 0.99)).toFixed(3)} ms`);
