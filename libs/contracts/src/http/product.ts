import { z } from 'zod';
import { PATH } from '../validation';
import { looseJsonObject, signatureName, strictJsonObject, texts, unknownFields } from './fields';

const EXAMPLE_TEXTS = ['WIN a FREE prize now!!!'];

/**
 * TF Serving's classify shape: one example per text, each an object of features; the gateway
 * picks the text (classifyExampleTexts). "context" holds features every example shares.
 */
const features = z.record(z.string(), z.unknown(), { error: `${PATH} must be an object of features, e.g. {"text": "..."}` });
const examples = z.array(features, { error: '"examples" must be a list' });

/** What a {"texts"} body may hold; a TF Serving {"examples"} body is as lenient as TF Serving is. */
const PRODUCT_CLASSIFY_FIELDS = ['texts', 'truncate', 'signature_name'];

/**
 * POST /v1/models/{model}:classify. {"texts"} gets the product answer; {"examples"}
 * (TF Serving's classify) gets TF Serving's. One of the two, never both.
 */
export const classifyRequestSchema = looseJsonObject({
  texts: texts.optional().meta({ example: EXAMPLE_TEXTS }),
  examples: examples.optional().describe("TF Serving's classify shape: [{\"text\": ...}]"),
  context: features.optional().describe("TF Serving's features shared by every example"),
  signature_name: signatureName.optional(),
  truncate: z
    .boolean({ error: (iss) => `truncate must be true or false, got ${JSON.stringify(iss.input)}` })
    .optional()
    .meta({
      default: true,
      description: "A text over the version's max_length ids: cut to it (true; its prediction says truncated) or the request is refused with 400 (false, TEI's default)",
    }),
})
  .superRefine((body, ctx) => {
    if (body.texts !== undefined && body.examples !== undefined) ctx.addIssue({ code: 'custom', message: 'send either "texts" or "examples", not both' });
    if (body.texts !== undefined && body.examples === undefined) {
      const unknown = Object.keys(body).filter((k) => !PRODUCT_CLASSIFY_FIELDS.includes(k) && k !== 'context');
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: unknownFields(unknown, PRODUCT_CLASSIFY_FIELDS) });
    }
    if (body.texts === undefined && body.examples === undefined) ctx.addIssue({ code: 'custom', message: 'missing "texts" (or TF Serving\'s "examples")' });
    if (body.context !== undefined && body.examples === undefined) ctx.addIssue({ code: 'custom', message: '"context" goes with "examples"' });
  })
  .meta({ oneOf: [{ required: ['texts'] }, { required: ['examples'] }] });
export type ClassifyRequest = z.output<typeof classifyRequestSchema>;

/** POST /v1/models/{model}:tokenize: what the version's tokenizer makes of texts. */
export const tokenizeRequestSchema = strictJsonObject({
  texts: texts.meta({ example: EXAMPLE_TEXTS }),
  add_special_tokens: z
    .boolean({ error: (iss) => `add_special_tokens must be true or false, got ${JSON.stringify(iss.input)}` })
    .optional()
    .meta({ default: true, description: "Apply the tokenizer's post-processor ([CLS] … [SEP] for BERT), as classify does" }),
});
export type TokenizeRequest = z.output<typeof tokenizeRequestSchema>;
