import { ServableError, packRagged, shownValue, utf8Text } from '@servable/contracts';
import type { PredictRequest } from '@servable/contracts/http';
import type { ModelInput, PredictOutcome } from '../inference/prediction.types';
import { probabilityRows } from '../inference/prediction.service';
import { TEXT_FEATURE } from '../grpc/tfserving/tfserving-tensors';

export type PredictFormat = 'row' | 'columnar';

/** Rows as the schema let them through: all texts, all rows of ids, or all objects naming one of the two. */
type Rows = NonNullable<PredictRequest['instances']>;

function rowsInput(rows: Rows, tokenizer: string | undefined): ModelInput {
  const first = rows[0];
  if (first === undefined || typeof first === 'string') return { kind: 'texts', texts: rows as string[] };
  // Rows of ids are read as a dense tensor, as over gRPC and OIP: trailing pad ids are dropped (inference pads per batch).
  if (Array.isArray(first)) return { kind: 'ids', ids: packRagged(rows as number[][]), tokenizer, padded: true };
  if ('text' in first) return { kind: 'texts', texts: (rows as Array<{ text: string }>).map((r) => r.text) };
  return { kind: 'ids', ids: packRagged((rows as Array<{ input_ids: number[] }>).map((r) => r.input_ids)), tokenizer, padded: true };
}

/**
 * TF Serving's predict body, validated by predictRequestSchema: "instances" (row format)
 * or "inputs" (columnar), each texts or int32 ids. The body's tokenizer wins over the header's.
 */
export function parsePredictBody(body: PredictRequest, headerTokenizer?: string): { input: ModelInput; format: PredictFormat } {
  const tokenizer = body.tokenizer ?? headerTokenizer;
  if (body.instances) return { format: 'row', input: rowsInput(body.instances, tokenizer) };
  const inputs = body.inputs ?? [];
  if (Array.isArray(inputs)) return { format: 'columnar', input: rowsInput(inputs, tokenizer) };
  if (inputs.text) return { format: 'columnar', input: { kind: 'texts', texts: inputs.text } };
  return { format: 'columnar', input: { kind: 'ids', ids: packRagged(inputs.input_ids ?? []), tokenizer, padded: true } };
}

/** Row format answers "predictions" (one per instance); columnar answers "outputs". Single output, so no names. */
export function predictResponse(outcome: PredictOutcome, format: PredictFormat): Record<string, unknown> {
  const rows = probabilityRows(outcome);
  const meta = { model_version: String(outcome.version), tokenizer: outcome.tokenizer };
  return format === 'row' ? { predictions: rows, ...meta } : { outputs: rows, ...meta };
}

/** TF Serving's classify answer: {"result": [[[label, score], ...], ...]}. */
export function classifyResultTfServing(outcome: PredictOutcome): { result: [string, number][][] } {
  return { result: probabilityRows(outcome).map((row) => row.map((p, c) => [outcome.labels[c], p] as [string, number])) };
}

/** One feature's text as TF Serving's REST API writes bytes: "text", {"b64": "..."}, or a list of one such value. */
function featureText(value: unknown): string | undefined {
  const one = Array.isArray(value) ? (value.length === 1 ? (value[0] as unknown) : undefined) : value;
  if (typeof one === 'string') return one;
  const b64 = (one as { b64?: unknown } | null)?.b64;
  return typeof b64 === 'string' ? base64Text(b64) : undefined;
}

/** Standard or URL-safe base64, padded or not (what TF Serving's decoder takes). */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A {"b64": ...} value's text: Buffer.from skips what is not base64, so "!!!" read as an empty text. */
function base64Text(b64: string): string {
  const compact = b64.replace(/\s+/g, '');
  if (!BASE64.test(compact)) throw ServableError.invalid(`a {"b64": ...} value is not valid base64: ${shownValue(b64)}`);
  return utf8Text(Buffer.from(compact, 'base64'), 'a {"b64": ...} value');
}

/**
 * The texts of TF Serving's REST classify examples, as gRPC Classify reads its tf.Examples: each
 * example's features over the shared "context", then the "text" feature, or else the one feature
 * that holds a single string.
 */
export function classifyExampleTexts(examples: Record<string, unknown>[], context: Record<string, unknown> = {}): string[] {
  return examples.map((example, i) => {
    const features: Record<string, unknown> = { ...context, ...example };
    const strings = Object.values(features).map(featureText).filter((t) => t !== undefined);
    const chosen = TEXT_FEATURE in features ? featureText(features[TEXT_FEATURE]) : strings.length === 1 ? strings[0] : undefined;
    if (chosen === undefined) throw ServableError.invalid(`examples[${i}] must have one "${TEXT_FEATURE}" feature with a single string value`);
    return chosen;
  });
}
