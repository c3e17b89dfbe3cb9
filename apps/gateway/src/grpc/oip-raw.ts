import { ServableError, bytesToInt32 } from '@servable/contracts';
import { int64ToNumber, type inference } from '@servable/contracts/grpc';
import type { OipInput } from '../inference/oip-tensors';

/** BYTES elements in raw_input_contents: each one a 4-byte little-endian length, then its bytes. */
export function decodeRawBytes(raw: Uint8Array): string[] {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: string[] = [];
  let offset = 0;
  while (offset < buf.length) {
    if (offset + 4 > buf.length) throw ServableError.invalid('raw BYTES contents end inside a length prefix');
    const length = buf.readUInt32LE(offset);
    offset += 4;
    if (offset + length > buf.length) throw ServableError.invalid('raw BYTES contents end inside an element');
    out.push(buf.toString('utf8', offset, offset + length));
    offset += length;
  }
  return out;
}

/** One OIP gRPC input tensor, from typed contents or from its raw_input_contents entry. */
export function grpcOipInput(tensor: inference.ModelInferRequest_InferInputTensor, raw: Uint8Array | undefined): OipInput {
  const shape = tensor.shape.map((d, i) => int64ToNumber(d, `input "${tensor.name}": shape[${i}]`));
  let data: unknown[];
  if (raw) {
    if (tensor.datatype === 'BYTES') data = decodeRawBytes(raw);
    else if (tensor.datatype === 'INT32') data = Array.from(bytesToInt32(raw));
    else data = [];
  } else {
    const c = tensor.contents;
    if (tensor.datatype === 'BYTES') data = (c?.bytesContents ?? []).map((b) => Buffer.from(b).toString('utf8'));
    else if (tensor.datatype === 'INT32') data = c?.intContents ?? [];
    else data = [];
  }
  return { name: tensor.name, datatype: tensor.datatype, shape, data };
}
