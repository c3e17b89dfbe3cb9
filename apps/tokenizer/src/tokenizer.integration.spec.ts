import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToInt32, unpackRagged } from '@servable/contracts';
import type { servableTokenizerV1 as v1 } from '@servable/contracts/grpc';
import { loadTokenizerConfig } from './config/tokenizer.config';
import { startTokenizer, type RunningTokenizer } from './tokenizer-server';
import {
  BERT_VOCAB,
  addTokenizer,
  bertTokenizerJson,
  freePort,
  startRedisOrSkip,
  tempRepository,
  tinyTokenizerJson,
  tokenizerClient,
  type TokenizerClient,
} from './testing/tokenizer-fixtures';
import { grpcError, waitFor } from '@servable/observability/testing';

const hasBert = existsSync(BERT_VOCAB);
// Outside CI a missing vocabulary skips the BERT checks; under CI=true they run and fail, so CI never passes without them.
const skipBert = !hasBert && process.env['CI'] !== 'true';
if (skipBert) console.warn(`skipping the bert-base-uncased checks: ${BERT_VOCAB} is not there`);
function requireBert(): void {
  if (!hasBert) throw new Error(`${BERT_VOCAB} is missing: CI runs the bert-base-uncased checks (SERVABLE_TEST_DATA names the folder that holds bert-base-uncased/vocab.txt)`);
}

function rows(reply: v1.EncodeResponse): number[][] {
  return unpackRagged({ values: bytesToInt32(reply.ids!.values), rowLengths: reply.ids!.rowLengths }).map((r) => [...r]);
}

async function start(repository: string, env: Record<string, string> = {}): Promise<{ server: RunningTokenizer; client: TokenizerClient }> {
  const port = await freePort();
  const config = loadTokenizerConfig({
    MODEL_REPOSITORY: repository,
    TOKENIZER_GRPC_URL: `127.0.0.1:${port}`,
    TOKENIZER_HTTP_PORT: '0',
    TOKENIZER_HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    // Nothing routes to a test server, so nothing needs the unready grace before it stops.
    SHUTDOWN_GRACE_MS: '0',
    ...env,
  });
  const server = await startTokenizer(config);
  return { server, client: tokenizerClient(server.grpcUrl) };
}

describe('tokenizer service over gRPC', () => {
  const repository = tempRepository();
  const tinyHash = addTokenizer(repository, tinyTokenizerJson(['spam', 'ham', 'free', 'money', 'hello', 'world']));
  const otherHash = addTokenizer(repository, tinyTokenizerJson(['world', 'hello', 'money', 'free', 'ham', 'spam']));
  let bertHash = '';
  let server: RunningTokenizer;
  let client: TokenizerClient;

  beforeAll(async () => {
    if (hasBert) bertHash = addTokenizer(repository, await bertTokenizerJson());
    ({ server, client } = await start(repository, { REDIS_URL: process.env['REDIS_URL'] ?? '' }));
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
    rmSync(repository, { recursive: true, force: true });
  });

  const encode = (req: Partial<v1.EncodeRequest>) => client.call<v1.EncodeResponse>('encode', req);

  it.skipIf(skipBert)('encodes with the real bert-base-uncased vocabulary exactly as BERT does', async () => {
    requireBert();
    const reply = await encode({ tokenizerHash: bertHash, texts: ['Hello, my dog is cute', 'unaffable'] });
    expect(rows(reply)).toEqual([
      [101, 7592, 1010, 2026, 3899, 2003, 10140, 102],
      [101, 14477, 20961, 3468, 102],
    ]);
    expect(reply.tokenizerHash).toBe(bertHash);
    expect(reply.specialTokens).toMatchObject({ added: true, addedPerRow: 2, padId: 0 });
  });

  it('preloads every tokenizer in the repository and lists them', async () => {
    const list = await client.call<v1.ListTokenizersResponse>('listTokenizers', {});
    const hashes = list.tokenizers.map((t) => t.tokenizerHash).sort();
    expect(hashes).toEqual([tinyHash, otherHash, ...(hasBert ? [bertHash] : [])].sort());
    const tiny = list.tokenizers.find((t) => t.tokenizerHash === tinyHash)!;
    expect(tiny).toMatchObject({ modelType: 'WordPiece', padId: 0, unkId: 1, vocabSize: 11 });
  });

  it('loads idempotently', async () => {
    const again = await client.call<v1.LoadTokenizerResponse>('loadTokenizer', { tokenizerHash: tinyHash });
    expect(again.newlyLoaded).toBe(false);
    expect(again.tokenizer?.tokenizerHash).toBe(tinyHash);
  });

  it('refuses a file whose bytes do not hash to its name', async () => {
    const forged = 'f'.repeat(64);
    writeFileSync(join(repository, 'tokenizers', `${forged}.json`), tinyTokenizerJson(['forged']));
    const err = await grpcError(client.call('loadTokenizer', { tokenizerHash: forged }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toMatch(/hashes to [0-9a-f]{64}, not to its name/);
  });

  it('answers NOT_FOUND for a tokenizer it does not have', async () => {
    const err = await grpcError(encode({ tokenizerHash: 'a'.repeat(64), texts: ['hi'] }));
    expect(err.code).toBe(status.NOT_FOUND);
    expect((await grpcError(client.call('loadTokenizer', { tokenizerHash: 'b'.repeat(64) }))).code).toBe(status.NOT_FOUND);
  });

  it.each([
    ['an empty batch', { texts: [] }, /texts is empty/],
    ['an empty text', { texts: ['ok', ''] }, /texts\[1\] is empty/],
    ['a text over MAX_TEXT_BYTES', { texts: ['x'.repeat(70_000)] }, /texts\[0\] is 70000 bytes, over MAX_TEXT_BYTES 65536/],
    ['too many texts', { texts: Array.from({ length: 1025 }, () => 'a') }, /too many texts: 1025 > MAX_TEXTS_PER_REQUEST 1024/],
    ['a malformed hash', { tokenizerHash: 'nope', texts: ['a'] }, /64 lower-case hex/],
    ['a text that needs truncation when none is allowed', { texts: ['spam spam spam spam'], maxLength: 4, truncation: 'TRUNCATION_NONE' }, /over max_length 4/],
  ])('answers INVALID_ARGUMENT for %s, naming it', async (_what, req, message) => {
    const err = await grpcError(encode({ tokenizerHash: tinyHash, ...req } as Partial<v1.EncodeRequest>));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(message);
  });

  it('encodes unseen characters (emoji, CJK) to [UNK] instead of failing', async () => {
    const reply = await encode({ tokenizerHash: tinyHash, texts: ['free 🤑 money 钱'] });
    expect(rows(reply)).toEqual([[2, 7, 1, 8, 1, 3]]);
  });

  it('truncates to max_length, keeps the special tokens and says which rows it cut', async () => {
    const reply = await encode({ tokenizerHash: tinyHash, texts: ['spam ham free money', 'spam'], maxLength: 4 });
    expect(rows(reply)).toEqual([[2, 5, 6, 3], [2, 5, 3]]);
    expect(reply.specialTokens).toMatchObject({ truncatedRows: 1, truncation: 'TRUNCATION_RIGHT' });
    expect(reply.truncated).toEqual([true, false]);
    // A cut row and a row that fits exactly are the same length: only the flag tells them apart, from the cache too.
    const again = await encode({ tokenizerHash: tinyHash, texts: ['spam ham', 'spam ham free money', 'spam ham'], maxLength: 4 });
    expect(rows(again)).toEqual([[2, 5, 6, 3], [2, 5, 6, 3], [2, 5, 6, 3]]);
    expect(again.cached[1]).toBe(true);
    expect(again.truncated).toEqual([false, true, false]);
    const left = await encode({ tokenizerHash: tinyHash, texts: ['spam ham free money'], maxLength: 4, truncation: 'TRUNCATION_LEFT' });
    expect(rows(left)).toEqual([[2, 7, 8, 3]]);
  });

  it('serves a repeated batch from the cache with identical ids', async () => {
    // A shared Redis (CI) remembers earlier runs: a nonce keeps this batch cold.
    const nonce = `run${Date.now()}${Math.random().toString(36).slice(2)}`;
    const texts = [`hello world, cache me ${nonce}`, `free money now ${nonce}`, `hello world, cache me ${nonce}`];
    const cold = await encode({ tokenizerHash: tinyHash, texts, maxLength: 32 });
    const warm = await encode({ tokenizerHash: tinyHash, texts, maxLength: 32 });
    expect(cold.cacheHits).toBe(0);
    expect(warm.cacheHits).toBe(3);
    // Per text, so a caller that merged requests can count each one's hits.
    expect(cold.cached).toEqual([false, false, false]);
    expect(warm.cached).toEqual([true, true, true]);
    expect(rows(warm)).toEqual(rows(cold));
    expect(warm.specialTokens?.truncatedRows).toBe(cold.specialTokens?.truncatedRows);
  });

  it('never mixes up two tokenizers or two max_lengths for the same text', async () => {
    const text = ['hello world spam'];
    const a = await encode({ tokenizerHash: tinyHash, texts: text });
    const b = await encode({ tokenizerHash: otherHash, texts: text });
    const a2 = await encode({ tokenizerHash: tinyHash, texts: text, maxLength: 3 });
    expect(rows(a)).toEqual([[2, 9, 10, 5, 3]]);
    expect(rows(b)).toEqual([[2, 6, 5, 10, 3]]);
    expect(rows(a2)).toEqual([[2, 9, 3]]);
  });

  it('exposes metrics on the side port', async () => {
    const text = await (await fetch(`${server.httpUrl.replace('0.0.0.0', '127.0.0.1')}/metrics`)).text();
    expect(text).toMatch(/^servable_tokenizer_requests_total\{code="OK"\} \d+/m);
    expect(text).toMatch(/^servable_tokenizer_invalid_inputs_total\{reason="empty_batch"\} 1/m);
    expect(text).toMatch(/^servable_tokenizer_cache_lookups_total\{level="l1",result="hit"\} [1-9]/m);
    expect(text).toMatch(/^servable_tokenizer_requests_in_flight 0/m);
    // No label of ours collides with the scrape target's own labels.
    expect(text).not.toMatch(/service="/);
    expect(text).toMatch(/servable_tokenizer_tokens_per_text_bucket/);
    const ready = await fetch(`${server.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  // After the metrics check: Tokenize's refusals count in the same invalid-input series.
  describe('Tokenize', () => {
    const tokenize = (req: Partial<v1.TokenizeRequest>) => client.call<v1.TokenizeResponse>('tokenize', req);
    /** What BERT's normalizer makes of a source span: lower case, accents stripped. */
    const normalized = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

    it.skipIf(skipBert)('gives BERT tokens with [CLS]/[SEP] and offsets that slice the text, past emoji and accents', async () => {
      requireBert();
      const text = 'Héllo 😀, my dog is cute… naïve 日本';
      const reply = await tokenize({ tokenizerHash: bertHash, texts: [text, 'unaffable'] });
      expect(reply).toMatchObject({ tokenizerHash: bertHash, maxLength: 0, addSpecialTokens: true });
      const [first, second] = reply.texts;
      expect(first.tokens[0]).toMatchObject({ id: 101, token: '[CLS]', special: true, start: 0, end: 0 });
      expect(first.tokens.at(-1)).toMatchObject({ id: 102, token: '[SEP]', special: true });
      for (const t of first.tokens.filter((t) => !t.special)) {
        const source = text.slice(t.start, t.end);
        if (t.unknown) expect(t.token).toBe('[UNK]');
        else expect(normalized(source)).toBe(t.token.replace(/^##/, ''));
      }
      const unknown = first.tokens.find((t) => t.unknown)!;
      expect(text.slice(unknown.start, unknown.end)).toBe('😀');
      expect(first.tokens.map((t) => t.token)).toContain('dog');
      expect(second.tokens.map((t) => [t.id, t.token, t.start, t.end])).toEqual([
        [101, '[CLS]', 0, 0],
        [14477, 'una', 0, 3],
        [20961, '##ffa', 3, 6],
        [3468, '##ble', 6, 9],
        [102, '[SEP]', 0, 0],
      ]);
    });

    it('leaves the special tokens out when asked, and marks truncation', async () => {
      const plain = await tokenize({ tokenizerHash: tinyHash, texts: ['spam ham'], addSpecialTokens: false });
      expect(plain.texts[0].tokens.map((t) => t.token)).toEqual(['spam', 'ham']);
      const cut = await tokenize({ tokenizerHash: tinyHash, texts: ['spam ham free money', 'spam'], maxLength: 4 });
      expect(cut.maxLength).toBe(4);
      expect(cut.texts.map((t) => t.truncated)).toEqual([true, false]);
      expect(cut.texts[0].tokens.map((t) => t.token)).toEqual(['[CLS]', 'spam', 'ham', '[SEP]']);
      // Without the post-processor the native binding reports no overflow; the cut must show all the same.
      const bare = await tokenize({ tokenizerHash: tinyHash, texts: ['spam ham free money', 'spam ham'], maxLength: 2, addSpecialTokens: false });
      expect(bare.texts.map((t) => [t.tokens.map((x) => x.token), t.truncated])).toEqual([
        [['spam', 'ham'], true],
        [['spam', 'ham'], false],
      ]);
    });

    it('never reads or fills the hot-text cache', async () => {
      const text = `free money ${Date.now()}${Math.random().toString(36).slice(2)}`;
      await tokenize({ tokenizerHash: tinyHash, texts: [text] });
      await tokenize({ tokenizerHash: tinyHash, texts: [text] });
      expect((await encode({ tokenizerHash: tinyHash, texts: [text] })).cacheHits).toBe(0);
      expect((await encode({ tokenizerHash: tinyHash, texts: [text] })).cacheHits).toBe(1);
    });

    it.each([
      ['an empty batch', { texts: [] }, /texts is empty/],
      ['an empty text', { texts: ['ok', ''] }, /texts\[1\] is empty/],
      ['too many texts', { texts: Array.from({ length: 1025 }, () => 'a') }, /too many texts/],
    ])('answers INVALID_ARGUMENT for %s, as Encode does', async (_what, req, message) => {
      const err = await grpcError(tokenize({ tokenizerHash: tinyHash, ...req }));
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(err.details).toMatch(message);
    });
  });
});

describe('the Redis cache level', () => {
  it('shares hits between replicas and keeps serving while Redis is stopped', async () => {
    const redis = await startRedisOrSkip();
    if (!redis) return;
    const repository = tempRepository();
    const hash = addTokenizer(repository, tinyTokenizerJson(['spam', 'ham', 'free', 'money']));
    const one = await start(repository, { REDIS_URL: redis.url });
    const two = await start(repository, { REDIS_URL: redis.url });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const texts = ['free money', 'spam ham'];
      const first = await one.client.call<v1.EncodeResponse>('encode', { tokenizerHash: hash, texts });
      expect(first.cacheHits).toBe(0);
      // The write to Redis is off the request path: wait until both entries are there.
      await waitFor('both entries written to Redis', () => redis.keys() >= 2);
      // A second replica has an empty LRU: its hits come from Redis, with identical ids.
      const second = await two.client.call<v1.EncodeResponse>('encode', { tokenizerHash: hash, texts });
      expect(second.cacheHits).toBe(2);
      expect(rows(second)).toEqual(rows(first));

      await redis.stop();
      for (let i = 0; i < 20; i++) {
        const reply = await one.client.call<v1.EncodeResponse>('encode', { tokenizerHash: hash, texts: [`free spam ${i}`] });
        expect(rows(reply)[0][0]).toBe(2);
      }
      const metrics = await (await fetch(`${one.server.httpUrl.replace('0.0.0.0', '127.0.0.1')}/readyz`)).json();
      expect(metrics).toMatchObject({ ready: true, checks: { redis: 'down (serving without it)' } });
    } finally {
      one.client.close();
      two.client.close();
      await one.server.close();
      await two.server.close();
      await redis.stop();
      rmSync(repository, { recursive: true, force: true });
    }
  });
});

describe('tokenizer start-up', () => {
  it('refuses a MODEL_REPOSITORY that does not exist, naming it, instead of serving no tokenizer', async () => {
    const parent = tempRepository();
    const missing = join(parent, 'not-here');
    try {
      await expect(start(missing)).rejects.toThrow(`MODEL_REPOSITORY ${missing} does not exist`);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
