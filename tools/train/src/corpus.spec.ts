import { describe, expect, it } from 'vitest';
import { bucketOf, loadCorpus, splitCorpus, toMessage } from './corpus';

describe('corpus split', () => {
  const { messages } = loadCorpus();

  it('is deterministic: the same ids land in the same split on every run and in any input order', () => {
    const a = splitCorpus(messages);
    const b = splitCorpus([...messages].reverse());
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(b.test.map((m) => m.id)).toEqual(a.test.map((m) => m.id));
  });

  it('is disjoint, roughly 80/10/10, and keeps no held-out text that is also a training text', () => {
    const s = splitCorpus(messages);
    const ids = [s.train, s.validation, s.test].map((l) => new Set(l.map((m) => m.id)));
    for (const id of ids[2]) expect(ids[0].has(id) || ids[1].has(id)).toBe(false);
    for (const id of ids[1]) expect(ids[0].has(id)).toBe(false);
    expect(s.train.length / messages.length).toBeGreaterThan(0.75);
    expect(s.test.length / messages.length).toBeGreaterThan(0.08);
    const trainTexts = new Set(s.train.map((m) => m.text.toLowerCase().replace(/\s+/g, ' ').trim()));
    expect(s.test.some((m) => trainTexts.has(m.text.toLowerCase().replace(/\s+/g, ' ').trim()))).toBe(false);
  });

  it('buckets by id alone', () => {
    expect(bucketOf('spam-1/00042')).toBe(bucketOf('spam-1/00042'));
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
    expect(new Set(messages.slice(0, 500).map((m) => bucketOf(m.id))).size).toBeGreaterThan(90);
  });

  it('keeps the Subject and drops every other header, so no label-leaking header gets in', () => {
    const m = toMessage({
      id: '00001',
      group: 'spam-1',
      text: 'From spammer@x.org\nX-Spam-Status: Yes, score=10\nReceived: from spamassassin.taint.org\nSubject: Cheap =\n pills\n\n<html><b>Buy</b> now=21</html>',
    });
    expect(m.label).toBe('spam');
    expect(m.text).toContain('Cheap');
    expect(m.text).toContain('Buy now!');
    expect(m.text).not.toMatch(/X-Spam|taint|Received|spammer/i);
  });
});
