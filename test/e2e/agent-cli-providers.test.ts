// The four agent CLIs as providers, end to end (issue #14): client SDK → a real Switchyard gateway →
// the provider's driver → the real CLI (claude, codex, gemini, opencode from .tools/) → a loopback
// mock of the CLI's vendor API, and back. One gateway for the whole file
// (test/helpers/agent-cli-rig.ts), its CLI workers kept warm across tests; each CLI's tests run as
// one chain, the four chains side by side.
//
// Per CLI: every dialect in, streamed and whole, with the mock's text and the model asked for
// reaching the mock; a conversation over two turns resuming the CLI's session; the mock's 400/500
// as the caller's error (before the head: a status; after it: an error event); a 429 as 429 with
// Retry-After, and its alias falling back to another provider; a client leaving mid-stream ending
// the CLI's turn; the turn queue (concurrency 1, queue_size 1) declining with 429; the model's
// shell call creating nothing; the caller's own tools refused. Then, across them: /v1/models,
// /v1/providers, the usage store, nothing sent past loopback, no process left once the gateway
// has stopped.
//
// Without the CLIs these tests skip (saying how to install them); with SWITCHYARD_TEST_AGENT_CLIS
// set they fail instead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  AGENT_CLIS, agentCliRigUnavailable, processesUnder, removeStateDirectory, startAgentCliRig, type AgentCliRig, type Vendor,
} from '../helpers/agent-cli-rig.ts';
import type { AgentCliName } from '../helpers/agent-cli.ts';
import type { RecordedRequest } from '../helpers/mock-upstream.ts';
import { DIALECTS, SdkClients, type Dialect } from '../helpers/sdk-clients.ts';
import { parseSse } from '../helpers/sse.ts';

type Json = Record<string, any>;

const unavailable = agentCliRigUnavailable();
/** The queue every CLI provider has here: one turn at a time, one waiting, for this long. */
const QUEUE_TIMEOUT_MS = 4000;
const WAIT_MS = 30_000;

let rig: AgentCliRig;
let clients: SdkClients;

before(async () => {
  if (unavailable !== undefined) return;
  rig = await startAgentCliRig({ concurrency: 1, queueSize: 1, queueTimeoutMs: QUEUE_TIMEOUT_MS });
  clients = new SdkClients(rig.gateway.url);
});

after(async () => {
  if (rig === undefined) return;
  await rig.close();
  removeStateDirectory(rig);
});

// --- helpers --------------------------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Settles with `promise`, or fails naming `what` when it has not within WAIT_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The provider's queue and turns, from /v1/providers. */
async function cliState(provider: string): Promise<Json> {
  const providers = (await (await fetch(`${rig.gateway.url}/v1/providers`)).json()) as { data: Json[] };
  return providers.data.find((entry) => entry.name === provider)!.agent_cli as Json;
}

/** Waits for the next model turn the CLI sends its vendor after `count` of them. */
async function nextTurn(vendor: Vendor, count: number): Promise<RecordedRequest> {
  await waitFor(() => vendor.turns().length > count, `${vendor.cli} to send its vendor a turn`);
  return vendor.turns()[count]!;
}

function post(path: string, body: Json, signal?: AbortSignal): Promise<Response> {
  return fetch(`${rig.gateway.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: JSON.stringify(body), ...(signal !== undefined ? { signal } : {}),
  });
}

/** Reads a streamed Chat Completions answer until its text holds `text` (the turn runs and has committed). */
async function readUntil(response: Response, text: string): Promise<void> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  const answer = (): string => parseSse(seen).filter((event) => event.data.startsWith('{'))
    .map((event) => (JSON.parse(event.data) as Json).choices?.[0]?.delta?.content ?? '').join('');
  while (!answer().includes(text)) {
    const { value, done } = await within(reader.read(), `"${text}" in the stream`);
    if (done) assert.fail(`the stream ended before "${text}": ${seen}`);
    seen += decoder.decode(value, { stream: true });
  }
}

const ASKED_SYSTEM = 'Answer briefly.';

// --- per CLI: one chain each, the four side by side -------------------------------------------

describe('agent CLIs as gateway providers, end to end', { skip: unavailable, concurrency: true }, () => {
  for (const cli of AGENT_CLIS) {
    describe(cli, { concurrency: 1 }, () => {
      const vendor = (): Vendor => rig.vendors[cli];

      for (const dialect of DIALECTS) {
        for (const stream of [false, true]) {
          test(`${dialect} ${stream ? 'streamed' : 'whole'}: the mock's text comes back; the model asked for reaches the mock`, async () => {
            const { model, upstreamModel, turns, modelOf, userTexts } = vendor();
            const marker = `${cli} via ${dialect}${stream ? ' streamed' : ''}`;
            vendor().answer = (request) => vendor().text(`Answer for ${marker}.`, request);
            const before = turns().length;
            const outcome = await clients.chat(dialect, model(), { system: ASKED_SYSTEM, turns: [{ role: 'user', text: `Question for ${marker}?` }] }, stream);
            assert.equal(outcome.status, 200, JSON.stringify(outcome));
            assert.equal(outcome.text, `Answer for ${marker}.`);
            const sent = turns().slice(before);
            assert.equal(sent.length, 1, 'one turn reached the vendor');
            assert.equal(modelOf(sent[0]!), upstreamModel());
            assert.ok(userTexts(sent[0]!).at(-1)!.endsWith(`Question for ${marker}?`), JSON.stringify(userTexts(sent[0]!)));
          });
        }
      }

      test('a conversation over two turns: the second resumes the CLI\'s session and sends only the new message', async () => {
        const { model, turns, userTexts } = vendor();
        const dialect = NATIVE[cli];
        let answers = 0;
        vendor().answer = (request) => vendor().text(answers++ === 0 ? 'Nice to meet you, Ada.' : 'Your name is Ada.', request);
        const before = turns().length;
        const opening = `My name is Ada (${cli}).`;
        const first = await clients.chat(dialect, model(), { system: 'Be brief.', turns: [{ role: 'user', text: opening }] }, true);
        assert.equal(first.text, 'Nice to meet you, Ada.', JSON.stringify(first));
        const second = await clients.chat(dialect, model(), {
          system: 'Be brief.',
          turns: [{ role: 'user', text: opening }, { role: 'assistant', text: first.text }, { role: 'user', text: 'What is my name?' }],
        }, true);
        assert.equal(second.text, 'Your name is Ada.', JSON.stringify(second));
        const sent = turns().slice(before);
        assert.equal(sent.length, 2);
        // the CLI's session holds the first turn: its own history, not the caller's flattened into one message
        const texts = userTexts(sent[1]!);
        assert.equal(texts.length, 2, `two user messages in the session's history: ${JSON.stringify(texts)}`);
        assert.ok(texts[0]!.endsWith(opening), texts[0]);
        assert.equal(texts[1], 'What is my name?');
        assert.match(JSON.stringify(sent[1]!.body), /Nice to meet you, Ada\./, 'the first answer is in the session');
      });

      test('the mock\'s 400 and 500 become the caller\'s error with its status, before any byte of an answer', async () => {
        const { model, turns } = vendor();
        // Codex's app-server reports a vendor 400 without its status (codexErrorInfo "other", the body as
        // the message): the driver cannot tell it from a server error, so it is a 502 with the vendor's words
        const refused = cli === 'codex' ? 502 : 400;
        const cases: [Dialect, boolean, number, number][] = [
          ['openai-chat', false, 400, refused], ['anthropic', true, 400, refused], ['gemini', false, 500, 502], ['openai-responses', true, 500, 502],
        ];
        for (const [dialect, stream, status, expected] of cases) {
          vendor().answer = () => vendor().error(status, `The mock refuses this (${status}).`);
          const before = turns().length;
          const outcome = await clients.chat(dialect, model('errors'), { turns: [{ role: 'user', text: `Fail with ${status}.` }] }, stream);
          const label = `${dialect}${stream ? ' streamed' : ''} ${status}: ${JSON.stringify(outcome)}`;
          assert.equal(outcome.status, expected, label);
          assert.equal(outcome.text, '', label);
          // Codex words a vendor's 5xx its own way ("We're currently experiencing high demand…")
          if (cli !== 'codex' || status < 500) assert.match(outcome.error?.message ?? '', new RegExp(`The mock refuses this \\(${status}\\)`), label);
          assert.match(outcome.error?.message ?? '', new RegExp(`'${vendor().provider}'`), `names the provider: ${label}`);
          for (const secret of rig.secrets) assert.ok(!outcome.error!.message.includes(secret), 'no key in the message');
          // one attempt by the gateway (Claude Code itself may try again, streamed then not)
          assert.ok(turns().length > before, `the turn reached the vendor: ${label}`);
        }
      });

      test('a failure after the first words ends the stream with an error event, never a success', async () => {
        vendor().answer = (request) => vendor().breakAfter('Partial words ', request);
        const response = await post('/v1/chat/completions', { model: vendor().model('errors'), stream: true, messages: [{ role: 'user', content: 'Start, then fail.' }] });
        assert.equal(response.status, 200);
        const body = await response.text();
        const events = parseSse(body).map((event) => event.data);
        const text = events.filter((data) => data.startsWith('{')).map((data) => JSON.parse(data) as Json).map((chunk) => chunk.choices?.[0]?.delta?.content ?? '').join('');
        assert.match(text, /Partial words/, body);
        const errorIndex = events.findIndex((data) => data.startsWith('{') && (JSON.parse(data) as Json).error !== undefined);
        assert.ok(errorIndex >= 0, `an error event: ${body}`);
        assert.ok(!events.slice(0, errorIndex).some((data) => data.includes('"finish_reason":"stop"')), `no finished answer before the error: ${body}`);
      });

      test('a rate limit becomes 429 with Retry-After, and the alias moves on to its other target', async () => {
        const { model, turns } = vendor();
        vendor().answer = () => vendor().rateLimit();
        const limited = await post('/v1/chat/completions', { model: model('limited'), messages: [{ role: 'user', content: 'Too many.' }] });
        const body = (await limited.json()) as Json;
        assert.equal(limited.status, 429, JSON.stringify(body));
        assert.equal(body.error.type, 'rate_limit_error');
        assert.ok(Number(limited.headers.get('retry-after')) >= 1, `Retry-After: ${limited.headers.get('retry-after')}`);
        const before = turns().length;
        vendor().answer = (request) => vendor().text('Not limited any more.', request);
        const moved = await post('/v1/chat/completions', { model: rig.fallbackAlias(cli), messages: [{ role: 'user', content: 'Anyone?' }] });
        assert.equal(moved.status, 200);
        assert.equal(moved.headers.get('x-switchyard-provider'), 'api');
        assert.equal(((await moved.json()) as Json).choices[0].message.content, 'Answered by the API fallback.');
        assert.equal(turns().length, before, 'the cooling target was not asked');
      });

      test('a client that leaves mid-stream ends the CLI\'s turn: the upstream request closes, the slot frees', async () => {
        const { model, turns, mock } = vendor();
        vendor().answer = (request) => vendor().stall('The first words ', request);
        const count = turns().length;
        const controller = new AbortController();
        const response = await post('/v1/chat/completions', { model: model(), stream: true, messages: [{ role: 'user', content: 'Talk until I leave.' }] }, controller.signal);
        assert.equal(response.status, 200);
        await readUntil(response, 'The first words');
        const turn = await nextTurn(vendor(), count);
        controller.abort();
        await within(mock.socketClosed(mock.requests.indexOf(turn)), `${cli}'s vendor request to close after the abort`);
        await waitFor(async () => {
          const state = await cliState(vendor().provider);
          return state.running === 0 && state.turns === 0;
        }, 'the turn to end');
      });

      test('concurrency 1, queue_size 1: a third request at once is 429 with Retry-After; the queued one expires after queue_timeout_ms', async () => {
        const { model, turns, provider } = vendor();
        vendor().answer = (request) => vendor().stall('Holding the only turn ', request);
        const count = turns().length;
        const holder = new AbortController();
        const running = await post('/v1/chat/completions', { model: model('queue'), stream: true, messages: [{ role: 'user', content: 'Hold the turn.' }] }, holder.signal);
        try {
          await readUntil(running, 'Holding the only turn');
          await nextTurn(vendor(), count);
          const queued = post('/v1/chat/completions', { model: model('queue'), messages: [{ role: 'user', content: 'Wait for a turn.' }] });
          await waitFor(async () => (await cliState(provider)).queued === 1, 'the second request to wait in the queue');
          // the third, in Anthropic's dialect: the queue is full
          const refused = await post('/v1/messages', { model: model('queue'), max_tokens: 64, messages: [{ role: 'user', content: 'And me?' }] });
          const refusedBody = (await refused.json()) as Json;
          assert.equal(refused.status, 429, JSON.stringify(refusedBody));
          assert.ok(Number(refused.headers.get('retry-after')) >= 1);
          assert.equal(refusedBody.type, 'error');
          assert.equal(refusedBody.error.type, 'rate_limit_error');
          assert.match(refusedBody.error.message, new RegExp(`Provider '${provider}' is busy: its queue is full`));
          // the second, in OpenAI's: no turn came free in time
          const expired = await queued;
          const expiredBody = (await expired.json()) as Json;
          assert.equal(expired.status, 429, JSON.stringify(expiredBody));
          assert.ok(Number(expired.headers.get('retry-after')) >= 1);
          assert.match(expiredBody.error.message, new RegExp(`no turn was free within queue_timeout_ms \\(${QUEUE_TIMEOUT_MS} ms\\)`));
          assert.equal(turns().length, count + 1, 'only the first request reached the CLI');
        } finally {
          holder.abort();
        }
        await waitFor(async () => (await cliState(provider)).running === 0, 'the held turn to end');
      });

      test('llm mode: the model\'s shell call that would create a file runs nothing', async () => {
        const { model, turns } = vendor();
        const target = join(rig.stateDirectory, `pwned-by-${cli}`);
        vendor().answer = (request) => (vendor().hasToolResult(request) ? vendor().text('I could not run that.', request) : vendor().shellCall(`touch ${target}`, request));
        const before = turns().length;
        const outcome = await clients.chat('openai-chat', model(), { turns: [{ role: 'user', text: `Run: touch ${target}` }] }, false);
        // the CLI either answers in text after its tool was refused, or the turn ends as an error; never a file
        if (outcome.status === 200) assert.equal(outcome.text, 'I could not run that.', JSON.stringify(outcome));
        else assert.match(outcome.error?.message ?? '', /nothing ran|tool/i, JSON.stringify(outcome));
        assert.ok(turns().length > before, 'the shell call reached the CLI');
        await sleep(300);
        assert.equal(existsSync(target), false, 'the file was created: a command ran on the host');
      });

      test('the caller\'s own function tools: 400 naming the provider, and no turn runs', async () => {
        const { model, turns, provider } = vendor();
        const before = turns().length;
        const weather = { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };
        const openai = await clients.chat('openai-chat', model(), { turns: [{ role: 'user', text: 'Weather?' }], extra: { tools: [weather] } }, false);
        assert.equal(openai.status, 400, JSON.stringify(openai));
        assert.match(openai.error!.message, new RegExp(`Provider '${provider}' is an agent CLI \\(${cli}\\): it cannot call your own function tools`));
        const anthropic = await clients.chat('anthropic', model(), {
          turns: [{ role: 'user', text: 'Weather?' }], extra: { tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: {} } }] },
        }, true);
        assert.equal(anthropic.status, 400, JSON.stringify(anthropic));
        assert.match(anthropic.error!.message, new RegExp(`Provider '${provider}'`));
        assert.equal(turns().length, before);
      });
    });
  }
});

/** The dialect each CLI's own vendor speaks: the conversation test uses it, for the variety. */
const NATIVE: Record<AgentCliName, Dialect> = { 'claude-code': 'anthropic', codex: 'openai-responses', 'gemini-cli': 'gemini', opencode: 'openai-chat' };

// --- across the CLIs ----------------------------------------------------------------------------

describe('agent CLIs as gateway providers: listing, state, usage, what is left', { skip: unavailable }, () => {
  test('GET /v1/models lists the models each CLI lists itself', async () => {
    const listing = (await (await fetch(`${rig.gateway.url}/v1/models`)).json()) as { data: { id: string; owned_by: string }[] };
    const owned = (provider: string) => listing.data.filter((model) => model.owned_by === provider).map((model) => model.id);
    for (const alias of ['opus', 'sonnet', 'haiku']) assert.ok(owned('claude').includes(alias), `claude: ${owned('claude').join(', ')}`);
    assert.ok(owned('codex').length > 0, 'codex lists its catalogue (model/list)');
    assert.ok(owned('gemini').includes('gemini-2.5-pro'), `gemini: ${owned('gemini').join(', ')}`);
    assert.ok(!owned('gemini').includes('auto'));
    assert.deepEqual(owned('oc').sort(), ['mock/mock-errors', 'mock/mock-gpt', 'mock/mock-limited', 'mock/mock-queue']);
  });

  test('/v1/providers says each CLI runs on its persistent protocol, not one-shot', async () => {
    const expected: Record<string, string> = { claude: 'stream-json', codex: 'app-server', gemini: 'acp', oc: 'http' };
    for (const [provider, protocol] of Object.entries(expected)) {
      const state = await cliState(provider);
      assert.equal(state.protocol, protocol, `${provider}: ${JSON.stringify(state)}`);
      assert.equal(state.fallback_reason, null);
      assert.ok(state.workers >= 1, `${provider} keeps a worker`);
      assert.match(String(state.version), /^\d+\.\d+\.\d+/);
      assert.equal(state.mode, 'llm');
    }
  });

  test('usage is recorded as subscription usage: no cost per token; Claude Code\'s own cost figure apart', async () => {
    type Row = Record<string, number | string | null>;
    const usage = async (): Promise<Record<string, Row>> => {
      const report = (await (await fetch(`${rig.gateway.url}/v0/usage?group_by=provider`)).json()) as { data: Row[] };
      return Object.fromEntries(report.data.map((row) => [String(row.group), row]));
    };
    // rows go through a queue to the store
    await waitFor(async () => {
      const rows = await usage();
      return ['claude', 'codex', 'gemini', 'oc', 'api'].every((name) => Number(rows[name]?.requests ?? 0) > 0);
    }, 'every provider\'s rows');
    const rows = await usage();
    for (const provider of ['claude', 'codex', 'gemini', 'oc']) {
      const row = rows[provider]!;
      assert.ok(Number(row.subscription_requests) >= 10, `${provider}: ${JSON.stringify(row)}`);
      assert.equal(row.cost_usd, 0, `${provider}: a subscription costs nothing per token`);
      assert.ok(Number(row.input_tokens) > 0, `${provider}: tokens counted`);
    }
    assert.ok(Number(rows.claude!.reported_cost_usd) > 0, 'Claude Code reports its own cost');
    assert.equal(rows.api!.subscription_requests, 0);
  });

  test('nothing tried to leave loopback; once the gateway stops, no CLI process is left', async () => {
    assert.deepEqual(rig.sink.attempts, []);
    assert.ok(processesUnder(rig.stateDirectory).length > 0, 'the CLIs ran in the state directory');
    await rig.close();
    await waitFor(() => processesUnder(rig.stateDirectory).length === 0, `no process left under ${rig.stateDirectory}`, 5000);
  });
});
