// What Codex carries of a request's parameters (src/agent-clis/parameters.ts), against the real
// `codex` binary and a loopback mock of the Responses API: a reasoning effort and a JSON schema
// given to the driver reach the vendor's request (`reasoning.effort`, `text.format`), through
// `codex app-server` (turn/start `effort`, `outputSchema`) and through the one-shot fallback
// (`codex exec -c model_reasoning_effort=… --output-schema <file>`). Nothing leaves loopback.
//
// Without Codex installed these tests skip; with SWITCHYARD_TEST_AGENT_CLIS set they fail instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PartSink } from '../../src/canonical/adapters.ts';
import type { CanonicalRequest } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import { createCodexDriver, type CodexDriver } from '../../src/agent-clis/codex/index.ts';
import { startMockUpstream, type MockUpstream } from '../helpers/mock-upstream.ts';
import { agentCliPath, agentCliUnavailable, agentCliVersion, codexDriverSettings, makeAgentWorkspace, startEgressSink, type EgressSink } from '../helpers/agent-cli.ts';

type Json = Record<string, any>;

const MODEL = 'switchyard-mock-model';
const SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

class Collected implements PartSink {
  readonly parts: StreamPart[] = [];
  readonly done: Promise<void>;
  private resolve!: () => void;
  constructor() {
    this.done = new Promise((resolve) => { this.resolve = resolve; });
  }
  onPart(part: StreamPart): void {
    this.parts.push(part);
    if (part.type === 'response-end' || part.type === 'error') this.resolve();
  }
  get error(): unknown {
    const last = this.parts.at(-1);
    return last?.type === 'error' ? last.error : undefined;
  }
}

async function turn(driver: CodexDriver, request: Partial<CanonicalRequest>): Promise<Collected> {
  const collected = new Collected();
  driver.run({
    request: { model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'Where is the Louvre?' }] }], sampling: {}, stream: true, ...request },
    model: MODEL,
    conversation: undefined,
    signal: new AbortController().signal,
  }, collected, () => {});
  await collected.done;
  return collected;
}

describe(`Codex ${agentCliVersion('codex') ?? '(not installed)'}: request parameters reach the vendor`, { skip: agentCliUnavailable('codex') }, () => {
  let sink: EgressSink;
  let mock: MockUpstream;
  const drivers: CodexDriver[] = [];

  before(async () => {
    sink = await startEgressSink();
    mock = await startMockUpstream({ streamDeltas: ['{"city":', '"Paris"}'] });
  });

  after(async () => {
    for (const driver of drivers) await driver.close();
    await mock?.close();
    await sink?.close();
  });

  function driverWith(command?: (root: string) => string) {
    const workspace = makeAgentWorkspace();
    const settings = codexDriverSettings({ workspace, sink, baseUrl: mock.url, apiKey: 'sk-codex-params-test-key' });
    const driver = createCodexDriver(command === undefined ? settings : { ...settings, command: command(workspace.root) }) as CodexDriver;
    drivers.push(driver);
    return { driver, workspace };
  }

  const effortAndSchema: Partial<CanonicalRequest> = {
    reasoning: { effort: 'high' },
    responseFormat: { type: 'json-schema', name: 'place', schema: SCHEMA, strict: true },
  };

  function assertCarried(request: Json | undefined): void {
    assert.ok(request !== undefined, 'the upstream was called');
    assert.equal(request.body.reasoning?.effort, 'high', `reasoning: ${JSON.stringify(request.body.reasoning)}`);
    const format = request.body.text?.format;
    assert.equal(format?.type, 'json_schema', `text: ${JSON.stringify(request.body.text)}`);
    assert.deepEqual(format.schema, SCHEMA);
  }

  test('app-server: turn/start carries the effort and the JSON schema to the Responses request', async () => {
    const { driver } = driverWith();
    mock.setScript(() => ({ kind: 'default' }));
    const before = mock.requests.length;
    const collected = await turn(driver, effortAndSchema);
    assert.equal(collected.error, undefined, JSON.stringify(collected.parts).slice(0, 2000));
    assert.equal(driver.describe().protocol, 'app-server');
    assertCarried(mock.requests[before]);
    // without them, Codex's own defaults: no schema
    const plain = await turn(driver, {});
    assert.equal(plain.error, undefined);
    assert.notEqual(mock.requests.at(-1)!.body.text?.format?.type, 'json_schema');
  });

  test('exec fallback: -c model_reasoning_effort and --output-schema carry the same, and the schema file goes with the turn', async () => {
    const { driver, workspace } = driverWith((root) => {
      // a Codex whose app-server subcommand is missing (as in old versions)
      const wrapperPath = join(root, 'old-codex');
      writeFileSync(wrapperPath, `#!/bin/sh\nif [ "$1" = "app-server" ]; then echo "error: unrecognized subcommand 'app-server'" >&2; exit 2; fi\nexec ${JSON.stringify(agentCliPath('codex'))} "$@"\n`);
      chmodSync(wrapperPath, 0o755);
      return wrapperPath;
    });
    mock.setScript(() => ({ kind: 'default' }));
    await turn(driver, {}); // the first turn finds app-server missing and falls back
    assert.equal(driver.describe().protocol, 'one-shot');
    const before = mock.requests.length;
    const collected = await turn(driver, effortAndSchema);
    assert.equal(collected.error, undefined, JSON.stringify(collected.parts).slice(0, 2000));
    assertCarried(mock.requests[before]);
    const schemas = join(workspace.root, 'state', 'codex', 'schemas');
    assert.deepEqual(existsSync(schemas) ? readdirSync(schemas) : [], [], 'no schema file left behind');
  });

  test('nothing tried to leave loopback', () => {
    assert.deepEqual(sink.attempts, []);
  });
});
