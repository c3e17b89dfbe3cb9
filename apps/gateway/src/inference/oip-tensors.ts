import { ServableError } from '@servable/contracts';
import type { ModelManifest } from '@servable/model-repository';
import type { ModelInput } from './prediction.types';

/** An INT32 element as a whole number in range: a float or a string is the wrong dtype. */
function int32(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -2_147_483_648 || value > 2_147_483_647) {
    throw ServableError.invalid(`${where} must be an int32 id, got ${JSON.stringify(value)} (wrong dtype)`);
  }
  return value;
}

/** One input tensor of the Open Inference Protocol, decoded from JSON or protobuf. */
export interface OipInput {
  name: string;
  datatype: string;
  shape: number[];
  /** Flattened row-major elements: strings for BYTES, numbers for INT32. */
  data: unknown[];
}

export const OIP_TEXT_INPUT = 'text';
/** The model's own input, as the gateway sends it to inference (servable.json's signature names it so). */
export const OIP_IDS_INPUT = 'input_ids';

/** Triton's answer to an input the model does not have, with the two it does. */
function checkInputName(input: OipInput, expected: string): void {
  if (input.name !== expected) {
    throw ServableError.invalid(
      `unexpected inference input "${input.name}" (${input.datatype}): the model takes "${OIP_TEXT_INPUT}" (BYTES texts) or "${OIP_IDS_INPUT}" (INT32 ids); ${input.datatype} goes in "${expected}"`,
    );
  }
}

/** OIP datatypes by servable.json dtype. */
const OIP_DATATYPE: Record<string, string> = { int32: 'INT32', float32: 'FP32', string: 'BYTES' };

export function oipDatatype(dtype: string): string {
  return OIP_DATATYPE[dtype] ?? dtype.toUpperCase();
}

/** The signature as OIP metadata: raw text (BYTES) is accepted besides the model's own inputs. */
export function oipSignature(manifest: ModelManifest) {
  const tensor = (t: { name: string; dtype: string; shape: number[] }) => ({ name: t.name, datatype: oipDatatype(t.dtype), shape: t.shape });
  return {
    inputs: [{ name: OIP_TEXT_INPUT, datatype: 'BYTES', shape: [-1] }, ...manifest.signature.inputs.map(tensor)],
    outputs: manifest.signature.outputs.map(tensor),
  };
}

/** Flattens nested JSON arrays (the protocol allows either nested or flat data). */
export function flatten(data: unknown): unknown[] {
  if (!Array.isArray(data)) throw ServableError.invalid('"data" must be a list');
  return data.some(Array.isArray) ? (data as unknown[]).flat(Infinity) : data;
}

/** A BYTES tensor is texts; an INT32 tensor is ids, [n, seq] (padded) or [seq] (one row). */
export function oipModelInput(inputs: OipInput[], tokenizer?: string): ModelInput {
  if (inputs.length !== 1) throw ServableError.invalid(`send exactly one input tensor (BYTES texts or INT32 input_ids), got ${inputs.length}`);
  const [input] = inputs;
  const size = input.shape.reduce((a, b) => a * b, 1);
  if (input.shape.some((d) => !Number.isInteger(d) || d < 0)) throw ServableError.invalid(`input "${input.name}": shape ${JSON.stringify(input.shape)} must be non-negative integers`);
  if (size !== input.data.length) {
    throw ServableError.invalid(`input "${input.name}": shape ${JSON.stringify(input.shape)} holds ${size} elements but ${input.data.length} were sent`);
  }
  switch (input.datatype) {
    case 'BYTES': {
      if (input.shape.length > 2 || (input.shape.length === 2 && input.shape[1] !== 1)) {
        throw ServableError.invalid(`input "${input.name}": BYTES texts must have shape [n] or [n, 1]`);
      }
      checkInputName(input, OIP_TEXT_INPUT);
      const texts = input.data.map((t, i) => {
        if (typeof t !== 'string') throw ServableError.invalid(`input "${input.name}": element ${i} is not a string (wrong dtype)`);
        return t;
      });
      return { kind: 'texts', texts };
    }
    case 'INT32': {
      const [rows, seq] = input.shape.length === 1 ? [1, input.shape[0]] : input.shape.length === 2 ? input.shape : [-1, -1];
      if (rows < 0) throw ServableError.invalid(`input "${input.name}": INT32 ids must have shape [n, seq] or [seq]`);
      checkInputName(input, OIP_IDS_INPUT);
      const values = Int32Array.from(input.data, (v, i) => int32(v, `input "${input.name}" element ${i}`));
      return { kind: 'ids', ids: { values, rowLengths: Array.from({ length: rows }, () => seq) }, tokenizer, padded: true };
    }
    default:
      throw ServableError.invalid(`input "${input.name}": datatype ${input.datatype} is not accepted; send BYTES texts or INT32 input_ids (wrong dtype)`);
  }
}

/** An OIP version string: empty means the gateway chooses. */
export function oipVersion(version: string | undefined): number | undefined {
  if (!version) return undefined;
  if (!/^\d+$/.test(version)) throw ServableError.notFound(`model version "${version}" not found: versions are whole numbers`);
  return Number(version);
}
