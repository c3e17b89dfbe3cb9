import { ServableError } from './servable-error';

// Tensors travel as packed little-endian bytes. Every platform Node runs on
// today is little-endian, so encoding is a zero-copy view; the DataView path
// keeps big-endian hosts correct rather than fast.
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

type Typed = Int32Array | Float32Array;
type TypedCtor<T extends Typed> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; new (length: number): T };

function toBytes(array: Typed, set: (view: DataView, offset: number, value: number) => void): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  const out = Buffer.alloc(array.byteLength);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  array.forEach((v, i) => set(view, i * 4, v));
  return out;
}

function fromBytes<T extends Typed>(
  bytes: Uint8Array,
  Ctor: TypedCtor<T>,
  get: (view: DataView, offset: number) => number,
  what: string,
): T {
  if (bytes.byteLength % 4 !== 0) {
    throw ServableError.invalid(`${what} byte length ${bytes.byteLength} is not a multiple of 4`);
  }
  const length = bytes.byteLength / 4;
  if (LITTLE_ENDIAN) {
    // A typed-array view needs 4-byte alignment; protobuf decoding often hands us an odd offset.
    if (bytes.byteOffset % 4 === 0) return new Ctor(bytes.buffer, bytes.byteOffset, length);
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Ctor(copy.buffer, 0, length);
  }
  const out = new Ctor(length);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < length; i++) out[i] = get(view, i * 4);
  return out;
}

export function int32ToBytes(array: Int32Array): Buffer {
  return toBytes(array, (v, o, x) => v.setInt32(o, x, true));
}

export function bytesToInt32(bytes: Uint8Array): Int32Array {
  return fromBytes(bytes, Int32Array, (v, o) => v.getInt32(o, true), 'int32 tensor');
}

export function float32ToBytes(array: Float32Array): Buffer {
  return toBytes(array, (v, o, x) => v.setFloat32(o, x, true));
}

export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  return fromBytes(bytes, Float32Array, (v, o) => v.getFloat32(o, true), 'float32 tensor');
}

/** Unpadded rows: all values concatenated plus the length of each row. */
export interface Ragged {
  values: Int32Array;
  rowLengths: number[];
}

export function packRagged(rows: ArrayLike<number>[]): Ragged {
  const rowLengths = rows.map((r) => r.length);
  const values = new Int32Array(rowLengths.reduce((a, b) => a + b, 0));
  let offset = 0;
  for (const row of rows) {
    values.set(row, offset);
    offset += row.length;
  }
  return { values, rowLengths };
}

/** Views of each row (no copies). Throws INVALID_ARGUMENT when lengths and values disagree. */
export function unpackRagged({ values, rowLengths }: Ragged): Int32Array[] {
  const total = rowLengths.reduce((a, b) => a + b, 0);
  if (total !== values.length) {
    throw ServableError.invalid(`ragged tensor: row_lengths sum to ${total} but ${values.length} values were sent`);
  }
  const rows: Int32Array[] = [];
  let offset = 0;
  for (const length of rowLengths) {
    rows.push(values.subarray(offset, offset + length));
    offset += length;
  }
  return rows;
}
