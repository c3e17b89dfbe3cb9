import { z } from 'zod';
import { PATH } from '../validation';
import { allObjects, idRow, idRows, jsonObject, signatureName, text, texts, tokenizerHash } from './fields';

const MIXED = `${PATH} must be all texts (strings) or all rows of int32 ids (lists of integers)`;

/** A row that names its input: {"text": ...} or {"input_ids": [...]}, one of the two (a second key is refused, not dropped). */
const textInstance = z.strictObject({ text });
const idsInstance = z.strictObject({ input_ids: idRow });

/** Row format: texts, rows of ids, or objects naming one of the two, all of one kind. */
const instances = z
  .union([z.array(text), z.array(idRow), z.array(textInstance), z.array(idsInstance)], {
    error: (iss) =>
      !Array.isArray(iss.input) ? '"instances" must be a list' : allObjects(iss.input) ? 'each instance must be {"text": ...} or {"input_ids": [...]}, all of one kind' : MIXED,
  })
  .meta({ example: ['free money now'] });

/** Named columns: {"text": [...]} or {"input_ids": [[...]]}. */
const columns = z
  .object({ text: texts.optional(), input_ids: idRows.optional() })
  .superRefine((c, ctx) => {
    if (c.text !== undefined && c.input_ids !== undefined) ctx.addIssue({ code: 'custom', message: 'send "text" or "input_ids", not both' });
    if (c.text === undefined && c.input_ids === undefined) ctx.addIssue({ code: 'custom', message: '"inputs" must have "text" or "input_ids"' });
  });

/** Columnar format: a list (texts or rows of ids) or an object of named inputs. */
const inputs = z.union([z.array(text), z.array(idRow), columns], {
  error: (iss) => (Array.isArray(iss.input) ? MIXED : '"inputs" must be a list or an object of named inputs'),
});

/**
 * TF Serving's predict body: "instances" (row format) or "inputs" (columnar format), never
 * both. Rows are texts or int32 ids. signature_name, when given, must be serving_default.
 */
export const predictRequestSchema = jsonObject(
  {
    instances: instances.optional(),
    inputs: inputs.optional(),
    signature_name: signatureName.optional(),
    // Anything but a string is refused: ignoring it skipped the very check the caller asked for.
    tokenizer: tokenizerHash.optional(),
  },
  'the body must be a JSON object with "instances" or "inputs"',
)
  .superRefine((body, ctx) => {
    if (body.instances !== undefined && body.inputs !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'send either "instances" (row format) or "inputs" (columnar format), not both' });
    }
    if (body.instances === undefined && body.inputs === undefined) ctx.addIssue({ code: 'custom', message: 'missing "instances" or "inputs"' });
  })
  .meta({ oneOf: [{ required: ['instances'] }, { required: ['inputs'] }] });
export type PredictRequest = z.output<typeof predictRequestSchema>;
