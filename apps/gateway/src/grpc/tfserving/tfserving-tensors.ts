import { ServableError, utf8Text } from '@servable/contracts';
import { DEFAULT_SIGNATURE, unknownSignature } from '@servable/contracts/http';
import { int64ToNumber, type googleProtobuf, type tensorflow, type tensorflowServing } from '@servable/contracts/grpc';
import type { ModelInput, PredictOutcome } from '../../inference/prediction.types';
import type { ModelManifest, TensorSpec } from '@servable/model-repository';

/** TF Serving's answer to Regress on a model without a regression signature; Servable versions are classifiers. */
export const REGRESS_UNSUPPORTED = 'Expected regression signature method_name to be tensorflow/serving/regress: this model serves classification only';
export const PREDICT_METHOD = 'tensorflow/serving/predict';
export const CLASSIFY_METHOD = 'tensorflow/serving/classify';

export const TEXT_FEATURE = 'text';
const INPUT_IDS = 'input_ids';

const TF_DTYPE: Record<string, tensorflow.DataType> = { int32: 'DT_INT32', int64: 'DT_INT64', float32: 'DT_FLOAT', string: 'DT_STRING' };

/**
 * ModelSpec as it travels. ts-proto types a google.protobuf.Int64Value field as its bare value
 * (stephenh/ts-proto#756: no option turns that off), but proto-loader, like every TF Serving
 * client, has the message `{ value }`. `version` is the only wrapper field in our protos, so it
 * is corrected here rather than by a global protobufjs wrapper that would change every client
 * in the process. `versionChoice` is proto-loader's name of the set oneof member (`oneofs: true`).
 */
type WireModelSpec = Omit<tensorflowServing.ModelSpec, 'version'> & { version?: googleProtobuf.Int64Value | null; versionChoice?: string };

/** model_spec as the request gives it: version and version_label are a oneof. */
export function specSelector(request: tensorflowServing.ModelSpec | null | undefined, { signature = true } = {}): { model: string; version?: number; label?: string } {
  const spec = request as WireModelSpec | null | undefined;
  if (!spec?.name) throw ServableError.invalid('Missing ModelSpec: model_spec.name is required');
  if (signature) checkSignature(spec.signatureName);
  const choice = spec.versionChoice;
  const version = spec.version ? int64ToNumber(spec.version.value, 'model_spec.version') : undefined;
  if (choice === 'version' || (version !== undefined && choice === undefined)) return { model: spec.name, version };
  return { model: spec.name, label: spec.versionLabel || undefined };
}

export function checkSignature(name: string | undefined): void {
  if (name && name !== DEFAULT_SIGNATURE) {
    throw ServableError.invalid(unknownSignature(name));
  }
}

/** The model_spec of an answer: it names the version that actually served. */
export function answeredSpec(model: string, version: number): tensorflowServing.ModelSpec {
  const spec: WireModelSpec = { name: model, version: { value: String(version) }, signatureName: DEFAULT_SIGNATURE };
  return spec as unknown as tensorflowServing.ModelSpec;
}

function dims(key: string, tensor: tensorflow.TensorProto): number[] {
  return (tensor.tensorShape?.dim ?? []).map((d, i) => int64ToNumber(d.size, `${key}: tensor_shape.dim[${i}].size`));
}

function elementCount(shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function int64sFromContent(bytes: Uint8Array, key: string): number[] {
  if (bytes.byteLength % 8 !== 0) throw ServableError.invalid(`${key}: tensor_content of DT_INT64 must be a multiple of 8 bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i < bytes.byteLength; i += 8) out.push(Number(view.getBigInt64(i, true)));
  return out;
}

function int32sFromContent(bytes: Uint8Array, key: string): number[] {
  if (bytes.byteLength % 4 !== 0) throw ServableError.invalid(`${key}: tensor_content of DT_INT32 must be a multiple of 4 bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let i = 0; i < bytes.byteLength; i += 4) out.push(view.getInt32(i, true));
  return out;
}

function textsOf(key: string, tensor: tensorflow.TensorProto): string[] {
  const shape = dims(key, tensor);
  if (shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
    throw ServableError.invalid(`${key}: a DT_STRING input must have shape [batch] or [batch, 1], got [${shape.join(', ')}]`);
  }
  const texts = tensor.stringVal.map((b, i) => utf8Text(b, `${key} string ${i}`));
  if (shape.length > 0 && elementCount(shape) !== texts.length) {
    throw ServableError.invalid(`${key}: shape [${shape.join(', ')}] needs ${elementCount(shape)} strings, got ${texts.length}`);
  }
  return texts;
}

function idsOf(key: string, tensor: tensorflow.TensorProto): number[][] {
  const shape = dims(key, tensor);
  if (shape.length !== 2) throw ServableError.invalid(`${key}: ids must be a [batch, sequence] tensor, got shape [${shape.join(', ')}]`);
  const content = tensor.tensorContent?.byteLength ? tensor.tensorContent : undefined;
  const values =
    tensor.dtype === 'DT_INT32'
      ? content ? int32sFromContent(content, key) : tensor.intVal
      : content ? int64sFromContent(content, key) : tensor.int64Val.map((v, i) => int64ToNumber(v, `${key}: int64_val[${i}]`));
  const [rows, cols] = shape;
  if (values.length !== rows * cols) throw ServableError.invalid(`${key}: shape [${rows}, ${cols}] needs ${rows * cols} values, got ${values.length}`);
  for (const v of values) {
    if (!Number.isSafeInteger(v) || v < 0 || v > 0x7fffffff) throw ServableError.invalid(`${key}: token id ${v} is out of range`);
  }
  return Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols));
}

/**
 * PredictRequest.inputs as model input: texts as one DT_STRING tensor, or
 * already tokenized `input_ids` as a dense DT_INT32/DT_INT64 [batch, sequence]
 * tensor (padded with the tokenizer's pad id, which is dropped again).
 */
export function predictInput(inputs: Record<string, tensorflow.TensorProto>, tokenizer: string | undefined): ModelInput {
  const entries = Object.entries(inputs);
  if (entries.length !== 1) {
    throw ServableError.invalid(`send one input: texts as DT_STRING or "${INPUT_IDS}" as DT_INT32/DT_INT64; got ${entries.length} (${entries.map(([k]) => k).join(', ')})`);
  }
  const [key, tensor] = entries[0];
  if (tensor.dtype === 'DT_STRING') {
    if (key === INPUT_IDS) throw ServableError.invalid(`${INPUT_IDS} must be DT_INT32 or DT_INT64, got DT_STRING`);
    return { kind: 'texts', texts: textsOf(key, tensor) };
  }
  if (tensor.dtype === 'DT_INT32' || tensor.dtype === 'DT_INT64') {
    if (key !== INPUT_IDS) throw ServableError.invalid(`integer input must be named "${INPUT_IDS}", got "${key}"`);
    const rows = idsOf(key, tensor);
    const values = Int32Array.from(rows.flat());
    return { kind: 'ids', ids: { values, rowLengths: rows.map((r) => r.length) }, tokenizer, padded: true };
  }
  throw ServableError.invalid(`input "${key}" has dtype ${tensor.dtype}; expected DT_STRING texts or DT_INT32/DT_INT64 ids`);
}

/** The probabilities as a DT_FLOAT [rows, classes] tensor under the signature's output name. */
export function predictOutputs(outcome: PredictOutcome, outputName: string, filter: string[]): Record<string, tensorflow.TensorProto> {
  // TF Serving's answer to a name asked for twice.
  const repeated = filter.find((name, i) => filter.indexOf(name) !== i);
  if (repeated !== undefined) throw ServableError.invalid(`duplicate output tensor alias: "${repeated}" is in output_filter twice`);
  const unknown = filter.filter((name) => name !== outputName);
  if (unknown.length) throw ServableError.invalid(`output_filter names unknown output(s) ${unknown.join(', ')}; this model has "${outputName}"`);
  return {
    [outputName]: {
      dtype: 'DT_FLOAT',
      tensorShape: { dim: [{ size: String(outcome.rows), name: '' }, { size: String(outcome.classes), name: '' }], unknownRank: false },
      floatVal: Array.from(outcome.probabilities),
    } as tensorflow.TensorProto,
  };
}

export function outputName(manifest: Pick<ModelManifest, 'signature'>): string {
  return manifest.signature.outputs[0]?.name ?? 'probabilities';
}

/** Texts of Classify's examples: each one's "text" bytes feature (or its only bytes feature). */
export function exampleTexts(input: tensorflowServing.Input | null | undefined): string[] {
  const list = input?.exampleList?.examples ?? input?.exampleListWithContext?.examples;
  if (!list?.length) throw ServableError.invalid('Input is empty: send input.example_list with at least one example');
  const context = input?.exampleListWithContext?.context?.features?.feature ?? {};
  return list.map((example, i) => {
    const features = { ...context, ...(example.features?.feature ?? {}) };
    const bytesFeatures = Object.entries(features).filter(([, f]) => f.bytesList?.value?.length);
    const chosen = features[TEXT_FEATURE]?.bytesList?.value?.length ? features[TEXT_FEATURE] : bytesFeatures.length === 1 ? bytesFeatures[0][1] : undefined;
    if (!chosen?.bytesList || chosen.bytesList.value.length !== 1) {
      throw ServableError.invalid(`examples[${i}] must have one "${TEXT_FEATURE}" feature with a single bytes_list value`);
    }
    return utf8Text(chosen.bytesList.value[0], `examples[${i}] text`);
  });
}

function tensorInfo(name: string, t: { dtype: TensorSpec['dtype'] | 'string'; shape: number[] }): tensorflow.TensorInfo {
  return {
    name,
    dtype: TF_DTYPE[t.dtype] ?? 'DT_INVALID',
    tensorShape: { dim: t.shape.map((size) => ({ size: String(size), name: '' })), unknownRank: false },
  };
}

/**
 * servable.json's signature as TF Serving's SignatureDefMap. `serving_default`
 * lists the model's own inputs plus the text input the gateway tokenizes, so a
 * client that reads the signature finds both ways in.
 */
export function signatureDefMap(manifest: ModelManifest): tensorflowServing.SignatureDefMap {
  const inputs: Record<string, tensorflow.TensorInfo> = { [TEXT_FEATURE]: tensorInfo(TEXT_FEATURE, { dtype: 'string', shape: [-1] }) };
  for (const t of manifest.signature.inputs) inputs[t.name] = tensorInfo(t.name, t);
  const outputs = Object.fromEntries(manifest.signature.outputs.map((t) => [t.name, tensorInfo(t.name, t)]));
  return { signatureDef: { [DEFAULT_SIGNATURE]: { inputs, outputs, methodName: PREDICT_METHOD } } };
}

