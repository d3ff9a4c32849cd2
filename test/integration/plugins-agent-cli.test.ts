// Plugins over an agent CLI provider (a scripted stand-in for the driver): the CLI's turn gets the
// request as onRequest left it, and its answer goes through onResponse and onStreamEvent like any
// provider's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAgentCli } from '../helpers/fake-agent-cli.ts';
import { agentCliProvider } from '../helpers/gateway.ts';
import { chat, openaiStreamText, startGatewayFor, assertOpenAIError } from '../helpers/resilience.ts';

const stateDirectory = mkdtempSync(join(tmpdir(), 'swy-plugins-cli-'));
process.env.SWITCHYARD_STATE_DIR = stateDirectory;
process.on('exit', () => rmSync(stateDirectory, { recursive: true, force: true }));

test('an agent CLI provider: onRequest changes the turn, onResponse and onStreamEvent change its answer, a refusal is answered in the dialect', { timeout: 30_000 }, async (t) => {
  const plugin = join(stateDirectory, 'cli-plugin.ts');
  writeFileSync(plugin, `export default { name: 'cli', hooks: {
  onRequest(ctx, request) { request.messages[0].content[0].text = 'rewritten'; },
  onResponse(ctx, response) { for (const part of response.content) if (part.type === 'text') { if (part.text.includes('refuse')) throw ctx.reject(409, 'refused answer'); part.text = part.text.toUpperCase(); } },
  onStreamEvent(ctx, part) { if (part.type === 'text-delta') return { ...part, delta: part.delta.toUpperCase() }; },
} };`);
  const cli = new FakeAgentCli();
  const gateway = await startGatewayFor(t, {
    providers: [agentCliProvider('claude', { type: 'claude-code' }, { models: ['fake-large'] })],
    agentCliDrivers: new Map([['claude-code', cli.factory]]),
    plugins: [{ use: plugin }],
  });
  const whole = await chat(gateway, 'fake-large');
  assert.equal(whole.status, 200, whole.text);
  assert.equal(whole.json().choices[0].message.content, 'HELLO FROM FAKE-LARGE.');
  assert.match(JSON.stringify(cli.turns.at(-1)!.turn.request.messages), /rewritten/);
  const streamed = await chat(gateway, 'fake-large', { stream: true });
  assert.equal(openaiStreamText(streamed.events()), 'HELLO FROM FAKE-LARGE.');
  cli.script = () => [{ type: 'response-start', id: 'r', model: 'fake-large', created: 1 }, { type: 'text-start', index: 0 }, { type: 'text-delta', index: 0, delta: 'please refuse this' }, { type: 'text-end', index: 0 }, { type: 'response-end', finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 1 } }];
  assert.equal(assertOpenAIError(await chat(gateway, 'fake-large'), 409, 'plugin_rejected').message, 'refused answer');
});
