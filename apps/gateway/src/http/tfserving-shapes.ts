import { ServableError } from '@servable/contracts';
import { idsFromRows, textList, textsOrIds } from '../inference/input-parsing';
import type { ModelInput, PredictOutcome } from '../inference/prediction.types';
import { probabilityRows } from '../inference/prediction.service';

const TEXT = 'text';
const INPUT_IDS = 'input_ids';

export type PredictFormat = 'row' | 'columnar';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * TF Serving's predict body: "instances" (row format) or "inputs" (columnar),
 * never both. A row is a text, a list of ids, or an object with "text" or
 * "input_ids"; columnar inputs are the same lists, or an object of named columns.
 */
export function parsePredictBody(body: unknown, headerTokenizer?: string): { input: ModelInput; format: PredictFormat } {
  if (!isObject(body)) throw ServableError.invalid('the body must be a JSON object with "instances" or "inputs"');
  const hasInstances = 'instances' in body;
  const hasInputs = 'inputs' in body;
  if (hasInstances && hasInputs) throw ServableError.invalid('send either "instances" (row format) or "inputs" (columnar format), not both');
  if (!hasInstances && !hasInputs) throw ServableError.invalid('missing "instances" or "inputs"');
  const tokenizer = typeof body['tokenizer'] === 'string' ? (body['tokenizer'] as string) : headerTokenizer;

  if (hasInstances) {
    const instances = body['instances'];
    if (!Array.isArray(instances)) throw ServableError.invalid('"instances" must be a list');
    if (instances.length > 0 && instances.every(isObject)) {
      const rows = instances as Record<string, unknown>[];
      if (rows.every((r) => TEXT in r)) return { format: 'row', input: { kind: 'texts', texts: textList(rows.map((r) => r[TEXT]), 'instances[].text') } };
      if (rows.every((r) => INPUT_IDS in r)) {
        return { format: 'row', input: { kind: 'ids', ids: idsFromRows(rows.map((r) => r[INPUT_IDS]), 'instances[].input_ids'), tokenizer } };
      }
      throw ServableError.invalid(`each instance must name "${TEXT}" or "${INPUT_IDS}", all the same one`);
    }
    return { format: 'row', input: textsOrIds(instances, 'instances', tokenizer) };
  }

  const inputs = body['inputs'];
  if (Array.isArray(inputs)) return { format: 'columnar', input: textsOrIds(inputs, 'inputs', tokenizer) };
  if (isObject(inputs)) {
    if (TEXT in inputs && INPUT_IDS in inputs) throw ServableError.invalid(`send "${TEXT}" or "${INPUT_IDS}", not both`);
    if (TEXT in inputs) return { format: 'columnar', input: { kind: 'texts', texts: textList(inputs[TEXT], 'inputs.text') } };
    if (INPUT_IDS in inputs) return { format: 'columnar', input: { kind: 'ids', ids: idsFromRows(inputs[INPUT_IDS], 'inputs.input_ids'), tokenizer } };
    throw ServableError.invalid(`"inputs" must have "${TEXT}" or "${INPUT_IDS}"`);
  }
  throw ServableError.invalid('"inputs" must be a list or an object of named inputs');
}

/** Row format answers "predictions" (one per instance); columnar answers "outputs". Single output, so no names. */
export function predictResponse(outcome: PredictOutcome, format: PredictFormat): Record<string, unknown> {
  const rows = probabilityRows(outcome);
  const meta = { model_version: String(outcome.version), tokenizer: outcome.tokenizer };
  return format === 'row' ? { predictions: rows, ...meta } : { outputs: rows, ...meta };
}

/** TF Serving's classify body: {"examples": [{"text": "..."}]}. */
export function parseExamples(examples: unknown): string[] {
  if (!Array.isArray(examples)) throw ServableError.invalid('"examples" must be a list');
  return examples.map((e, i) => {
    if (!isObject(e) || typeof e[TEXT] !== 'string') throw ServableError.invalid(`examples[${i}] must be an object with a "${TEXT}" string`);
    return e[TEXT] as string;
  });
}

/** TF Serving's classify answer: {"result": [[[label, score], ...], ...]}. */
export function classifyResultTfServing(outcome: PredictOutcome): { result: [string, number][][] } {
  return { result: probabilityRows(outcome).map((row) => row.map((p, c) => [outcome.labels[c], p] as [string, number])) };
}
