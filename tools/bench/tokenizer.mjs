#!/usr/bin/env node
// npm run bench -- tokenizer
// The same 10,000 real texts through (1) the native encodeBatch in-process,
// the limit, and (2) the tokenizer service over gRPC at 32 texts per call and
// 8 calls in flight, first with a cold cache, then warm.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { corpusTexts, ensureBuilt, fmt, freePort, grpc, grpcPackage, percentile, root, runConcurrent, startService, unary } from './_support.mjs';

const require = createRequire(join(root, 'package.json'));
const { Tokenizer } = require('tokenizers');

const TEXTS = 10_000;
const PER_CALL = 32;
const CONCURRENCY = 8;
const MAX_LENGTH = 256;

const repository = process.env.MODEL_REPOSITORY ?? join(root, 'models');
const files = readdirSync(join(repository, 'tokenizers')).filter((f) => f.endsWith('.json'));
if (files.length === 0) throw new Error(`no tokenizer in ${repository}/tokenizers`);
const hash = files[0].slice(0, -5);
const texts = corpusTexts(TEXTS);
const calls = Math.ceil(texts.length / PER_CALL);
const chunk = (i) => texts.slice(i * PER_CALL, (i + 1) * PER_CALL);
console.log(`tokenizer ${hash.slice(0, 12)}, ${texts.length} SpamAssassin paragraphs, ${PER_CALL} texts/call, concurrency ${CONCURRENCY}, max_length ${MAX_LENGTH}`);

// In-process: the same calls straight into the native library.
const tokenizer = Tokenizer.fromFile(join(repository, 'tokenizers', files[0]));
tokenizer.setTruncation(MAX_LENGTH, { direction: 'right' });
await runConcurrent(Math.min(calls, 20), CONCURRENCY, (i) => tokenizer.encodeBatch(chunk(i))); // warm the native pool
// The ids are read out as any caller must; that is part of the limit, not overhead.
const inProcess = await runConcurrent(calls, CONCURRENCY, async (i) => (await tokenizer.encodeBatch(chunk(i))).map((e) => e.getIds()));

ensureBuilt('tokenizer');
const grpcPort = await freePort();
const httpPort = await freePort();
const service = await startService(
  'tokenizer',
  { MODEL_REPOSITORY: repository, TOKENIZER_GRPC_URL: `127.0.0.1:${grpcPort}`, TOKENIZER_HTTP_PORT: String(httpPort), TOKENIZER_HTTP_HOST: '127.0.0.1', REDIS_URL: process.env.BENCH_REDIS_URL ?? '' },
  `http://127.0.0.1:${httpPort}/readyz`,
);
const pkg = grpcPackage(['servable/tokenizer/v1/tokenizer.proto']);
const client = new pkg.servable.tokenizer.v1.TokenizerService(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure());
const encode = (i) => unary(client, 'encode', { tokenizerHash: hash, texts: chunk(i), maxLength: MAX_LENGTH });
// Warm the connection and the process without touching the cache of the measured texts.
await runConcurrent(20, CONCURRENCY, () => unary(client, 'listTokenizers', {}));

const cold = await runConcurrent(calls, CONCURRENCY, encode);
const warm = await runConcurrent(calls, CONCURRENCY, encode);
client.close();
await service.stop();

const rate = (r) => texts.length / r.seconds;
const row = (name, r) =>
  `${name.padEnd(28)} ${fmt(rate(r), 0).padStart(9)} texts/s   p50 ${fmt(percentile(r.latencies, 50), 2).padStart(6)} ms   p99 ${fmt(percentile(r.latencies, 99), 2).padStart(6)} ms`;
console.log('');
console.log(row('in-process encodeBatch', inProcess));
console.log(row('service, cold cache', cold));
console.log(row('service, warm cache (L1)', warm));
console.log('');
console.log(`cold service / in-process: ${fmt(rate(cold) / rate(inProcess), 2)}  (target >= 0.70)`);
console.log(`warm / cold service:       ${fmt(rate(warm) / rate(cold), 2)}  (target >= 2.00)`);
