import { createHash } from 'node:crypto';
import { normalise, type Label, type Message } from './corpus';

export type ExampleKind = 'message' | 'subject' | 'segment' | 'fragment';

/** One training or evaluation text, and the message it was cut from (the split follows the message). */
export interface Example {
  messageId: string;
  label: Label;
  kind: ExampleKind;
  text: string;
}

/** Body segments per message: a long message must not outweigh a short one. */
export const SEGMENTS_PER_MESSAGE = 4;
const MIN_WORDS = 3;
const MAX_WORDS = 30;
// A sentence shorter than this is joined with the next: "Hi all," or "Thanks." alone says nothing about its message.
const JOIN_BELOW = 6;

// Mailing-list tags such as "[SAtalk]" or "[ILUG]" name the list a ham folder was
// collected from, not what the sender wrote; a subject example keeps the words.
const LIST_TAG = /\[[^\]]{1,40}\]\s*/g;

/** The Subject as a short text of its own, without mailing-list tags; '' when nothing is left. */
export function subjectText(subject: string): string {
  const s = subject.replace(LIST_TAG, ' ').replace(/\s+/g, ' ').trim();
  return /\p{L}/u.test(s) ? s : '';
}

// What follows these lines is not the sender's own text: a signature, a list
// footer, or a forwarded or quoted earlier message.
const TAIL = /^(-- ?|[_=-]{10,}|-+ ?original message ?-+|-+ ?forwarded message ?-+|begin forwarded message:?)$/i;
// Quoted lines and their attribution belong to another message (often of the other class in a reply thread).
const QUOTE = /^\s*(>|\|)|\b(wrote|writes):\s*$/i;

/**
 * Sentences of the sender's own text in reading order, each cut to at most 30
 * words; the e-mail's hard line wraps are joined first, so a sentence is whole.
 */
export function sentences(body: string): string[] {
  const own: string[] = [];
  for (const line of body.split('\n')) {
    const t = line.trim();
    if (TAIL.test(t)) break;
    if (!t || QUOTE.test(t)) continue;
    own.push(t);
  }
  const result: string[] = [];
  let pending: string[] = [];
  const flush = () => {
    if (pending.filter((w) => /\p{L}{2}/u.test(w)).length >= MIN_WORDS) result.push(pending.join(' '));
    pending = [];
  };
  for (const sentence of own.join(' ').split(/(?<=[.!?])\s+(?=["'(]?[\p{Lu}\d])/u)) {
    // base64 or uuencoded parts the corpus left encoded are not text anyone reads.
    const words = sentence.split(/\s+/).filter((w) => w && w.length <= 40);
    for (const w of words) {
      pending.push(w);
      if (pending.length >= MAX_WORDS) flush();
    }
    if (pending.length >= JOIN_BELOW) flush();
  }
  flush();
  return result;
}

const rank = (id: string, i: number) => createHash('sha256').update(`servable-segment:${id}:${i}`).digest().readUInt32BE(0);

/**
 * The short texts of one message: its subject, and up to four body sentences:
 * the first two (how a message opens), and two more picked by a hash of the
 * message id, so the choice repeats on every run.
 */
export function shortTexts(m: Message): Example[] {
  const examples: Example[] = [];
  const subject = subjectText(m.subject);
  if (subject) examples.push({ messageId: m.id, label: m.label, kind: 'subject', text: subject });
  const all = sentences(m.body);
  const rest = all
    .slice(2)
    .map((text, i) => ({ text, r: rank(m.id, i) }))
    .sort((a, b) => a.r - b.r)
    .slice(0, SEGMENTS_PER_MESSAGE - 2)
    .map((s) => s.text);
  for (const text of [...all.slice(0, 2), ...rest]) examples.push({ messageId: m.id, label: m.label, kind: 'segment', text });
  return examples;
}

/**
 * The first 1, 2, 3 and 4 words of a message's opening sentence: what a new user types to try a
 * classifier ("hello", "hi all"). Training never sees them unless --fragments adds one per message;
 * the train tool scores those of held-out messages on every run (printed, not a recorded split).
 */
export function openings(m: Message): Example[] {
  const first = sentences(m.body)[0];
  if (!first) return [];
  const words = first.split(/\s+/);
  return [1, 2, 3, 4].filter((k) => k <= words.length).map((k) => ({ messageId: m.id, label: m.label, kind: 'fragment', text: words.slice(0, k).join(' ') }));
}

/** Experiment (--fragments): one of a training message's openings, its length picked by a hash of the message id. */
export function openingFragment(m: Message): Example[] {
  const all = openings(m);
  return all.length ? [all[rank(m.id, -1) % all.length]] : [];
}

export const wholeMessage = (m: Message): Example => ({ messageId: m.id, label: m.label, kind: 'message', text: m.text });

/**
 * Short texts of held-out messages, without the ones whose normalised text is
 * also a training text (a shared greeting or footer would score for free), and
 * each distinct text once.
 */
export function heldOutShortTexts(messages: Message[], trainTexts: Set<string>): Example[] {
  const seen = new Set(trainTexts);
  const result: Example[] = [];
  for (const e of messages.flatMap(shortTexts)) {
    const key = normalise(e.text);
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(e);
  }
  return result;
}
