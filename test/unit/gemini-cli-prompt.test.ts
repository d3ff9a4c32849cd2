// The pure parts of the Gemini CLI driver: what a session is sent (blocks, the flattened history,
// CLI commands neutralised), the conversation digest, the error mapping, the flags and
// environment, and the part sequence a turn emits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { Message } from '../../src/canonical/request.ts';
import type { AgentCliSettings } from '../../src/agent-clis/driver.ts';
import { JsonRpcError } from '../../src/agent-clis/json-rpc.ts';
import { promptBlocks } from '../../src/agent-clis/gemini-cli/prompt.ts';
import { promptError, statusError } from '../../src/agent-clis/gemini-cli/errors.ts';
import { acpArgs, cliEnv, LLM_MODE_SETTINGS, oneShotArgs, projectSettings } from '../../src/agent-clis/gemini-cli/settings.ts';
import { TurnOutput } from '../../src/agent-clis/gemini-cli/turn-output.ts';

function user(text: string): Message {
  return { role: 'user', content: [{ type: 'text', text }] };
}
function assistant(text: string): Message {
  return { role: 'assistant', content: [{ type: 'text', text }] };
}

test('one user message is sent as its own blocks', () => {
  assert.deepEqual(promptBlocks([user('hello')], 0), [{ type: 'text', text: 'hello' }]);
  const image: Message = { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBOR' } }] };
  assert.deepEqual(promptBlocks([image], 0), [{ type: 'text', text: 'what is this?' }, { type: 'image', mimeType: 'image/png', data: 'iVBOR' }]);
});

test('text that would run a CLI command (/, $) is made plain text; other text is untouched', () => {
  for (const text of ['/memory add x', '  /extensions install https://example.com/x', '$skill', '\n/init']) {
    const [block] = promptBlocks([user(text)], 0);
    assert.equal(block!.type, 'text');
    const sent = (block as { text: string }).text;
    assert.equal(sent, `\u200B${text}`);
    // what the CLI checks: the trimmed text must not start with / or $
    assert.doesNotMatch(sent.trim(), /^[/$]/);
  }
  assert.deepEqual(promptBlocks([user('a/b')], 0), [{ type: 'text', text: 'a/b' }]);
  // a continuing session's new message is checked too
  assert.equal((promptBlocks([user('q'), assistant('a'), user('/init')], 2)[0] as { text: string }).text, '\u200B/init');
});

test('earlier turns are written out before the new message (images as markers); agent mode\'s instructions go first', () => {
  const image = { type: 'image' as const, source: { kind: 'url' as const, url: 'https://example.com/a.png' } };
  const blocks = promptBlocks([{ role: 'user', content: [{ type: 'text', text: 'q1' }, image] }, assistant('a1'), user('q2')], 0);
  assert.deepEqual(blocks, [{ type: 'text', text: 'The conversation so far, oldest first:\n\n<user>\nq1\n[an image]\n</user>\n\n<assistant>\na1\n</assistant>\n\nThe user\'s new message:\nq2' }]);
  const withInstructions = promptBlocks([user('q')], 0, 'Be brief.');
  assert.deepEqual(withInstructions, [{ type: 'text', text: '<instructions>\nBe brief.\n</instructions>\n\n' }, { type: 'text', text: 'q' }]);
  const prefill = promptBlocks([user('q'), assistant('The answer is')], 0);
  assert.match((prefill[0] as { text: string }).text, /Continue the assistant's last message from where it stops\.$/);
});

test('media by URL and files are refused with a 400 naming messages', () => {
  const url: Message = { role: 'user', content: [{ type: 'image', source: { kind: 'url', url: 'https://example.com/a.png' } }] };
  assert.throws(() => promptBlocks([url], 0), (error: any) => error.status === 400 && error.param === 'messages');
  const file: Message = { role: 'user', content: [{ type: 'file', source: { kind: 'base64', mediaType: 'application/pdf', data: 'JVBER' } }] };
  assert.throws(() => promptBlocks([file], 0), (error: any) => error.status === 400);
  assert.throws(() => promptBlocks([], 0), (error: any) => error.status === 400);
});

test('JSON-RPC errors of the CLI become the gateway\'s errors', () => {
  const limited = promptError(new JsonRpcError(429, 'Resource exhausted\nSuggested retry after 7s.'), 'gemini', []);
  assert.equal(limited.status, 429);
  assert.equal(limited.errorClass, 'rate-limited');
  assert.equal(limited.retryAfterSeconds, 7);
  const body = promptError(new JsonRpcError(500, '{"error":{"code":500,"message":"backend broke","status":"INTERNAL"}}'), 'gemini', []);
  assert.equal(body.status, 502);
  assert.equal(body.errorClass, 'server-error');
  assert.match(body.message, /answered 500: backend broke$/);
  const auth = promptError(new JsonRpcError(-32000, 'Gemini API key is missing or not configured.'), 'gemini', []);
  assert.equal(auth.status, 401);
  assert.equal(auth.errorClass, 'auth-refused');
  const internal = promptError(new JsonRpcError(-32603, 'Internal error', { details: 'key sk-secret-123456 leaked' }), 'gemini', ['sk-secret-123456']);
  assert.equal(internal.status, 502);
  assert.doesNotMatch(internal.message, /sk-secret/);
  assert.equal(statusError(404, 'model not found', 'gemini').errorClass, 'not-found');
  assert.equal(statusError(400, 'The input token count (2000000) exceeds the maximum', 'gemini').errorClass, 'context-length');
  assert.equal(statusError(403, 'denied', 'gemini').errorClass, 'auth-refused');
  assert.equal(promptError(new Error('the process is gone'), 'gemini', []).errorClass, 'reset');
});

const settings: AgentCliSettings = {
  name: 'gemini', type: 'gemini-cli', command: 'gemini', args: ['--debug'], env: { PATH: '/bin', GEMINI_API_KEY: 'k' }, mode: 'llm', workDir: '/state/gemini', models: [],
};

test('llm mode: no auto-approval, no extensions, no MCP servers; the config\'s args come last', () => {
  const args = acpArgs(settings);
  assert.deepEqual(args, ['--acp', '--approval-mode=default', '--extensions=none', '--allowed-mcp-server-names=switchyard-none', '--debug']);
  assert.ok(!args.some((arg) => /yolo|auto_edit|dangerously/.test(arg)));
  assert.deepEqual(acpArgs({ ...settings, mode: 'agent' }), ['--acp', '--debug']);
  assert.deepEqual(oneShotArgs(settings, 'gemini-2.5-pro').slice(0, 4), ['--model', 'gemini-2.5-pro', '--output-format', 'stream-json']);
  const written = JSON.parse(projectSettings('llm'));
  assert.deepEqual(written.tools.core, []);
  assert.equal(written.general.maxAttempts, 1);
  assert.equal(written.security.disableYoloMode, true);
  assert.equal(written.hooksConfig.enabled, false);
  assert.deepEqual(written, JSON.parse(JSON.stringify(LLM_MODE_SETTINGS)));
  assert.equal(JSON.parse(projectSettings('agent')).tools, undefined);
});

test('the environment trusts the driver\'s directory and names the system prompt file only when there is one', () => {
  const env = cliEnv(settings, '/state/gemini/.gemini/system.md');
  assert.equal(env.GEMINI_SYSTEM_MD, '/state/gemini/.gemini/system.md');
  assert.equal(env.GEMINI_CLI_TRUST_WORKSPACE, 'true');
  assert.equal(env.GEMINI_CLI_NO_RELAUNCH, 'true');
  assert.equal(env.GEMINI_API_KEY, 'k');
  // the CLI's error reports (whole conversations) stay in the driver's directory
  assert.equal(env.TMPDIR, '/state/gemini/tmp');
  // agent mode names none: a user's own GEMINI_SYSTEM_MD stays
  assert.equal(cliEnv({ ...settings, env: { GEMINI_SYSTEM_MD: '/user/system.md' } }, undefined).GEMINI_SYSTEM_MD, '/user/system.md');
  // the user may keep the relaunching launcher
  assert.equal(cliEnv({ ...settings, env: { GEMINI_CLI_NO_RELAUNCH: '' } }, undefined).GEMINI_CLI_NO_RELAUNCH, '');
});

test('a turn\'s parts keep the stream contract: start first, one block at a time, one terminal part', () => {
  const parts: StreamPart[] = [];
  const output = new TurnOutput({ onPart: (part) => parts.push(part) }, 'id-1', 'gemini-2.5-pro');
  output.reasoning('thinking');
  output.reasoning(' more');
  output.text('');
  output.text('Hello');
  output.reasoning('again');
  output.text(' there');
  output.end('stop', 'end_turn', { inputTokens: 3, outputTokens: 2 });
  output.text('late');
  output.fail({ code: 'x', status: 500, message: 'late', origin: 'upstream', errorClass: 'server-error', retryable: false, fallbackAllowed: false });
  assert.deepEqual(parts.map((part) => part.type), [
    'response-start', 'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-end', 'text-start', 'text-delta', 'text-end',
    'reasoning-start', 'reasoning-delta', 'reasoning-end', 'text-start', 'text-delta', 'text-end', 'response-end',
  ]);
  assert.deepEqual(parts.filter((part) => 'index' in part).map((part) => (part as { index: number }).index), [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  assert.equal(output.answer, 'Hello there');

  const failed: StreamPart[] = [];
  const early = new TurnOutput({ onPart: (part) => failed.push(part) }, 'id-2', 'm');
  early.fail({ code: 'x', status: 502, message: 'no', origin: 'upstream', errorClass: 'server-error', retryable: true, fallbackAllowed: true });
  assert.deepEqual(failed.map((part) => part.type), ['error'], 'an error before any content comes alone');

  const left: StreamPart[] = [];
  const gone = new TurnOutput({ onPart: (part) => left.push(part) }, 'id-3', 'm');
  gone.text('a');
  gone.detach();
  gone.text('b');
  gone.end('stop', 'end_turn', undefined);
  assert.deepEqual(left.map((part) => part.type), ['response-start', 'text-start', 'text-delta'], 'nothing after the caller left');
});
