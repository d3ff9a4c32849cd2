// The Codex driver's pure parts: how Codex is launched per mode, the caller's messages as Codex
// input, Codex's failures as gateway errors, and notifications as canonical stream parts.
// (The driver against the real binary: test/integration/agent-cli-codex.test.ts.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartSink } from '../../src/canonical/adapters.ts';
import { GatewayError } from '../../src/canonical/errors.ts';
import type { Message } from '../../src/canonical/request.ts';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { AgentCliSettings } from '../../src/agent-clis/driver.ts';
import { planLaunch, prepareHome } from '../../src/agent-clis/codex/codex-launch.ts';
import { turnInput } from '../../src/agent-clis/codex/codex-input.ts';
import { RateLimitBook, exitError, secretsOf, turnError } from '../../src/agent-clis/codex/codex-errors.ts';
import { CodexTurn } from '../../src/agent-clis/codex/codex-turn.ts';

function settings(overrides: Partial<AgentCliSettings> = {}): AgentCliSettings {
  return {
    name: 'codex', type: 'codex', command: '/usr/bin/codex', args: ['-c', 'model_provider="mine"'],
    env: { HOME: '/home/someone', PATH: '/usr/bin' }, mode: 'llm', workDir: '/state/codex', models: [], ...overrides,
  };
}

const text = (role: Message['role'], value: string): Message => ({ role, content: [{ type: 'text', text: value }] });

describe('codex launch', () => {
  test('llm mode: app-server with every tool off, the provider\'s args last, a CODEX_HOME of the gateway\'s own', () => {
    const launch = planLaunch(settings());
    assert.equal(launch.appServerArgs[0], 'app-server');
    assert.deepEqual(launch.appServerArgs.slice(-2), ['-c', 'model_provider="mine"']);
    for (const setting of ['features.shell_tool=false', 'features.unified_exec=false', 'web_search="disabled"', 'features.plugins=false', 'features.apps=false', 'cli_auth_credentials_store="file"', 'analytics.enabled=false']) {
      assert.ok(launch.appServerArgs.includes(setting), setting);
    }
    assert.equal(launch.appServerEnv.CODEX_HOME, '/state/codex/codex-home');
    assert.equal(launch.userHome, '/home/someone/.codex');
    assert.deepEqual(launch.policy, {
      approvalPolicy: 'never', sandbox: 'read-only', environments: [],
      config: launch.policy.config,
    });
    assert.equal(launch.policy.config!['features.shell_tool'], false);
    assert.equal(launch.policy.config!.include_environment_context, false);
  });

  test('the one-shot fallback: exec --json with the user\'s own home, its config ignored, ephemeral, read-only', () => {
    const launch = planLaunch(settings({ env: { HOME: '/home/someone', CODEX_HOME: '/elsewhere/codex' } }));
    assert.deepEqual(launch.execArgs.slice(0, 8), ['exec', '--json', '--skip-git-repo-check', '--ephemeral', '--ignore-user-config', '--ignore-rules', '--sandbox', 'read-only']);
    assert.equal(launch.execEnv.CODEX_HOME, '/elsewhere/codex', 'exec reads the login where the user keeps it (keyring included)');
    assert.equal(launch.userHome, '/elsewhere/codex');
    assert.ok(launch.execArgs.includes('approval_policy="never"'));
  });

  test('agent mode: workspace-write at most, Codex\'s tools on, never a bypass', () => {
    const launch = planLaunch(settings({ mode: 'agent' }));
    assert.equal(launch.policy.sandbox, 'workspace-write');
    assert.equal(launch.policy.config, null);
    assert.equal(launch.policy.environments, undefined);
    assert.ok(launch.execArgs.includes('workspace-write'));
  });

  test('no mode adds a bypass or full access', () => {
    for (const mode of ['llm', 'agent'] as const) {
      const launch = planLaunch(settings({ mode, args: [] }));
      const all = [...launch.appServerArgs, ...launch.execArgs, JSON.stringify(launch.policy)].join(' ');
      assert.doesNotMatch(all, /danger|bypass|yolo|full-auto/i, mode);
    }
  });

  test('prepareHome links the user\'s auth.json and auth.lock, replacing a stray file, and is idempotent', () => {
    const root = mkdtempSync(join(tmpdir(), 'switchyard-codex-home-'));
    try {
      const userHome = join(root, 'home', '.codex');
      mkdirSync(userHome, { recursive: true });
      writeFileSync(join(userHome, 'auth.json'), '{}');
      const launch = planLaunch(settings({ env: { HOME: join(root, 'home') }, workDir: join(root, 'state') }));
      mkdirSync(launch.home, { recursive: true });
      writeFileSync(join(launch.home, 'auth.json'), '{"stray": true}');
      prepareHome(launch);
      prepareHome(launch);
      for (const name of ['auth.json', 'auth.lock']) {
        const link = join(launch.home, name);
        assert.ok(lstatSync(link).isSymbolicLink(), name);
        assert.equal(readlinkSync(link), join(userHome, name));
      }
      assert.ok(existsSync(launch.llmDirectory));
      assert.equal(existsSync(join(launch.home, 'config.toml')), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('codex input', () => {
  test('one user message goes as it is', () => {
    assert.deepEqual(turnInput([text('user', 'Hello?')], 0), [{ type: 'text', text: 'Hello?', text_elements: [] }]);
  });

  test('earlier history becomes a transcript before the last user message', () => {
    const input = turnInput([text('user', 'First.'), text('assistant', 'Reply.'), text('user', 'Second.')], 0);
    assert.equal(input.length, 1);
    assert.equal((input[0] as { text: string }).text, 'The conversation so far, oldest first:\n\n<user>\nFirst.\n</user>\n\n<assistant>\nReply.\n</assistant>\n\nThe user\'s new message:\nSecond.');
  });

  test('a thread\'s next turn sends only what is new', () => {
    const input = turnInput([text('user', 'First.'), text('assistant', 'Reply.'), text('user', 'Second.')], 2);
    assert.deepEqual(input, [{ type: 'text', text: 'Second.', text_elements: [] }]);
  });

  test('images go as image inputs marked where they stood, tool calls and results as text; audio is refused with a 400', () => {
    const input = turnInput([{
      role: 'user', content: [{ type: 'text', text: 'Look:' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'AAAA' } }],
    }], 0);
    assert.deepEqual(input, [{ type: 'text', text: 'Look:\n[image 1]', text_elements: [] }, { type: 'image', url: 'data:image/png;base64,AAAA' }]);
    const tools = turnInput([
      { role: 'assistant', content: [{ type: 'tool-call', id: 'c1', name: 'lookup', arguments: '{"q":1}' }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c1', content: 'found' }] },
    ], 0);
    assert.match((tools[0] as { text: string }).text, /called the tool lookup with \{"q":1\}[\s\S]*tool call c1: found/);
    assert.throws(() => turnInput([{ role: 'user', content: [{ type: 'audio', source: { kind: 'url', url: 'http://x' } }] }], 0), (error: GatewayError) => error.status === 400);
    assert.throws(() => turnInput([], 0), (error: GatewayError) => error.status === 400);
  });
});

describe('codex errors', () => {
  test('a usage limit is 429 with the exhausted window\'s reset time', () => {
    const limits = new RateLimitBook();
    const now = Date.now();
    limits.update({ rateLimits: { primary: { usedPercent: 40, resetsAt: Math.floor(now / 1000) + 30 }, secondary: null } });
    limits.update({ rateLimits: { primary: null, secondary: { usedPercent: 100, resetsAt: Math.floor(now / 1000) + 600 } } });
    const error = turnError('codex', { message: 'You hit your usage limit.', codexErrorInfo: 'usageLimitExceeded' }, limits);
    assert.equal(error.status, 429);
    assert.equal(error.errorClass, 'rate-limited');
    assert.ok(error.retryAfterSeconds! > 590 && error.retryAfterSeconds! <= 601, String(error.retryAfterSeconds));
    const unknown = turnError('codex', { message: 'Too many.', codexErrorInfo: { responseTooManyFailedAttempts: { httpStatusCode: 429 } } }, new RateLimitBook());
    assert.equal(unknown.status, 429);
    assert.equal(unknown.retryAfterSeconds, undefined);
  });

  test('upstream statuses and Codex\'s own classes map as for any provider', () => {
    const limits = new RateLimitBook();
    const cases: [unknown, number, string][] = [
      [{ httpConnectionFailed: { httpStatusCode: 503 } }, 502, 'server-error'],
      [{ responseStreamDisconnected: { httpStatusCode: null } }, 502, 'reset'],
      [{ httpConnectionFailed: { httpStatusCode: null } }, 502, 'connect-failure'],
      [{ responseStreamConnectionFailed: { httpStatusCode: 401 } }, 401, 'auth-refused'],
      ['contextWindowExceeded', 400, 'context-length'],
      ['unauthorized', 401, 'auth-refused'],
      ['modelNotFound', 404, 'not-found'],
      ['internalServerError', 502, 'server-error'],
      ['serverOverloaded', 503, 'server-error'],
      ['other', 502, 'server-error'],
      [undefined, 502, 'server-error'],
    ];
    for (const [info, status, errorClass] of cases) {
      const error = turnError('codex', { message: 'm', codexErrorInfo: info }, limits);
      assert.equal(error.status, status, JSON.stringify(info));
      assert.equal(error.errorClass, errorClass, JSON.stringify(info));
      assert.equal(error.provider, 'codex');
    }
  });

  test('an upstream JSON error body in Codex\'s message is read for its message', () => {
    const error = turnError('codex', { message: '{"error":{"message":"bad thing","type":"invalid_request_error"}}', codexErrorInfo: 'other' }, new RateLimitBook());
    assert.equal(error.message, "Provider 'codex' (Codex): bad thing");
  });

  test('a process exit carries the tail of stderr with secrets redacted', () => {
    const secrets = secretsOf({ OPENAI_API_KEY: 'sk-secret-0123456789', PATH: '/usr/bin', SHORT_TOKEN: 'abc' });
    assert.deepEqual(secrets, ['sk-secret-0123456789']);
    const error = exitError('codex', 101, null, 'panicked: key sk-secret-0123456789 refused', secrets);
    assert.equal(error.status, 502);
    assert.match(error.message, /exited with code 101: panicked: key \[redacted\] refused/);
  });
});

describe('codex turn parts', () => {
  class Parts implements PartSink {
    readonly parts: StreamPart[] = [];
    onPart(part: StreamPart): void {
      this.parts.push(part);
    }
  }

  function codexTurn(): { state: CodexTurn; sink: Parts } {
    const sink = new Parts();
    const controller = new AbortController();
    const state = new CodexTurn({ request: { model: 'm', messages: [], sampling: {}, stream: true }, model: 'm', conversation: undefined, signal: controller.signal }, sink, () => {});
    return { state, sink };
  }

  test('blocks per item in order, usage summed over the turn\'s requests, one response-end', () => {
    const { state, sink } = codexTurn();
    state.reasoning('r1', 'Hmm');
    state.reasoningBreak('r1');
    state.reasoning('r1', 'ok');
    state.text('m1', 'Let me');
    state.text('m1', ' look.');
    state.completedMessage('m1', 'Let me look.');
    state.addUsage({ inputTokens: 10, outputTokens: 3, cachedInputTokens: 4, reasoningOutputTokens: 1 });
    state.completedMessage('m2', 'Found it.');
    state.addUsage({ inputTokens: 20, outputTokens: 5, cachedInputTokens: 0, reasoningOutputTokens: 0 });
    state.finish();
    state.text('m2', 'late');
    assert.deepEqual(sink.parts.map((part) => part.type), [
      'response-start', 'reasoning-start', 'reasoning-delta', 'reasoning-delta', 'reasoning-delta', 'reasoning-end',
      'text-start', 'text-delta', 'text-delta', 'text-end', 'text-start', 'text-delta', 'text-end', 'response-end',
    ]);
    assert.deepEqual(sink.parts.filter((part) => 'index' in part).map((part) => (part as { index: number }).index), [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]);
    assert.deepEqual(sink.parts.at(-1), { type: 'response-end', finishReason: 'stop', usage: { inputTokens: 30, outputTokens: 8, cachedInputTokens: 4, reasoningTokens: 1 } });
  });

  test('a failure before any content is an error part alone; an aborted turn says nothing', () => {
    const { state, sink } = codexTurn();
    state.fail(turnError('codex', { message: 'no', codexErrorInfo: 'badRequest' }, new RateLimitBook()));
    assert.deepEqual(sink.parts.map((part) => part.type), ['error']);
    const aborted = codexTurn();
    aborted.state.aborted = true;
    aborted.state.text('m', 'x');
    aborted.state.finish();
    assert.deepEqual(aborted.sink.parts, []);
  });

  test('a failure after content closes the open block first', () => {
    const { state, sink } = codexTurn();
    state.text('m', 'partial');
    state.fail(turnError('codex', { message: 'dropped', codexErrorInfo: { responseStreamDisconnected: { httpStatusCode: null } } }, new RateLimitBook()));
    assert.deepEqual(sink.parts.map((part) => part.type), ['response-start', 'text-start', 'text-delta', 'text-end', 'error']);
  });

  test('turn ids: the first seen is adopted, the thread\'s previous turn\'s is not', () => {
    const { state } = codexTurn();
    state.staleTurnId = 'old';
    assert.equal(state.owns('old'), false);
    assert.equal(state.owns('new'), true);
    assert.equal(state.owns('other'), false);
    assert.equal(state.owns(undefined), true);
  });
});
