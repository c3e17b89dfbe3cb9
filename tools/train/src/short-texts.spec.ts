import { describe, expect, it } from 'vitest';
import { loadCorpus, normalise, splitCorpus, toMessage } from './corpus';
import { heldOutShortTexts, openingFragment, openings, sentences, shortTexts, subjectText, wholeMessage } from './short-texts';

describe('short texts', () => {
  const split = splitCorpus(loadCorpus().messages);

  it('turns a message into its subject without list tags and its own sentences, never quoted ones', () => {
    const m = toMessage({
      id: '00007',
      group: 'easy-ham-1',
      text: [
        'Subject: Re: [ILUG] Lunch on Thursday?',
        '',
        'Hi all, are we still on for Thursday?',
        'I can book a table for six people at noon.',
        '> Bob wrote: this quoted line belongs to another message.',
        'See you there.',
        '-- ',
        'Alice, signature text that is not part of the message.',
      ].join('\n'),
    });
    const texts = shortTexts(m);
    expect(texts[0]).toEqual({ messageId: 'easy-ham-1/00007', label: 'ham', kind: 'subject', text: 'Re: Lunch on Thursday?' });
    expect(texts.slice(1).map((t) => t.text)).toEqual(['Hi all, are we still on for Thursday?', 'I can book a table for six people at noon.', 'See you there.']);
    expect(texts.every((t) => t.label === 'ham')).toBe(true);
    expect(texts.map((t) => t.text).join(' ')).not.toMatch(/quoted|signature/);
  });

  it('gives the first 1 to 4 words of the opening sentence as openings, and one of them, by the id, as the --fragments example', () => {
    const m = toMessage({ id: '00008', group: 'spam-1', text: 'Subject: offer\n\nHello friend, we have a deal for you today.\nSecond sentence here.' });
    expect(openings(m).map((o) => [o.kind, o.label, o.text])).toEqual([
      ['fragment', 'spam', 'Hello'],
      ['fragment', 'spam', 'Hello friend,'],
      ['fragment', 'spam', 'Hello friend, we'],
      ['fragment', 'spam', 'Hello friend, we have'],
    ]);
    const picked = openingFragment(m);
    expect(picked).toHaveLength(1);
    expect(openings(m)).toContainEqual(picked[0]);
    expect(openingFragment(m)).toEqual(picked);
    expect(openings(toMessage({ id: '00009', group: 'easy-ham-1', text: 'Subject: empty\n\n' }))).toEqual([]);
  });

  it('cuts long sentences to 30 words, drops base64 runs, and keeps at most four sentences per message', () => {
    const long = Array.from({ length: 70 }, (_, i) => `word${i}`).join(' ');
    expect(sentences(long).map((s) => s.split(' ').length)).toEqual([30, 30, 10]);
    expect(sentences('PCFET0NUWVBFIEhUTUwgUFVCTElDICItLy9XM0MvL0RURCBIVE1MIDQuMDEg VHJhbnNpdGlvbmFsLy9FTiI+DQo8aHRtbD4NCjxoZWFkPg0KPHRpdGxlPkFk')).toEqual([]);
    expect(subjectText('[SAtalk] [2]')).toBe('');
    for (const m of split.train.slice(0, 300)) expect(shortTexts(m).filter((t) => t.kind === 'segment').length).toBeLessThanOrEqual(4);
  });

  it('picks the same sentences whatever the order of the messages: the choice hashes the message id, nothing else', () => {
    const sample = split.test.slice(0, 50);
    const a = sample.map((m) => shortTexts(m));
    const b = [...sample].reverse().map((m) => shortTexts({ ...m })).reverse();
    expect(b).toEqual(a);
  });

  it('keeps the split by message: a held-out short text comes from a held-out message and is no training text', () => {
    const train = [...split.train.map(wholeMessage), ...split.train.flatMap(shortTexts)];
    const trainTexts = new Set(train.map((e) => normalise(e.text)));
    const trainIds = new Set(split.train.map((m) => m.id));
    const testIds = new Set(split.test.map((m) => m.id));
    const held = heldOutShortTexts(split.test, trainTexts);
    expect(held.length).toBeGreaterThan(3 * split.test.length);
    for (const e of held) {
      expect(testIds.has(e.messageId)).toBe(true);
      expect(trainIds.has(e.messageId)).toBe(false);
      expect(trainTexts.has(normalise(e.text))).toBe(false);
    }
    expect(new Set(held.map((e) => normalise(e.text))).size).toBe(held.length);
    expect(held.some((e) => e.kind === 'subject') && held.some((e) => e.label === 'spam')).toBe(true);
  });
});
