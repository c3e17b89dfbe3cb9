// A lean gRPC client for load generation: unary calls framed as HTTP/2 straight onto a TCP
// socket, requests encoded ahead of the measured run, replies decoded with protobufjs.
//
// Why: on a 2-core machine the load generator shares the cores with the service it measures,
// so every microsecond it spends per call is taken from the server. grpc-js costs the client
// about 0.15 ms of CPU per unary call and node:http2 about 0.08 ms; this costs about 0.015 ms,
// in the range of C clients such as h2load, ghz or Triton's perf_analyzer. The wire format is
// plain gRPC (length-prefixed messages, grpc-status in trailers), so the service sees exactly
// what any other client would send.
import { connect } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { HpackDecoder, hpackEncode } from './_hpack.mjs';
import { root } from './_support.mjs';

const require = createRequire(join(root, 'package.json'));
const protobuf = require('protobufjs');

const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 };
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 };
const SETTING = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5 };
const MAX_WINDOW = 2 ** 31 - 1;
const DEFAULT_WINDOW = 65_535;

function frameHeader(length, type, flags, stream) {
  const h = Buffer.allocUnsafe(9);
  h.writeUIntBE(length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return h;
}

class GrpcError extends Error {
  constructor(code, details) {
    super(`gRPC status ${code}: ${details}`);
    this.code = code;
    this.details = details;
  }
}

/**
 * One HTTP/2 connection to `address` (host:port, plaintext). `prepare()` encodes a call once;
 * `call()` sends it and resolves with the decoded reply, or rejects with the gRPC status.
 */
export function leanGrpcClient(address, protoFiles) {
  const proto = new protobuf.Root();
  proto.resolvePath = (_origin, target) => join(root, 'libs/contracts/proto', target);
  proto.loadSync(protoFiles, { keepCase: false });
  proto.resolveAll();

  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = connect(port, host);
  socket.setNoDelay(true);
  const decoder = new HpackDecoder();
  const streams = new Map();
  const waiting = []; // calls held back by the server's stream limit or flow-control window
  let nextStream = 1;
  let sendWindow = DEFAULT_WINDOW; // connection-level, what the server lets us send
  let streamWindow = DEFAULT_WINDOW; // the server's initial per-stream window
  let maxConcurrent = Infinity;
  let maxFrame = 16_384;
  let unacked = 0; // DATA received since we last opened our connection window
  let closed;
  let pending = Buffer.alloc(0);
  let headerBlock; // { stream, flags, parts } while CONTINUATION frames follow

  // Frames written in one event-loop turn go out in one write.
  let corked = false;
  const write = (...buffers) => {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(() => {
        corked = false;
        socket.uncork();
      });
    }
    for (const b of buffers) socket.write(b);
  };

  const settings = (pairs) => {
    const payload = Buffer.alloc(pairs.length * 6);
    pairs.forEach(([id, value], i) => {
      payload.writeUInt16BE(id, i * 6);
      payload.writeUInt32BE(value, i * 6 + 2);
    });
    return [frameHeader(payload.length, FRAME.SETTINGS, 0, 0), payload];
  };
  const windowUpdate = (stream, increment) => {
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(increment);
    return [frameHeader(4, FRAME.WINDOW_UPDATE, 0, stream), payload];
  };
  write(
    Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    ...settings([
      [SETTING.ENABLE_PUSH, 0],
      [SETTING.INITIAL_WINDOW_SIZE, MAX_WINDOW],
    ]),
    ...windowUpdate(0, MAX_WINDOW - DEFAULT_WINDOW),
  );

  const failAll = (error) => {
    closed ??= error;
    for (const s of streams.values()) s.reject(error);
    streams.clear();
    for (const w of waiting.splice(0)) w.reject(error);
  };
  socket.on('error', (err) => failAll(err));
  socket.on('close', () => failAll(new Error(`connection to ${address} closed`)));

  const finish = (id, s) => {
    streams.delete(id);
    const headers = Object.fromEntries(s.headers);
    const status = headers['grpc-status'] === undefined ? undefined : Number(headers['grpc-status']);
    if (status !== 0) {
      const http = headers[':status'];
      const details = headers['grpc-message'] !== undefined ? decodeURIComponent(headers['grpc-message']) : `no grpc-status (HTTP ${http})`;
      s.reject(new GrpcError(status ?? 2, details));
    } else {
      const body = s.data.length === 1 ? s.data[0] : Buffer.concat(s.data);
      if (body.length < 5 || body[0] !== 0) s.reject(new Error('unexpected reply framing (empty or compressed message)'));
      else s.resolve(s.decode(body.subarray(5, 5 + body.readUInt32BE(1))));
    }
    pump();
  };

  const onHeaderBlock = (id, flags, block) => {
    const headers = decoder.decode(block); // always decoded: the dynamic table must stay in step
    const s = streams.get(id);
    if (!s) return;
    s.headers.push(...headers);
    if (flags & FLAG.END_STREAM) finish(id, s);
  };

  const onFrame = (type, flags, id, payload) => {
    switch (type) {
      case FRAME.DATA: {
        unacked += payload.length;
        const s = streams.get(id);
        if (s) s.data.push(Buffer.from(flags & FLAG.PADDED ? payload.subarray(1, payload.length - payload[0]) : payload));
        if (s && flags & FLAG.END_STREAM) finish(id, s);
        // Our windows start at 2^31-1; open them again long before they could run out.
        if (unacked > 2 ** 30) {
          write(...windowUpdate(0, unacked));
          unacked = 0;
        }
        return;
      }
      case FRAME.HEADERS: {
        let start = 0;
        let end = payload.length;
        if (flags & FLAG.PADDED) {
          start = 1;
          end -= payload[0];
        }
        if (flags & FLAG.PRIORITY) start += 5;
        const fragment = payload.subarray(start, end);
        if (flags & FLAG.END_HEADERS) onHeaderBlock(id, flags, fragment);
        else headerBlock = { id, flags, parts: [Buffer.from(fragment)] };
        return;
      }
      case FRAME.CONTINUATION:
        headerBlock.parts.push(Buffer.from(payload));
        if (flags & FLAG.END_HEADERS) {
          const { id: sid, flags: f, parts } = headerBlock;
          headerBlock = undefined;
          onHeaderBlock(sid, f, Buffer.concat(parts));
        }
        return;
      case FRAME.RST_STREAM: {
        const s = streams.get(id);
        if (s) {
          streams.delete(id);
          s.reject(new Error(`stream reset by the server (HTTP/2 error ${payload.readUInt32BE(0)})`));
          pump();
        }
        return;
      }
      case FRAME.SETTINGS:
        if (flags & FLAG.ACK) return;
        for (let i = 0; i + 6 <= payload.length; i += 6) {
          const value = payload.readUInt32BE(i + 2);
          const setting = payload.readUInt16BE(i);
          if (setting === SETTING.MAX_CONCURRENT_STREAMS) maxConcurrent = value;
          else if (setting === SETTING.INITIAL_WINDOW_SIZE) streamWindow = value;
          else if (setting === SETTING.MAX_FRAME_SIZE) maxFrame = value;
        }
        write(frameHeader(0, FRAME.SETTINGS, FLAG.ACK, 0));
        return pump();
      case FRAME.PING:
        if (!(flags & FLAG.ACK)) write(frameHeader(8, FRAME.PING, FLAG.ACK, 0), Buffer.from(payload));
        return;
      case FRAME.WINDOW_UPDATE:
        if (id === 0) sendWindow += payload.readUInt32BE(0) & 0x7fffffff;
        return pump();
      case FRAME.GOAWAY:
        return failAll(new Error(`server sent GOAWAY (HTTP/2 error ${payload.readUInt32BE(4)}): ${payload.subarray(8).toString()}`));
    }
  };

  socket.on('data', (chunk) => {
    const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let offset = 0;
    while (buf.length - offset >= 9) {
      const length = buf.readUIntBE(offset, 3);
      if (buf.length - offset < 9 + length) break;
      onFrame(buf[offset + 3], buf[offset + 4], buf.readUInt32BE(offset + 5) & 0x7fffffff, buf.subarray(offset + 9, offset + 9 + length));
      offset += 9 + length;
    }
    pending = offset === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(offset));
  });

  /** Starts the calls the server's limits allow now; the rest wait for a stream or window to free up. */
  function pump() {
    while (waiting.length && streams.size < maxConcurrent && waiting[0].call.frame.length <= sendWindow) {
      const { call, resolve, reject } = waiting.shift();
      const id = nextStream;
      nextStream += 2;
      sendWindow -= call.frame.length;
      streams.set(id, { headers: [], data: [], decode: call.decode, resolve, reject });
      write(
        frameHeader(call.block.length, FRAME.HEADERS, FLAG.END_HEADERS, id),
        call.block,
        frameHeader(call.frame.length, FRAME.DATA, FLAG.END_STREAM, id),
        call.frame,
      );
    }
  }

  return {
    /** Encodes one call (service as in the proto, method in camelCase) so it can be sent many times. */
    prepare(service, method, message) {
      const svc = proto.lookupService(service);
      const m = svc.methods[method[0].toUpperCase() + method.slice(1)];
      if (!m) throw new Error(`${service} has no method ${method}`);
      const body = m.resolvedRequestType.encode(m.resolvedRequestType.fromObject(message)).finish();
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      if (frame.length > Math.min(maxFrame, streamWindow)) throw new Error(`request of ${frame.length} bytes is larger than one DATA frame`);
      const block = hpackEncode([
        [':method', 'POST'],
        [':scheme', 'http'],
        [':path', `/${svc.fullName.slice(1)}/${m.name}`],
        [':authority', address],
        ['content-type', 'application/grpc'],
        ['te', 'trailers'],
      ]);
      const type = m.resolvedResponseType;
      return { block, frame, decode: (bytes) => type.toObject(type.decode(bytes), { longs: Number, enums: String, defaults: true }) };
    },
    call(prepared) {
      if (closed) return Promise.reject(closed);
      return new Promise((resolve, reject) => {
        waiting.push({ call: prepared, resolve, reject });
        pump();
      });
    },
    close() {
      socket.end();
    },
  };
}
