#!/usr/bin/env node
// npm run bench -- tokenizer
// The same 10,000 real texts through (1) the native encodeBatch in-process,
// the limit, and (2) the tokenizer service over gRPC at 32 texts per call and
// 8 calls in flight, first with a cold cache, then warm.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { corpusTexts, cpuMeter, ensureBuilt, fmt, freePort, grpc, grpcPackage, percentile, root, runConcurrent, startService, unary } from './_support.mjs';

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
// Texts past the measured 10,000 warm the service up (JIT, the truncating tokenizer instance)
// without putting any measured text in its cache.
const WARMUP_CALLS = 20;
const corpus = corpusTexts(TEXTS + WARMUP_CALLS * PER_CALL);
const texts = corpus.slice(0, TEXTS);
const warmupTexts = corpus.slice(TEXTS);
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
const encoder = (c) => (i) => unary(c, 'encode', { tokenizerHash: hash, texts: chunk(i), maxLength: MAX_LENGTH });
// Warm the connection and the encode path as the in-process run was warmed, on texts that are not measured.
const warmUp = (c) =>
  runConcurrent(WARMUP_CALLS, CONCURRENCY, (i) =>
    unary(c, 'encode', { tokenizerHash: hash, texts: warmupTexts.slice(i * PER_CALL, (i + 1) * PER_CALL), maxLength: MAX_LENGTH }),
  );
/** A run plus the CPU the server process and this load generator spent on it. */
async function measured(pid, task) {
  const cpuUsed = cpuMeter([pid]);
  const r = await runConcurrent(calls, CONCURRENCY, task);
  const [serverCpuMs, clientCpuMs] = cpuUsed();
  return { ...r, serverCpuMs, clientCpuMs };
}
await warmUp(client);
const cold = await measured(service.child.pid, encoder(client));
const warm = await measured(service.child.pid, encoder(client));
client.close();
await service.stop();

// The floor: the same Encode over grpc-js with nothing but encodeBatch behind it.
const floorPort = await freePort();
const floorServer = spawn(process.execPath, [join(root, 'tools/bench/tokenizer-floor-server.mjs'), join(repository, 'tokenizers', files[0]), String(floorPort), String(MAX_LENGTH)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve, reject) => {
  floorServer.stdout.once('data', resolve);
  floorServer.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
});
const floorClient = new pkg.servable.tokenizer.v1.TokenizerService(`127.0.0.1:${floorPort}`, grpc.credentials.createInsecure());
await warmUp(floorClient);
const floor = await measured(floorServer.pid, encoder(floorClient));
floorClient.close();
floorServer.kill('SIGTERM');

const rate = (r) => texts.length / r.seconds;
const perThousand = (ms) => fmt((ms / texts.length) * 1000, 0).padStart(5);
const row = (name, r) =>
  `${name.padEnd(32)} ${fmt(rate(r), 0).padStart(9)} texts/s   p50 ${fmt(percentile(r.latencies, 50), 2).padStart(6)} ms   p99 ${fmt(percentile(r.latencies, 99), 2).padStart(6)} ms` +
  (r.serverCpuMs === undefined ? '' : `   CPU ms per 1,000 texts: server ${perThousand(r.serverCpuMs)}, load generator ${perThousand(r.clientCpuMs)}`);
console.log('');
console.log(row('in-process encodeBatch', inProcess));
console.log(row('service, cold cache', cold));
console.log(row('service, warm cache (L1)', warm));
console.log(row('floor: bare grpc-js + encodeBatch', floor));
console.log('');
console.log(`cold service / in-process: ${fmt(rate(cold) / rate(inProcess), 2)}  (target >= 0.70)`);
console.log(`floor / in-process:        ${fmt(rate(floor) / rate(inProcess), 2)}  (what gRPC alone leaves on this machine; cold service / floor ${fmt(rate(cold) / rate(floor), 2)})`);
console.log(`warm / cold service:       ${fmt(rate(warm) / rate(cold), 2)}  (target >= 2.00)`);
