import { ErrorCode, ServableError, bytesToInt32, unpackRagged } from '@servable/contracts';
import { int64ToNumber, type servableInferenceV1 as v1 } from '@servable/contracts/grpc';
import type { TensorSpec } from '@servable/model-repository';


/** What Predict checks a request against, before anything is queued. */
export interface VersionSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  vocabSize: number;
  maxLength: number;
}

const WIRE_DTYPE: Record<string, TensorSpec['dtype'] | undefined> = { DATA_TYPE_INT32: 'int32', DATA_TYPE_FLOAT32: 'float32' };

const describe = (spec: TensorSpec) => `${spec.dtype} [${spec.shape.join(', ')}]`;

/**
 * Checks one request against the signature and returns its rows (unpadded
 * views). Every failure is INVALID_ARGUMENT naming the input, what was
 * expected and what came.
 */
export function validateInputs(signature: VersionSignature, inputs: Record<string, v1.InputTensor>): Int32Array[] {
  const names = Object.keys(inputs ?? {});
  const spec = signature.inputs[0];
  const unknown = names.filter((n) => !signature.inputs.some((s) => s.name === n));
  if (unknown.length) {
    throw ServableError.invalid(`unknown input "${unknown[0]}"; the signature declares ${signature.inputs.map((s) => `"${s.name}"`).join(', ')}`);
  }
  const input = inputs?.[spec.name];
  const rows = input?.dense ? denseRows(spec, input.dense) : input?.ragged ? raggedRows(spec, input.ragged) : undefined;
  if (!rows) throw ServableError.invalid(`input "${spec.name}" is missing; expected ${describe(spec)} as a dense or ragged tensor`);
  if (rows.length === 0) throw ServableError.invalid(`input "${spec.name}" has no rows`);
  checkRows(spec, signature, rows);
  return rows;
}

function checkDtype(spec: TensorSpec, wire: unknown): void {
  const dtype = WIRE_DTYPE[String(wire)];
  if (dtype !== spec.dtype) throw ServableError.invalid(`input "${spec.name}": expected dtype ${spec.dtype}, got ${dtype ?? String(wire)}`);
}

function denseRows(spec: TensorSpec, tensor: { dtype: unknown; shape: string[]; data: Uint8Array }): Int32Array[] {
  checkDtype(spec, tensor.dtype);
  const shape = tensor.shape.map((d, i) => int64ToNumber(d, `input "${spec.name}": dimension ${i}`));
  if (shape.length !== spec.shape.length) {
    throw ServableError.invalid(`input "${spec.name}": expected rank ${spec.shape.length} (${describe(spec)}), got rank ${shape.length} [${shape.join(', ')}]`);
  }
  spec.shape.forEach((dim, i) => {
    if (dim !== -1 && shape[i] !== dim) throw ServableError.invalid(`input "${spec.name}": dimension ${i} must be ${dim}, got ${shape[i]}`);
    if (shape[i] < 0) throw ServableError.invalid(`input "${spec.name}": dimension ${i} is negative (${shape[i]})`);
  });
  const values = bytesToInt32(tensor.data);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) {
    throw ServableError.invalid(`input "${spec.name}": shape [${shape.join(', ')}] needs ${expected} values, got ${values.length}`);
  }
  const [batch, seq] = shape;
  return Array.from({ length: batch }, (_, r) => values.subarray(r * seq, (r + 1) * seq));
}

function raggedRows(spec: TensorSpec, tensor: { dtype: unknown; values: Uint8Array; rowLengths: number[] }): Int32Array[] {
  checkDtype(spec, tensor.dtype);
  if (spec.shape.length !== 2) {
    throw ServableError.invalid(`input "${spec.name}": a ragged tensor is rank 2, but the signature expects ${describe(spec)}`);
  }
  return unpackRagged({ values: bytesToInt32(tensor.values), rowLengths: tensor.rowLengths.map(Number) });
}

function checkRows(spec: TensorSpec, signature: VersionSignature, rows: Int32Array[]): void {
  const fixedLength = spec.shape[1];
  rows.forEach((row, r) => {
    if (row.length === 0) throw ServableError.invalid(`input "${spec.name}": row ${r} is empty`);
    // A fixed length is what each batch is padded to: a shorter row is padded, a longer one cannot fit.
    if (fixedLength !== undefined && fixedLength !== -1 && row.length > fixedLength) {
      throw ServableError.invalid(`input "${spec.name}": dimension 1 is fixed at ${fixedLength}, got ${row.length} ids in row ${r}`);
    }
    if (row.length > signature.maxLength) {
      throw ServableError.invalid(`input "${spec.name}": row ${r} has ${row.length} ids, above max_length ${signature.maxLength}`);
    }
    for (let i = 0; i < row.length; i++) {
      const id = row[i];
      if (id < 0 || id >= signature.vocabSize) {
        throw new ServableError(
          ErrorCode.INVALID_ARGUMENT,
          `input "${spec.name}": ids must be in [0, ${signature.vocabSize}) (the tokenizer's vocabulary), got ${id} at row ${r}, position ${i}`,
        );
      }
    }
  });
}
