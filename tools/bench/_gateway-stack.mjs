// Starting a gateway for the benchmarks (gateway.mjs, gateway-ab.mjs): npm start's configuration
// (auth and metrics on, its own embedded control plane unless a database is given) in front of a
// tokenizer and an inference service that are already up.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startService } from './_support.mjs';

/** The admin key every benchmark gateway registers, so each request runs the real key check. */
export const BENCH_KEY = 'svb_bench_admin_key_0123456789abcdef';
export const CLASSIFY_HEADERS = { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` };

/**
 * A gateway at `logLevel` in front of `tokenizer` and `inference` (gRPC addresses), with a
 * control plane of its own: `databaseUrl`, or an embedded PGlite in a fresh data directory that
 * stop() removes. `script` runs another build of the gateway (a main.js) instead of dist/'s.
 */
export async function startGateway({ repository, logLevel, tokenizer, inference, databaseUrl = '', env = {}, script }) {
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'servable-bench-'));
  try {
    const s = await startService(
      'gateway',
      {
        MODEL_REPOSITORY: repository,
        LOG_LEVEL: logLevel,
        GATEWAY_HTTP_PORT: String(httpPort),
        GATEWAY_HTTP_HOST: '127.0.0.1',
        GATEWAY_GRPC_URL: `127.0.0.1:${grpcPort}`,
        TOKENIZER_URL: tokenizer,
        INFERENCE_URL: inference,
        // A control plane of its own (never the one npm start uses) and a real key check on every request.
        DATABASE_URL: databaseUrl,
        SERVABLE_DATA_DIR: dataDir,
        SERVABLE_ADMIN_KEY: BENCH_KEY,
        ...env,
      },
      `http://127.0.0.1:${httpPort}/readyz`,
      { script },
    );
    const stop = async () => {
      await s.stop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    return { ...s, stop, pid: s.child.pid, url: `http://127.0.0.1:${httpPort}` };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The embedded database's process: without DATABASE_URL the gateway forks a PGlite server
 * (libs/persistence pglite-server.ts), whose CPU and memory are the gateway's as much as its own.
 */
export function pgliteServerPid(gatewayPid) {
  const children = readFileSync(`/proc/${gatewayPid}/task/${gatewayPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const found = children.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pglite-child'));
  if (!found) throw new Error(`gateway ${gatewayPid} runs no PGlite server (children: ${children.join(', ') || 'none'})`);
  return found;
}

/**
 * A tokenizer (its own in-process cache, no Redis) and an inference service at `logLevel`, each
 * pushed on `services` as soon as it is up, so the caller's clean-up stops whatever did start.
 */
export async function startDataPlane({ repository, logLevel, workers, backend, services }) {
  const [tokGrpc, tokHttp, infGrpc, infHttp] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const tokenizer = await startService(
    'tokenizer',
    { MODEL_REPOSITORY: repository, LOG_LEVEL: logLevel, REDIS_URL: '', TOKENIZER_GRPC_URL: `127.0.0.1:${tokGrpc}`, TOKENIZER_HTTP_PORT: String(tokHttp), TOKENIZER_HTTP_HOST: '127.0.0.1' },
    `http://127.0.0.1:${tokHttp}/readyz`,
  );
  services.push(tokenizer);
  const inference = await startService(
    'inference',
    { MODEL_REPOSITORY: repository, LOG_LEVEL: logLevel, INFERENCE_GRPC_URL: `127.0.0.1:${infGrpc}`, INFERENCE_HTTP_PORT: String(infHttp), INFERENCE_HTTP_HOST: '127.0.0.1', INFERENCE_WORKERS: String(workers), INFERENCE_BACKEND: backend },
    `http://127.0.0.1:${infHttp}/readyz`,
  );
  services.push(inference);
  return { tokenizer, inference, tokGrpc, infGrpc, infHttp };
}
