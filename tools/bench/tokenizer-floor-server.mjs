#!/usr/bin/env node
// The floor for the tokenizer service on this machine: a bare grpc-js server
// that answers Encode with the same native encodeBatch and nothing else (no
// Nest, no validation, no cache, no metrics). tokenizer.mjs runs it as a child
// process, beside the real service, so the report can say how much of the gap
// to in-process is gRPC itself and how much is the service.
// Usage: node tokenizer-floor-server.mjs <tokenizer.json> <port> <max_length>
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { grpc, grpcPackage, root } from './_support.mjs';

const require = createRequire(join(root, 'package.json'));
const { Tokenizer } = require('tokenizers');
const [file, port, maxLength] = process.argv.slice(2);
const tokenizer = Tokenizer.fromFile(file);
tokenizer.setTruncation(Number(maxLength), { direction: 'right' });
const pkg = grpcPackage(['servable/tokenizer/v1/tokenizer.proto']);

const server = new grpc.Server({ 'grpc.max_receive_message_length': 32 << 20 });
server.addService(pkg.servable.tokenizer.v1.TokenizerService.service, {
  encode: async (call, callback) => {
    try {
      const rows = (await tokenizer.encodeBatch(call.request.texts)).map((e) => e.getIds());
      const values = new Int32Array(rows.reduce((n, r) => n + r.length, 0));
      let offset = 0;
      for (const r of rows) {
        values.set(r, offset);
        offset += r.length;
      }
      callback(null, {
        tokenizerHash: call.request.tokenizerHash,
        ids: { dtype: 'DATA_TYPE_INT32', values: Buffer.from(values.buffer), rowLengths: rows.map((r) => r.length) },
      });
    } catch (err) {
      callback({ code: grpc.status.INTERNAL, details: String(err) });
    }
  },
});
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  console.log('listening');
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
