import { ServableError, bytesToInt32, utf8Text } from '@servable/contracts';
import { int64ToNumber, type inference } from '@servable/contracts/grpc';
import { unacceptedDatatype, type OipInput } from '../inference/oip-tensors';

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
    out.push(utf8Text(buf.subarray(offset, offset + length), `raw BYTES element ${out.length}`));
    offset += length;
  }
  return out;
}

/** INT64 ids as INT32 ids: they are token ids, so any that does not fit is refused by value. */
function int64Ids(values: (string | bigint)[], name: string): number[] {
  return values.map((v, i) => int64ToNumber(typeof v === 'bigint' ? v.toString() : v, `input "${name}" element ${i}`));
}

/** One OIP gRPC input tensor, from typed contents or from its raw_input_contents entry. INT64 ids become INT32 (ids fit). */
export function grpcOipInput(tensor: inference.ModelInferRequest_InferInputTensor, raw: Uint8Array | undefined): OipInput {
  const shape = tensor.shape.map((d, i) => int64ToNumber(d, `input "${tensor.name}": shape[${i}]`));
  const c = tensor.contents;
  let data: unknown[];
  if (raw) {
    // Triton refuses both at once rather than pick one.
    if (c && Object.values(c).some((values) => Array.isArray(values) && values.length > 0)) {
      throw ServableError.invalid(`input "${tensor.name}": contents must not be given when using raw_input_contents`);
    }
    if (tensor.datatype === 'BYTES') data = decodeRawBytes(raw);
    else if (tensor.datatype === 'INT32') data = Array.from(bytesToInt32(raw));
    else if (tensor.datatype === 'INT64') {
      const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      if (buf.length % 8) throw ServableError.invalid(`input "${tensor.name}": INT64 raw contents must be a multiple of 8 bytes`);
      data = int64Ids(Array.from({ length: buf.length / 8 }, (_, i) => buf.readBigInt64LE(i * 8)), tensor.name);
    } else throw unacceptedDatatype(tensor.name, tensor.datatype);
  } else {
    if (tensor.datatype === 'BYTES') data = (c?.bytesContents ?? []).map((b, i) => utf8Text(b, `input "${tensor.name}" element ${i}`));
    else if (tensor.datatype === 'INT32') data = c?.intContents ?? [];
    else if (tensor.datatype === 'INT64') data = int64Ids(c?.int64Contents ?? [], tensor.name);
    else throw unacceptedDatatype(tensor.name, tensor.datatype);
  }
  return { name: tensor.name, datatype: tensor.datatype === 'INT64' ? 'INT32' : tensor.datatype, shape, data };
}
