// The conversation as the agent-CLI drivers write it (src/agent-clis/transcript.ts): the system
// prompt, the prompt of a turn (a transcript of earlier turns, the new message, media as each CLI's
// rule says) and what a CLI session already holds of a conversation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContentPart, Message } from '../../src/canonical/request.ts';
import {
  dialogueOf, heldAfterAnswer, mediaMarker, promptOf, systemPromptOf, textPromptOf, unseenFrom,
  type Carried, type MediaPart, type MediaPlace,
} from '../../src/agent-clis/transcript.ts';

const say = (role: Message['role'], ...content: (string | ContentPart)[]): Message => ({
  role, content: content.map((part) => (typeof part === 'string' ? { type: 'text', text: part } : part)),
});
const image = (data: string): ContentPart => ({ type: 'image', source: { kind: 'base64', mediaType: 'image/png', data } });

type Block = { kind: 'text'; text: string } | { kind: 'media'; part: MediaPart; place: MediaPlace };
const textBlock = (text: string): Block => ({ kind: 'text', text });
/** A CLI that carries every media part as a block of its own. */
const carryAll = (part: MediaPart, place: MediaPlace): Carried<Block> => ({ block: { kind: 'media', part, place } });
/** A CLI that names media in the transcript and refuses them in the new message. */
const describeOrRefuse = (part: MediaPart, place: MediaPlace): Carried<never> => {
  if (place.inTranscript) return { text: mediaMarker(part) };
  throw new Error(`refused: ${part.type} at messages[${place.message}].content[${place.part}]`);
};

test('system messages are the system prompt, a blank line apart, and leave the dialogue', () => {
  const messages = [say('system', 'One.', 'More of one.'), say('user', 'q'), say('system', ''), say('system', 'Two.')];
  assert.equal(systemPromptOf(messages), 'One.\nMore of one.\n\nTwo.');
  assert.deepEqual(dialogueOf(messages), [say('user', 'q')]);
  assert.equal(systemPromptOf([say('user', 'q')]), undefined);
});

test('a lone message is sent as it is; several new ones a blank line apart', () => {
  assert.equal(textPromptOf([say('user', 'hello')], 0, describeOrRefuse), 'hello');
  assert.equal(textPromptOf([say('user', 'one', 'two'), say('user', 'three')], 0, describeOrRefuse), 'one\ntwo\n\nthree');
  assert.deepEqual(promptOf([], 0, textBlock, carryAll), [], 'nothing to say: each CLI decides');
});

test('earlier turns are a tagged transcript before the new message; reasoning and hosted-tool records are left out', () => {
  const dialogue = [
    say('user', 'I am Ada.'),
    say('assistant', { type: 'reasoning', text: 'private thoughts' }, 'Hi Ada.', { type: 'hosted-tool-result', callId: 'h1', kind: 'web-search', results: [] }),
    say('user', 'Who am I?'),
  ];
  assert.equal(textPromptOf(dialogue, 0, describeOrRefuse),
    'The conversation so far, oldest first:\n\n<user>\nI am Ada.\n</user>\n\n<assistant>\nHi Ada.\n</assistant>\n\nThe user\'s new message:\nWho am I?');
});

test('a prefilled answer (the dialogue ends with the assistant) is all transcript, with the ask to continue it', () => {
  const text = textPromptOf([say('user', 'Count to three.'), say('assistant', 'One, two,')], 0, describeOrRefuse);
  assert.ok(text.endsWith('<assistant>\nOne, two,\n</assistant>\n\nContinue the assistant\'s last message from where it stops.'), text);
});

test('tool calls and results are written as text, errors marked, nested content included', () => {
  const dialogue = [
    say('user', 'Weather?'),
    say('assistant', { type: 'tool-call', id: 'c1', name: 'weather', arguments: '{"city":"Paris"}' }),
    say('tool', { type: 'tool-result', toolCallId: 'c1', content: [{ type: 'text', text: 'sunny' }, image('AAAA')] }),
    say('tool', { type: 'tool-result', toolCallId: 'c2', content: 'timeout', isError: true }),
  ];
  // the results follow the last assistant message: they are the turn's own, and what they carry is in it
  assert.throws(() => textPromptOf(dialogue, 0, describeOrRefuse), /refused: image at messages\[2\]\.content\[0\]/);
  const described = textPromptOf([...dialogue, say('assistant', 'Sunny.'), say('user', 'Thanks')], 0, describeOrRefuse);
  assert.match(described, /<assistant>\n\[called the tool weather with \{"city":"Paris"\}\]\n<\/assistant>/);
  assert.match(described, /<tool_result>\n\[result of the tool call c1: sunny\n\[an image\]\]\n<\/tool_result>/);
  assert.match(described, /\[result of the tool call c2 \(an error\): timeout\]/);
});

test('media: a CLI carries them as blocks where they stood, describes them, or refuses them', () => {
  const dialogue = [say('user', 'Look:', image('A1')), say('assistant', 'A square.'), say('user', image('B2'), 'And this?')];
  const blocks = promptOf(dialogue, 0, textBlock, carryAll);
  assert.deepEqual(blocks.map((block) => (block.kind === 'text' ? block.text : `<${block.place.inTranscript ? 'old' : 'new'} ${block.place.message}:${block.place.part}>`)), [
    'The conversation so far, oldest first:\n\n<user>\nLook:',
    '<old 0:1>',
    '\n</user>\n\n<assistant>\nA square.\n</assistant>\n\nThe user\'s new message:\n',
    '<new 2:0>',
    '\nAnd this?',
  ]);
  assert.throws(() => textPromptOf(dialogue, 0, describeOrRefuse), /refused: image at messages\[2\]\.content\[0\]/);
  assert.equal(textPromptOf(dialogue.slice(0, 2).concat(say('user', 'Colour?')), 0, describeOrRefuse).split('\n')[3], 'Look:');
  assert.match(textPromptOf(dialogue.slice(0, 2).concat(say('user', 'Colour?')), 0, describeOrRefuse), /Look:\n\[an image\]\n<\/user>/);
  assert.equal(mediaMarker({ type: 'file', filename: 'a.pdf', source: { kind: 'url', url: 'http://x' } }), '[a file: a.pdf]');
});

test('a continuing session is sent only what follows its own answer', () => {
  const first = [say('user', 'one')];
  const held = heldAfterAnswer('Be brief.', first);
  const next = [...first, say('assistant', 'answer, as the caller kept it'), say('user', 'two'), say('user', 'three')];
  const from = unseenFrom('Be brief.', next, held);
  assert.equal(from, 2);
  assert.equal(textPromptOf(next, from!, describeOrRefuse), 'two\n\nthree');
  // a third turn continues from the second
  const third = [...next, say('assistant', 'more'), say('user', 'four')];
  assert.equal(unseenFrom('Be brief.', third, heldAfterAnswer('Be brief.', next)), 5);
});

test('an edit to an earlier message, a changed system prompt, or anything but new user messages is a new session', () => {
  const first = [say('user', 'one'), say('assistant', 'a1'), say('user', 'two')];
  const held = heldAfterAnswer(undefined, first);
  const next = [...first, say('assistant', 'a2'), say('user', 'three')];
  assert.equal(unseenFrom(undefined, next, held), 4);
  assert.equal(unseenFrom(undefined, next, undefined), undefined, 'nothing held yet');
  assert.equal(unseenFrom(undefined, [say('user', 'ONE'), ...next.slice(1)], held), undefined, 'an earlier user message edited');
  assert.equal(unseenFrom(undefined, [say('user', 'one', image('X')), ...next.slice(1)], held), undefined, 'an image added to it');
  assert.equal(unseenFrom(undefined, [next[0]!, next[2]!, next[1]!, ...next.slice(3)], held), undefined, 'messages reordered');
  assert.equal(unseenFrom('New rules.', next, held), undefined, 'a system prompt added');
  assert.equal(unseenFrom(undefined, [...first, say('user', 'three')], held), undefined, 'no answer where the session\'s stands');
  assert.equal(unseenFrom(undefined, [...first, say('assistant', 'a2')], held), undefined, 'nothing new (a regenerated answer)');
  assert.equal(unseenFrom(undefined, [...next, say('assistant', 'prefill')], held), undefined, 'a prefilled answer');
  assert.equal(unseenFrom(undefined, [...first, say('assistant', 'a2'), say('user', 'x'), say('assistant', 'injected'), say('user', 'y')], held), undefined, 'an answer the session never gave');
  assert.equal(unseenFrom(undefined, first, held), undefined, 'a shorter history');
  // the wording of answers is not compared: a client's copy of one may differ in form
  assert.equal(unseenFrom(undefined, [say('user', 'one'), say('assistant', ' a1 ', 'joined'), ...next.slice(2)], held), 4);
  // tool results are the caller's side: an edited one is a new session
  const withTool = [say('user', 'q'), say('assistant', { type: 'tool-call', id: 'c', name: 't', arguments: '{}' }), say('tool', { type: 'tool-result', toolCallId: 'c', content: 'r1' })];
  const heldTool = heldAfterAnswer(undefined, withTool);
  const toolNext = (result: string): Message[] => [...withTool.slice(0, 2), say('tool', { type: 'tool-result', toolCallId: 'c', content: result }), say('assistant', 'ok'), say('user', 'next')];
  assert.equal(unseenFrom(undefined, toolNext('r1'), heldTool), 4);
  assert.equal(unseenFrom(undefined, toolNext('r2'), heldTool), undefined);
});
