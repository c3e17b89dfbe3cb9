// Pre-encoded gRPC requests for h2load, which can only POST one fixed body per process.
// A gRPC message on the wire (the body of an HTTP/2 request) is a 5-byte prefix, a
// compressed flag (0: not compressed) and the message length as a big-endian uint32,
// then the protobuf bytes. The protobuf itself comes from the proto files through
// @grpc/proto-loader's serializer, the same one grpc-js clients use.

/** The length-prefixed frame of one uncompressed gRPC message. */
export function grpcFrame(message) {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message.buffer, message.byteOffset, message.byteLength).copy(frame, 5);
  return frame;
}

/** The message inside one frame; throws unless `frame` is exactly one uncompressed gRPC message. */
export function grpcMessage(frame) {
  if (frame.length < 5) throw new Error(`a gRPC frame has a 5-byte prefix; got ${frame.length} bytes`);
  if (frame[0] !== 0) throw new Error(`compressed flag ${frame[0]}: only uncompressed frames are written here`);
  const length = frame.readUInt32BE(1);
  if (frame.length !== 5 + length) throw new Error(`frame says ${length} bytes of message, has ${frame.length - 5}`);
  return frame.subarray(5);
}

/**
 * One request of `service`/`method` (as in the proto, e.g. 'servable.inference.v1.InferenceService', 'Predict')
 * ready for h2load: its HTTP/2 path and its framed body. `definition` is what protoLoader.loadSync returned.
 */
export function grpcRequest(definition, service, method, request) {
  const m = definition[service]?.[method];
  if (!m?.path) throw new Error(`${service}/${method} is not in the loaded protos`);
  return { path: m.path, frame: grpcFrame(m.requestSerialize(request)) };
}
