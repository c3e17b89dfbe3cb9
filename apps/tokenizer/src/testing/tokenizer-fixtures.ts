import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { WordPiece, Tokenizer, bertNormalizer, bertPreTokenizer, templateProcessing, wordPieceDecoder } from 'tokenizers';
import { sha256Hex } from '@servable/contracts';
import { GRPC_CHANNEL_OPTIONS, loadGrpcObject } from '@servable/contracts/grpc';
import { freePort } from '@servable/observability/testing';

export { freePort };

/**
 * The real bert-base-uncased vocabulary, shipped beside the repository (never committed): in
 * SERVABLE_TEST_DATA when set (.ci/run sets it for a clone made elsewhere), else ../shared/data.
 */
export const BERT_VOCAB = join(process.env['SERVABLE_TEST_DATA'] ?? resolve(__dirname, '../../../../../shared/data'), 'bert-base-uncased/vocab.txt');


/** A temporary model repository with a tokenizers/ folder. */
export function tempRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'servable-tok-'));
  mkdirSync(join(dir, 'tokenizers'));
  return dir;
}

/** Writes tokenizer.json bytes under their sha256 and returns the hash. */
export function addTokenizer(repository: string, json: string): string {
  const hash = sha256Hex(json);
  writeFileSync(join(repository, 'tokenizers', `${hash}.json`), json);
  return hash;
}

/** The standard BERT WordPiece tokenizer: lowercasing BERT normalizer, BERT pre-tokenizer, [CLS] $A [SEP]. */
export async function bertTokenizerJson(vocabPath = BERT_VOCAB): Promise<string> {
  const vocab = readFileSync(vocabPath, 'utf8').split('\n');
  const id = (t: string) => vocab.indexOf(t);
  const tokenizer = new Tokenizer(await WordPiece.fromFile(vocabPath, { unkToken: '[UNK]' }));
  tokenizer.setNormalizer(bertNormalizer({ lowercase: true, cleanText: true, handleChineseChars: true }));
  tokenizer.setPreTokenizer(bertPreTokenizer());
  tokenizer.setPostProcessor(
    templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', [
      ['[CLS]', id('[CLS]')],
      ['[SEP]', id('[SEP]')],
    ]),
  );
  tokenizer.setDecoder(wordPieceDecoder('##'));
  const dir = mkdtempSync(join(tmpdir(), 'bert-'));
  try {
    const file = join(dir, 'tokenizer.json');
    tokenizer.save(file);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A tiny WordPiece tokenizer for tests that must not depend on shared data. */
export function tinyTokenizerJson(words: string[]): string {
  const vocab: Record<string, number> = { '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4 };
  for (const w of words) vocab[w] ??= Object.keys(vocab).length;
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: Object.entries(vocab)
      .slice(0, 5)
      .map(([content, id]) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] },
      },
    },
    decoder: null,
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

export interface TokenizerClient {
  call<T>(method: 'encode' | 'tokenize' | 'loadTokenizer' | 'listTokenizers', request: object, metadata?: grpc.Metadata): Promise<T>;
  close(): void;
}

export function tokenizerClient(url: string): TokenizerClient {
  const pkg = loadGrpcObject(['tokenizer']) as any;
  const client = new pkg.servable.tokenizer.v1.TokenizerService(url, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
  return {
    call: (method, request, metadata = new grpc.Metadata()) =>
      new Promise((res, rej) => client[method](request, metadata, (err: grpc.ServiceError | null, reply: any) => (err ? rej(err) : res(reply)))),
    close: () => client.close(),
  };
}

async function waitForPort(port: number, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((res) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        res(true);
      });
      socket.once('error', () => res(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A throw-away redis-server of our own, so a test may stop it without
 * touching anyone else's. It is daemonized and stopped with SHUTDOWN rather
 * than kept as a child of the test worker.
 */
export type TestRedis = { url: string; keys(): number; pause(ms: number): void; stop(): Promise<void> };

/**
 * startRedis for a test that needs one: undefined (the test returns, with a warning) on a machine
 * without redis-server, but a failure under CI=true, which installs it: never a silent pass there.
 */
export async function startRedisOrSkip(): Promise<TestRedis | undefined> {
  const redis = await startRedis();
  if (redis) return redis;
  if (process.env['CI'] === 'true') throw new Error('no redis-server binary: CI runs the Redis cache level tests');
  console.warn('skipping: no redis-server binary on this machine');
  return undefined;
}

export async function startRedis(): Promise<TestRedis | undefined> {
  const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (!binary) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  execFileSync(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--dir', dir]);
  await waitForPort(port);
  let stopped = false;
  const cli = join(binary, '../redis-cli');
  return {
    url: `redis://127.0.0.1:${port}`,
    keys: () => Number(execFileSync(cli, ['-p', String(port), 'dbsize'], { encoding: 'utf8' }).trim()),
    /** A hung Redis for `ms`: the connections stay up and no command is answered (CLIENT PAUSE, where SIGSTOP would need the daemon's pid). */
    pause: (ms) => void execFileSync(cli, ['-p', String(port), 'client', 'pause', String(ms), 'ALL']),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      execFileSync(cli, ['-p', String(port), 'shutdown', 'nosave']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
