// The small pieces behind agent-CLI providers: the turn queue (a bounded semaphore with a deadline),
// conversation ids, and the collection of stream parts into one answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedSemaphore, type SemaphoreWaiter } from '../../src/util/bounded-semaphore.ts';
import { ConversationTracker } from '../../src/pipeline/conversations.ts';
import { ResponseCollector } from '../../src/pipeline/response-collector.ts';
import type { CanonicalRequest, Message } from '../../src/canonical/request.ts';
import { findOnPath } from '../../src/util/find-on-path.ts';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

class Waiter implements SemaphoreWaiter {
  events: string[] = [];
  granted(): void {
    this.events.push('granted');
  }
  expired(): void {
    this.events.push('expired');
  }
}

test('semaphore: slots first, then a FIFO queue up to its size, then full', () => {
  const semaphore = new BoundedSemaphore(2, 2, 60_000);
  const waiters = Array.from({ length: 5 }, () => new Waiter());
  assert.deepEqual(waiters.map((waiter) => semaphore.acquire(waiter)), ['granted', 'granted', 'queued', 'queued', 'full']);
  assert.equal(semaphore.active, 2);
  assert.equal(semaphore.queued, 2);
  semaphore.release();
  assert.deepEqual(waiters[2]!.events, ['granted']);
  assert.deepEqual(waiters[3]!.events, []);
  assert.equal(semaphore.active, 2);
  assert.equal(semaphore.leave(waiters[3]!), true, 'a waiter that goes leaves the queue');
  assert.equal(semaphore.leave(waiters[3]!), false);
  semaphore.release();
  semaphore.release();
  assert.equal(semaphore.active, 0);
  assert.deepEqual(waiters[3]!.events, []);
});

test('semaphore: a newcomer never jumps the queue', () => {
  const semaphore = new BoundedSemaphore(1, 4, 60_000);
  const [a, b] = [new Waiter(), new Waiter()];
  assert.equal(semaphore.acquire(a), 'granted');
  assert.equal(semaphore.acquire(b), 'queued');
  semaphore.setLimits(1, 4, 60_000);
  assert.equal(semaphore.acquire(new Waiter()), 'queued');
  semaphore.drain();
});

test('semaphore: waiters past their deadline expire and leave the queue; a raised limit lets waiters in', async () => {
  const semaphore = new BoundedSemaphore(1, 4, 20);
  const holder = new Waiter();
  const late = new Waiter();
  semaphore.acquire(holder);
  semaphore.acquire(late);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual(late.events, ['expired']);
  assert.equal(semaphore.queued, 0);
  const next = new Waiter();
  semaphore.setLimits(1, 4, 60_000);
  semaphore.acquire(next);
  semaphore.setLimits(2, 4, 60_000);
  assert.deepEqual(next.events, ['granted']);
  semaphore.release();
  semaphore.release();
});

test('semaphore: drain tells every waiter its wait is over', () => {
  const semaphore = new BoundedSemaphore(1, 4, 60_000);
  semaphore.acquire(new Waiter());
  const waiting = [new Waiter(), new Waiter()];
  for (const waiter of waiting) semaphore.acquire(waiter);
  semaphore.drain();
  assert.deepEqual(waiting.map((waiter) => waiter.events), [['expired'], ['expired']]);
});

const text = (role: Message['role'], value: string): Message => ({ role, content: [{ type: 'text', text: value }] });
const request = (...messages: Message[]): CanonicalRequest => ({ model: 'm', messages, sampling: {}, stream: false });

test('conversations: a continuation keeps the id; a repeat, an edit or another session gets another', () => {
  const tracker = new ConversationTracker();
  const first = [text('system', 'S'), text('user', 'one')];
  const second = [...first, text('assistant', 'A'), text('user', 'two')];
  const t1 = tracker.begin(request(...first), undefined);
  t1.settle('done');
  const t2 = tracker.begin(request(...second), undefined);
  assert.equal(t2.id, t1.id);
  t2.settle('done');
  const repeat = tracker.begin(request(...second), undefined);
  assert.notEqual(repeat.id, t1.id, 'the same messages again cannot continue the session');
  repeat.settle('done');
  const edited = tracker.begin(request(...first, text('assistant', 'A'), text('user', 'three')), undefined);
  assert.notEqual(edited.id, repeat.id);
  edited.settle('done');
  const other = tracker.begin(request(...first), 'session-x');
  assert.ok(other.id !== undefined && ![t1.id, repeat.id, edited.id].includes(other.id));
  other.settle('done');
  assert.equal(tracker.size, 2);
});

test('conversations: a failed turn ends its generation; a busy conversation gives a one-off turn (no id)', () => {
  const tracker = new ConversationTracker();
  const first = [text('user', 'one')];
  const busy = tracker.begin(request(...first), undefined);
  const meanwhile = tracker.begin(request(...first, text('assistant', 'A'), text('user', 'two')), undefined);
  assert.equal(meanwhile.id, undefined, 'one CLI session never runs two turns at once');
  meanwhile.settle('done');
  busy.settle('failed');
  const retried = tracker.begin(request(...first), undefined);
  assert.ok(retried.id !== undefined && retried.id !== busy.id, 'the session may hold half a turn: a fresh one');
  retried.settle('unused');
  const again = tracker.begin(request(...first), undefined);
  assert.equal(again.id, retried.id, 'a turn that never ran changes nothing');
});

test('conversations: bounded, least recently used first', () => {
  const tracker = new ConversationTracker(3);
  for (let i = 0; i < 10; i++) tracker.begin(request(text('user', `q${i}`)), undefined).settle('done');
  assert.equal(tracker.size, 3);
});

test('collector: parts become one answer, blocks in order, usage merged', () => {
  const collector = new ResponseCollector('fallback-model');
  collector.push({ type: 'response-start', id: 'r1', model: 'sonnet', created: 5 });
  collector.push({ type: 'reasoning-start', index: 0 });
  collector.push({ type: 'reasoning-delta', index: 0, delta: 'think' });
  collector.push({ type: 'reasoning-delta', index: 0, delta: 'ing' });
  collector.push({ type: 'reasoning-signature', index: 0, signature: 'sig' });
  collector.push({ type: 'reasoning-end', index: 0 });
  collector.push({ type: 'text-start', index: 1 });
  collector.push({ type: 'text-delta', index: 1, delta: 'Hel' });
  collector.push({ type: 'text-delta', index: 1, delta: 'lo' });
  collector.push({ type: 'text-end', index: 1 });
  collector.push({ type: 'usage', usage: { inputTokens: 3, outputTokens: 2 } });
  const response = collector.finish({ type: 'response-end', finishReason: 'stop', usage: { inputTokens: 3, outputTokens: 4, reasoningTokens: 1 } }, 'x');
  assert.deepEqual(response, {
    id: 'r1', model: 'sonnet', created: 5, finishReason: 'stop',
    content: [{ type: 'reasoning', text: 'thinking', signature: 'sig' }, { type: 'text', text: 'Hello' }],
    usage: { inputTokens: 3, outputTokens: 4, reasoningTokens: 1 },
  });
  const bare = new ResponseCollector('m').finish({ type: 'response-end', finishReason: 'length' }, 'fallback-id');
  assert.equal(bare.id, 'fallback-id');
  assert.equal(bare.model, 'm');
  assert.deepEqual(bare.usage, { inputTokens: 0, outputTokens: 0 });
});

test('findOnPath: a name in PATH order, an executable path as given, nothing otherwise', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'swy-path-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const executable = join(root, 'tool');
  writeFileSync(executable, '#!/bin/sh\n');
  chmodSync(executable, 0o755);
  writeFileSync(join(root, 'plain'), 'not executable');
  assert.equal(findOnPath('tool', `/nonexistent:${root}`), executable);
  assert.equal(findOnPath(executable, ''), executable);
  assert.equal(findOnPath('plain', root), undefined);
  assert.equal(findOnPath('tool', undefined), undefined);
  assert.equal(findOnPath('missing', root), undefined);
});
