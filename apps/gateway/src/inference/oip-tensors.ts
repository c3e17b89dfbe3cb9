import { INT32_MAX, ServableError, shownValue } from '@servable/contracts';
import type { ModelManifest } from '@servable/model-repository';
import type { ModelInput } from './prediction.types';

/** An INT32 element as a whole number in range: a float or a string is the wrong dtype. */
function int32(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -INT32_MAX - 1 || value > INT32_MAX) {
    throw ServableError.invalid(`${where} must be an int32 id, got ${shownValue(value)} (wrong dtype)`);
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

/** The one output every version has (servable.json's signature names it so). */
export const OIP_PROBABILITIES_OUTPUT = 'probabilities';

/** What the API reads as ids or texts; INT64 ids arrive as INT32 (ids fit), decoded by each transport. */
const OIP_INPUT_DATATYPES = new Set(['BYTES', 'INT32']);

/**
 * The outputs a request asks for, checked before anything runs, as Triton does: a request for an
 * output the model lacks costs no inference and is counted as the bad request it is.
 */
export function checkRequestedOutputs(outputs: { name: string; parameters?: Record<string, unknown> }[]): void {
  for (const [i, out] of outputs.entries()) {
    if (out.name !== OIP_PROBABILITIES_OUTPUT) {
      throw ServableError.invalid(`outputs[${i}]: unexpected inference output "${out.name}"; this model has "${OIP_PROBABILITIES_OUTPUT}"`);
    }
    if (out.parameters?.['classification'] !== undefined) {
      // Triton's classification extension (tritonclient's class_count): not served, so say so rather than answer FP32 silently.
      throw ServableError.invalid(
        `outputs[${i}]: the classification extension is not supported; read the FP32 "${OIP_PROBABILITIES_OUTPUT}", or use /v1/models/{model}:classify for labels`,
      );
    }
  }
}

export function unacceptedDatatype(name: string, datatype: string): ServableError {
  return ServableError.invalid(`input "${name}": datatype ${datatype} is not accepted; send BYTES texts or INT32/INT64 input_ids (wrong dtype)`);
}

/** Any datatype but texts and ids is refused by name, before its data is looked at. */
function checkInputDatatype(name: string, datatype: string): void {
  if (!OIP_INPUT_DATATYPES.has(datatype)) throw unacceptedDatatype(name, datatype);
}

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

/** Nesting that any tensor of this API could have, with room to spare: deeper JSON is refused, not recursed into. */
const MAX_DATA_DEPTH = 32;

/** Flattens nested JSON arrays (the protocol allows either nested or flat data). */
export function flatten(data: unknown): unknown[] {
  if (!Array.isArray(data)) throw ServableError.invalid('"data" must be a list');
  if (!data.some(Array.isArray)) return data;
  const flat = (data as unknown[]).flat(MAX_DATA_DEPTH);
  if (flat.some(Array.isArray)) throw ServableError.invalid(`"data" is nested more than ${MAX_DATA_DEPTH} lists deep`);
  return flat;
}

/** A BYTES tensor is texts; an INT32 tensor is ids, [n, seq] (padded) or [seq] (one row). */
export function oipModelInput(inputs: OipInput[], tokenizer?: string): ModelInput {
  if (inputs.length !== 1) throw ServableError.invalid(`send exactly one input tensor (BYTES texts or INT32 input_ids), got ${inputs.length}`);
  const [input] = inputs;
  checkInputDatatype(input.name, input.datatype);
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
    default: {
      // INT32 ids: the only other datatype checkInputDatatype lets through.
      const [rows, seq] = input.shape.length === 1 ? [1, input.shape[0]] : input.shape.length === 2 ? input.shape : [-1, -1];
      if (rows < 0) throw ServableError.invalid(`input "${input.name}": INT32 ids must have shape [n, seq] or [seq]`);
      // Checked before the rows are laid out: [n, 0] holds no elements whatever n claims.
      if (rows > 0 && seq === 0) throw ServableError.invalid(`input "${input.name}": shape ${JSON.stringify(input.shape)} has rows of 0 ids; a row needs at least one id`);
      checkInputName(input, OIP_IDS_INPUT);
      const values = Int32Array.from(input.data, (v, i) => int32(v, `input "${input.name}" element ${i}`));
      return { kind: 'ids', ids: { values, rowLengths: Array.from({ length: rows }, () => seq) }, tokenizer, padded: true };
    }
  }
}

/** An OIP version string: empty means the gateway chooses. */
export function oipVersion(version: string | undefined): number | undefined {
  if (!version) return undefined;
  // A version in the path is explicit, as in Triton: "0" names no version, it does not mean "the default".
  if (!/^\d+$/.test(version) || Number(version) < 1) throw ServableError.notFound(`model version "${version}" not found: versions are positive whole numbers`);
  return Number(version);
}
