#!/usr/bin/env node
// The floor for the gateway's HTTP side on this machine: a bare server that reads a classify
// request's JSON body, checks it and answers a classify-shaped JSON, with nothing behind it (no
// tokenizer, inference, auth, metrics or log line). gateway.mjs runs it as a child process with
// the gateway's V8 flags, so the report can say how much of the gateway's CPU any Node HTTP server
// pays per request and how much is the gateway's own work.
//   node-http  node:http alone;
//   fastify    the Fastify the gateway runs on, reading bodies as the gateway does (a buffer,
//              parsed by the handler: apps/gateway/src/http/fastify-adapter.ts), with the
//              gateway's lean AsyncResource#bind (libs/observability), which Fastify calls per body.
// Usage: node http-floor-server.mjs <node-http|fastify> <port>
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { root } from './_support.mjs';

const require = createRequire(join(root, 'package.json'));
const [kind, port] = process.argv.slice(2);
const PATH = '/v1/models/spam:classify';

/** The answer for one body, or undefined when it is not a classify request. */
function classify(body) {
  let request;
  try {
    request = JSON.parse(body);
  } catch {
    return undefined;
  }
  const texts = request?.texts;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((t) => typeof t === 'string')) return undefined;
  return JSON.stringify({
    predictions: texts.map((t) => ({ label: t.length % 2 ? 'spam' : 'ham', scores: { ham: 0.5, spam: 0.5 } })),
    model_version: '2',
  });
}

const listening = () => console.log('listening');
let server;
if (kind === 'node-http') {
  server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const out = req.method === 'POST' && req.url === PATH ? classify(Buffer.concat(chunks).toString('utf8')) : undefined;
      res.writeHead(out === undefined ? 400 : 200, { 'content-type': 'application/json' });
      res.end(out ?? '{"error":"bad request"}');
    });
  });
  server.listen(Number(port), '127.0.0.1', listening);
} else if (kind === 'fastify') {
  require('@swc-node/register');
  require(join(root, 'libs/observability/src/async-resource-bind.ts')).installLeanAsyncResourceBind();
  const app = require('fastify')({ logger: false });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post(PATH, (req, reply) => {
    const out = classify(req.body.toString('utf8'));
    reply.code(out === undefined ? 400 : 200).header('content-type', 'application/json').send(out ?? '{"error":"bad request"}');
  });
  await app.listen({ port: Number(port), host: '127.0.0.1' });
  server = app.server;
  listening();
} else {
  throw new Error(`unknown floor ${kind}: node-http or fastify`);
}
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
