import { ServableError, float32ToBytes, utf8Text } from '@servable/contracts';
import { inferRequestSchema, type InferRequest } from '@servable/contracts/http';
import { OIP_PROBABILITIES_OUTPUT, checkRequestedOutputs, flatten, unacceptedDatatype, type OipInput } from '../inference/oip-tensors';
import type { PredictOutcome } from '../inference/prediction.types';
import { restInferenceCall } from '../metrics/refused-requests';
import { parseBody } from './validation.pipe';

/**
 * The OIP binary tensor data extension (what tritonclient.http sends by default):
 * a JSON header of `Inference-Header-Content-Length` bytes, then each tensor
 * with `parameters.binary_data_size` as raw bytes, in the order of the inputs.
 */
export const INFERENCE_HEADER = 'inference-header-content-length';

export interface InferBody {
  json: InferRequest;
  /** The bytes after the JSON header (empty for a plain JSON request). */
  binary: Buffer;
}

/**
 * A raw body split at the header length; a JSON body (already parsed) as is. Either way the
 * JSON goes through inferRequestSchema here: the validation pipe sees a binary request as bytes.
 */
export function splitInferBody(body: unknown, headerLength: string | string[] | undefined): InferBody {
  if (!Buffer.isBuffer(body)) return { json: parseBody(inferRequestSchema, body), binary: Buffer.alloc(0) };
  const text = Array.isArray(headerLength) ? headerLength[0] : headerLength;
  if (!text || !/^\d+$/.test(text)) throw ServableError.invalid(`${INFERENCE_HEADER} must be a whole number of bytes, got "${text ?? ''}"`);
  const length = Number(text);
  if (length > body.length) throw ServableError.invalid(`${INFERENCE_HEADER} is ${length}, but the body has only ${body.length} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, length).toString('utf8'));
  } catch {
    throw ServableError.invalid(`malformed JSON in the first ${length} bytes (${INFERENCE_HEADER})`);
  }
  return { json: parseBody(inferRequestSchema, json), binary: body.subarray(length) };
}

/** BYTES elements: each a 4-byte little-endian length, then its bytes. */
export function decodeBinaryStrings(raw: Buffer, name: string): string[] {
  const out: string[] = [];
  let offset = 0;
  while (offset < raw.length) {
    if (offset + 4 > raw.length) throw ServableError.invalid(`input "${name}": binary BYTES data ends inside a length prefix`);
    const length = raw.readUInt32LE(offset);
    offset += 4;
    if (offset + length > raw.length) throw ServableError.invalid(`input "${name}": binary BYTES data ends inside an element`);
    out.push(utf8Text(raw.subarray(offset, offset + length), `input "${name}" element ${out.length}`));
    offset += length;
  }
  return out;
}

export function encodeBinaryStrings(texts: string[]): Buffer {
  return Buffer.concat(
    texts.flatMap((t) => {
      const bytes = Buffer.from(t, 'utf8');
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32LE(bytes.length);
      return [prefix, bytes];
    }),
  );
}

function decodeBinary(raw: Buffer, datatype: string, name: string): unknown[] {
  switch (datatype) {
    case 'BYTES':
      return decodeBinaryStrings(raw, name);
    case 'INT32':
      if (raw.length % 4) throw ServableError.invalid(`input "${name}": INT32 binary data must be a multiple of 4 bytes`);
      return Array.from({ length: raw.length / 4 }, (_, i) => raw.readInt32LE(i * 4));
    case 'INT64':
      if (raw.length % 8) throw ServableError.invalid(`input "${name}": INT64 binary data must be a multiple of 8 bytes`);
      return Array.from({ length: raw.length / 8 }, (_, i) => Number(raw.readBigInt64LE(i * 8)));
    default:
      throw unacceptedDatatype(name, datatype);
  }
}

/** The request's input tensors, from JSON `data` or from the binary tail. INT64 ids become INT32 (ids fit). */
export function parseInferInputs({ json, binary }: InferBody): OipInput[] {
  let offset = 0;
  const parsed = json.inputs.map(({ name, datatype, shape, data: jsonData, parameters }): OipInput => {
    const size = parameters?.binary_data_size;
    if (size === undefined) {
      const data = flatten(jsonData);
      return datatype === 'INT64' ? { name, datatype: 'INT32', shape, data } : { name, datatype, shape, data };
    }
    if (jsonData !== undefined) throw ServableError.invalid(`input "${name}" has both "data" and binary_data_size`);
    if (offset + size > binary.length) throw ServableError.invalid(`input "${name}": binary_data_size ${size} runs past the end of the body`);
    const data = decodeBinary(binary.subarray(offset, offset + size), datatype, name);
    offset += size;
    return { name, datatype: datatype === 'INT64' ? 'INT32' : datatype, shape, data };
  });
  if (offset !== binary.length) throw ServableError.invalid(`the body has ${binary.length - offset} bytes after the last binary input`);
  return parsed;
}

/** Whether the outputs go as binary data; which outputs may be asked for is checkRequestedOutputs'. */
export function requestedOutputs(json: InferRequest): { binary: boolean } {
  const outputs = json.outputs ?? [];
  checkRequestedOutputs(outputs);
  let binary = json.parameters?.['binary_data_output'] === true;
  for (const out of outputs) {
    const flag = out.parameters?.['binary_data'];
    if (flag !== undefined) binary = flag === true;
  }
  return { binary };
}

export interface InferAnswer {
  json: Record<string, unknown>;
  /** Set when the output goes as binary data: the bytes after the JSON. */
  binary?: Buffer;
}

/** The infer answer: FP32 probabilities as JSON `data`, or as binary data when the request asked so. */
export function inferAnswer(outcome: PredictOutcome, json: InferRequest, binaryOutput: boolean): InferAnswer {
  const base = {
    model_name: outcome.model,
    model_version: String(outcome.version),
    ...(json.id !== undefined ? { id: json.id } : {}),
    parameters: { tokenizer: outcome.tokenizer },
  };
  const tensor = { name: OIP_PROBABILITIES_OUTPUT, datatype: 'FP32', shape: [outcome.rows, outcome.classes] };
  if (!binaryOutput) return { json: { ...base, outputs: [{ ...tensor, data: Array.from(outcome.probabilities) }] } };
  const binary = Buffer.from(float32ToBytes(outcome.probabilities));
  return { json: { ...base, outputs: [{ ...tensor, parameters: { binary_data_size: binary.length } }] }, binary };
}

/** Requests whose body is read raw: an OIP infer that carries the binary extension's header (elsewhere the header means nothing). */
export function isBinaryInferRequest(req: { url: string; headers: Record<string, string | string[] | undefined> }): boolean {
  return req.headers[INFERENCE_HEADER] !== undefined && restInferenceCall(req.url)?.api === 'oip';
}
