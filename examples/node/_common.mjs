// Shared by the Node examples: where the gateway is, the key, and a grpc-js client
// built from the repository's .proto files the way any outside client builds one.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

export const URL_BASE = process.env.SERVABLE_URL ?? 'http://127.0.0.1:8501';
export const GRPC_ADDRESS = process.env.SERVABLE_GRPC ?? '127.0.0.1:8500';
export const MODEL = process.env.MODEL ?? 'spam';
// The README exports KEY; SERVABLE_KEY (as the CLI reads it) wins.
const KEY = process.env.SERVABLE_KEY ?? process.env.KEY;

export const authHeaders = () => (KEY ? { authorization: `Bearer ${KEY}` } : {});

export function metadata() {
  const md = new grpc.Metadata();
  if (KEY) md.set('authorization', `Bearer ${KEY}`);
  return md;
}

/** grpc-js stubs for the given files under libs/contracts/proto (snake_case fields, as in the protos). */
export function load(files) {
  const definition = protoLoader.loadSync(files, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    includeDirs: [fileURLToPath(new URL('../../libs/contracts/proto', import.meta.url))],
  });
  return grpc.loadPackageDefinition(definition);
}

export const insecure = () => grpc.credentials.createInsecure();

export function call(client, method, request) {
  return new Promise((resolve, reject) => client[method](request, metadata(), (err, reply) => (err ? reject(err) : resolve(reply))));
}

export async function postJson(path, body, headers = {}) {
  const res = await fetch(`${URL_BASE}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(), ...headers }, body: JSON.stringify(body) });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Runs an example's main, printing failures the way a script should (exit code 1). */
export function main(fn) {
  fn().catch((err) => {
    console.error(err.details ? `${err.code} ${err.details}` : err.message);
    process.exit(1);
  });
}
