// The opencode driver's pure parts, without the CLI: the prompt it builds from a conversation, the
// config and environment it gives a server it manages, how opencode's errors map to the gateway's,
// and how a turn turns a session's events into canonical parts (fed recorded event shapes of
// opencode 1.18 through a fake server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamPart } from '../../src/canonical/stream.ts';
import type { Message } from '../../src/canonical/request.ts';
import { configContent, LLM_AGENT, serverEnv } from '../../src/agent-clis/opencode/config.ts';
import { retryNotice, sessionError } from '../../src/agent-clis/opencode/errors.ts';
import { promptParts, UnsafeContent } from '../../src/agent-clis/opencode/prompt.ts';
import type { OpencodeServer } from '../../src/agent-clis/opencode/server.ts';
import { OpencodeTurn, type TurnOutcome } from '../../src/agent-clis/opencode/turn.ts';
import type { AgentTurnReport } from '../../src/agent-clis/driver.ts';

type Json = Record<string, any>;

function text(role: Message['role'], value: string): Message {
  return { role, content: [{ type: 'text', text: value }] };
}

// --- prompt ---------------------------------------------------------------------------------

test('a new session gets the earlier turns as a transcript ahead of the last message', () => {
  const parts = promptParts([text('user', 'I am Ada.'), text('assistant', 'Hi Ada.'), text('user', 'Who am I?')], 0);
  assert.deepEqual(parts, [{ type: 'text', text: 'The conversation so far, oldest first:\n\n<user>\nI am Ada.\n</user>\n\n<assistant>\nHi Ada.\n</assistant>\n\nThe user\'s new message:\nWho am I?' }]);
});

test('a first message alone is sent as it is; a known session gets only what is new after its own answer', () => {
  assert.deepEqual(promptParts([text('user', 'hello')], 0), [{ type: 'text', text: 'hello' }]);
  const messages = [text('user', 'one'), text('assistant', 'answer'), text('user', 'two'), text('user', 'three')];
  assert.deepEqual(promptParts(messages, 2), [{ type: 'text', text: 'two\n\nthree' }]);
});

test('inline media become file parts with a data URL; a URL opencode would fetch or read is refused', () => {
  const image: Message = { role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image', source: { kind: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' } }] };
  assert.deepEqual(promptParts([image], 0), [{ type: 'text', text: 'what is this?' }, { type: 'file', mime: 'image/png', url: 'data:image/png;base64,iVBORw0KGgo=' }]);
  for (const url of ['file:///etc/passwd', 'https://example.com/cat.png']) {
    const linked: Message = { role: 'user', content: [{ type: 'image', source: { kind: 'url', url } }] };
    assert.throws(() => promptParts([linked], 0), (error: unknown) => error instanceof UnsafeContent && error.param === 'messages[0].content[0]');
    // in the transcript of earlier turns it is only named, never fetched
    const earlier = promptParts([linked, text('assistant', 'A cat.'), text('user', 'Sure?')], 0);
    assert.match((earlier[0] as { text: string }).text, /<user>\n\[an image\]\n<\/user>/);
  }
});

// --- config ---------------------------------------------------------------------------------

test('llm mode: every permission denied (the user\'s rules replaced), the gateway\'s agent defined, updates and sharing off', () => {
  const user = JSON.stringify({ provider: { mine: { npm: 'x' } }, permission: { '*': 'allow', read: 'allow' }, share: 'auto', agent: { mine: { prompt: 'p' } } });
  const config = JSON.parse(configContent('llm', user)) as Json;
  assert.deepEqual(config.provider, { mine: { npm: 'x' } }, 'the user\'s providers stay');
  assert.equal(config.permission['*'], 'deny');
  assert.equal(config.permission.read, 'deny');
  assert.equal(config.permission.bash, 'deny');
  assert.ok(Object.values(config.permission).every((action) => action === 'deny'));
  assert.equal(config.share, 'disabled');
  assert.equal(config.autoupdate, false);
  assert.equal(config.agent.mine.prompt, 'p');
  assert.equal(config.agent[LLM_AGENT].permission['*'], 'deny');
  assert.equal(config.agent[LLM_AGENT].prompt, ' ');
  // agent mode leaves permissions to the user's config
  const agent = JSON.parse(configContent('agent', user)) as Json;
  assert.deepEqual(agent.permission, { '*': 'allow', read: 'allow' });
  assert.equal(agent.share, 'disabled');
  assert.equal(agent.agent[LLM_AGENT], undefined);
  // a broken user config does not break the gateway's settings
  assert.equal(JSON.parse(configContent('llm', '{not json')).permission['*'], 'deny');
});

test('the managed server\'s environment: its password, no env override of permissions, no project config in llm mode', () => {
  const env = serverEnv({ PATH: '/bin', OPENCODE_PERMISSION: '{"bash":"allow"}', OPENCODE_SERVER_PASSWORD: 'theirs' }, 'llm', 'opencode', 'ours');
  assert.equal(env.OPENCODE_SERVER_PASSWORD, 'ours');
  assert.equal(env.OPENCODE_SERVER_USERNAME, 'opencode');
  assert.equal(env.OPENCODE_PERMISSION, undefined);
  assert.equal(env.OPENCODE_DISABLE_PROJECT_CONFIG, '1');
  assert.equal(env.OPENCODE_DISABLE_AUTOUPDATE, '1');
  assert.equal(env.OPENCODE_PURE, '1');
  assert.equal(env.PATH, '/bin');
  assert.equal(serverEnv({ OPENCODE_PURE: '0' }, 'llm', 'opencode', 'p').OPENCODE_PURE, '0', 'plugins kept when the provider\'s env asks');
  assert.equal(serverEnv({ OPENCODE_PERMISSION: 'x' }, 'agent', 'opencode', 'p').OPENCODE_PERMISSION, 'x');
});

// --- errors ---------------------------------------------------------------------------------

test('opencode\'s session errors map to the gateway\'s statuses and classes', () => {
  const limited = sessionError('oc', { name: 'APIError', data: { message: 'slow down', statusCode: 429, isRetryable: true, responseHeaders: { 'retry-after': '12' } } }, false)!;
  assert.equal(limited.status, 429);
  assert.equal(limited.errorClass, 'rate-limited');
  assert.equal(limited.retryAfterSeconds, 12);
  const auth = sessionError('oc', { name: 'ProviderAuthError', data: { providerID: 'anthropic', message: 'expired' } }, false)!;
  assert.equal(auth.status, 401);
  assert.equal(auth.errorClass, 'auth-refused');
  assert.match(auth.message, /opencode auth login/);
  assert.equal(sessionError('oc', { name: 'UnknownError', data: { message: 'Model not found: a/b.' } }, false)!.status, 404);
  assert.equal(sessionError('oc', { name: 'ContextOverflowError', data: { message: 'too long' } }, false)!.errorClass, 'context-length');
  assert.equal(sessionError('oc', { name: 'MessageAbortedError', data: { message: 'Aborted' } }, true), undefined, 'the gateway\'s own abort');
  assert.equal(sessionError('oc', { name: 'MessageAbortedError', data: { message: 'Aborted' } }, false)!.status, 502);
  const server = sessionError('oc', { name: 'APIError', data: { message: 'boom', statusCode: 500, isRetryable: true } }, false)!;
  assert.equal(server.status, 502);
  assert.equal(server.errorClass, 'server-error');
});

test('a retry notice is a rate limit when its message says so (with the wait until opencode\'s retry), else a 502', () => {
  const now = 1_000_000;
  const limited = retryNotice('oc', { type: 'retry', attempt: 1, message: 'Rate limit reached for requests', next: now + 7000 }, now);
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterSeconds, 7);
  assert.equal(retryNotice('oc', { type: 'retry', attempt: 1, message: 'x', next: now, action: { reason: 'account_rate_limit' } }, now).status, 429);
  const down = retryNotice('oc', { type: 'retry', attempt: 1, message: 'Provider is overloaded', next: now + 2000 }, now);
  assert.equal(down.status, 502);
  assert.equal(down.errorClass, 'server-error');
});

// --- a turn, from recorded event shapes ------------------------------------------------------

class FakeServer {
  readonly calls: string[] = [];
  closed = false;

  call(method: string, path: string): Promise<{ status: number; text: string }> {
    this.calls.push(`${method} ${path}`);
    return Promise.resolve({ status: 200, text: 'true' });
  }

  unsubscribe(): void {}
}

function turnOn(mode: 'llm' | 'agent' = 'llm') {
  const parts: StreamPart[] = [];
  const reports: AgentTurnReport[] = [];
  const outcomes: TurnOutcome[] = [];
  const server = new FakeServer();
  const turn = new OpencodeTurn({
    provider: 'oc', mode, model: 'mock/mock-gpt', session: 'ses_1', query: '', server: server as unknown as OpencodeServer,
    sink: { onPart: (part) => parts.push(part) },
    report: (report) => reports.push(report),
    onOutcome: (_turn, outcome) => outcomes.push(outcome),
    onSettled: () => {},
  });
  const assistant = (id = 'msg_a'): void => turn.onEvent('message.updated', { sessionID: 'ses_1', info: { id, role: 'assistant', sessionID: 'ses_1' } });
  const part = (value: Json): void => turn.onEvent('message.part.updated', { sessionID: 'ses_1', part: { sessionID: 'ses_1', messageID: 'msg_a', ...value } });
  const delta = (partID: string, value: string): void => turn.onEvent('message.part.delta', { sessionID: 'ses_1', messageID: 'msg_a', partID, field: 'text', delta: value });
  const idle = (): void => turn.onEvent('session.status', { sessionID: 'ses_1', status: { type: 'idle' } });
  return { turn, parts, reports, outcomes, server, assistant, part, delta, idle };
}

test('a turn: text and reasoning blocks in order, what was not streamed filled in from the part, the user\'s own parts ignored', () => {
  const t = turnOn();
  // the user's message and its part come first, and are not the answer
  t.turn.onEvent('message.updated', { sessionID: 'ses_1', info: { id: 'msg_u', role: 'user' } });
  t.turn.onEvent('message.part.updated', { sessionID: 'ses_1', part: { id: 'prt_u', messageID: 'msg_u', type: 'text', text: 'question' } });
  t.assistant();
  t.part({ id: 'prt_r', type: 'reasoning', text: '', time: { start: 1 } });
  t.delta('prt_r', 'Hmm.');
  t.part({ id: 'prt_t', type: 'text', text: '', time: { start: 2 } });
  t.delta('prt_t', 'Hello');
  // a final update with more than was streamed: the rest is sent
  t.part({ id: 'prt_t', type: 'text', text: 'Hello there.', time: { start: 2, end: 3 } });
  t.part({ id: 'prt_s', type: 'step-finish', reason: 'stop', cost: 0.25, tokens: { input: 70, output: 12, reasoning: 8, cache: { read: 30, write: 0 } } });
  t.idle();
  t.idle();
  assert.deepEqual(t.parts.map((part) => part.type), ['response-start', 'reasoning-start', 'reasoning-delta', 'reasoning-end', 'text-start', 'text-delta', 'text-delta', 'text-end', 'response-end']);
  assert.deepEqual(t.parts.filter((part) => part.type === 'text-delta').map((part) => (part as { delta: string }).delta), ['Hello', ' there.']);
  const end = t.parts.at(-1) as Extract<StreamPart, { type: 'response-end' }>;
  assert.deepEqual(end.usage, { inputTokens: 100, outputTokens: 20, cachedInputTokens: 30, reasoningTokens: 8 });
  assert.deepEqual(t.reports, [{ session: 'ses_1', reportedCostUsd: 0.25 }]);
  assert.deepEqual(t.outcomes, ['answered']);
});

test('a turn in llm mode: a tool call ends it and aborts the session; with no text before it, an error', () => {
  const t = turnOn();
  t.assistant();
  t.part({ id: 'prt_tool', type: 'tool', tool: 'bash', callID: 'call_1', state: { status: 'pending', input: {} } });
  assert.equal(t.parts.length, 1);
  const error = (t.parts[0] as Extract<StreamPart, { type: 'error' }>).error;
  assert.match(error.message, /tool 'bash'/);
  assert.deepEqual(t.server.calls, ['POST /session/ses_1/abort']);
  // a busy state after the abort (an early one missed the prompt): the abort is sent again
  t.turn.onEvent('session.status', { sessionID: 'ses_1', status: { type: 'busy' } });
  assert.equal(t.server.calls.length, 2);
  t.turn.onEvent('session.error', { sessionID: 'ses_1', error: { name: 'MessageAbortedError', data: { message: 'Aborted' } } });
  t.idle();
  assert.equal(t.parts.length, 1, 'nothing after the error');

  // in agent mode a tool call is the CLI's own business
  const agent = turnOn('agent');
  agent.assistant();
  agent.part({ id: 'prt_tool', type: 'tool', tool: 'bash', callID: 'call_1', state: { status: 'running', input: {} } });
  assert.equal(agent.parts.length, 0);
});

test('a turn: a retry notice fails it at once and stops opencode\'s retries; an abort sends no part', () => {
  const t = turnOn();
  t.assistant();
  t.turn.onEvent('session.status', { sessionID: 'ses_1', status: { type: 'retry', attempt: 1, message: 'Too many requests', next: Date.now() + 3000 } });
  const error = (t.parts[0] as Extract<StreamPart, { type: 'error' }>).error;
  assert.equal(error.status, 429);
  assert.deepEqual(t.server.calls, ['POST /session/ses_1/abort']);

  const aborted = turnOn();
  aborted.assistant();
  aborted.part({ id: 'prt_t', type: 'text', text: '', time: { start: 1 } });
  aborted.delta('prt_t', 'Hel');
  aborted.turn.abort();
  aborted.delta('prt_t', 'lo');
  aborted.idle();
  assert.deepEqual(aborted.parts.map((part) => part.type), ['response-start', 'text-start', 'text-delta']);
  assert.deepEqual(aborted.outcomes, ['aborted']);
  assert.deepEqual(aborted.server.calls, ['POST /session/ses_1/abort']);
});

test('a turn that goes idle without any answer is an error, never an empty success', () => {
  const t = turnOn();
  t.idle();
  assert.equal(t.parts.length, 1);
  assert.equal(t.parts[0]!.type, 'error');
  // an answer that is empty but real (a step finished) is a success
  const empty = turnOn();
  empty.assistant();
  empty.part({ id: 'prt_s', type: 'step-finish', reason: 'stop', cost: 0, tokens: { input: 5, output: 0, reasoning: 0, cache: { read: 0, write: 0 } } });
  empty.idle();
  assert.deepEqual(empty.parts.map((part) => part.type), ['response-start', 'response-end']);
});

test('a turn in agent mode refuses what opencode asks to approve, and says so if that leaves no answer', () => {
  const t = turnOn('agent');
  t.assistant();
  t.turn.onEvent('permission.asked', { id: 'per_1', sessionID: 'ses_1', permission: 'bash', patterns: ['rm -rf /'], metadata: {}, always: [] });
  t.turn.onEvent('question.asked', { id: 'que_1', sessionID: 'ses_1', questions: [] });
  assert.deepEqual(t.server.calls, ['POST /permission/per_1/reply', 'POST /question/que_1/reject']);
  t.part({ id: 'prt_s', type: 'step-finish', reason: 'tool-calls', cost: 0, tokens: { input: 5, output: 1, reasoning: 0, cache: { read: 0, write: 0 } } });
  t.idle();
  assert.equal(t.parts.at(-1)!.type, 'error');
  assert.match((t.parts.at(-1) as Extract<StreamPart, { type: 'error' }>).error.message, /approval to use 'bash'/);
});
