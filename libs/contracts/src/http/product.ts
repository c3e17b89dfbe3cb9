import { z } from 'zod';
import { PATH } from '../validation';
import { jsonObject, signatureName, text, texts } from './fields';

const EXAMPLE_TEXTS = ['WIN a FREE prize now!!!'];

/** TF Serving's classify shape: one example per text. */
const examples = z.array(z.object({ text }, { error: `${PATH} must be an object with a "text" string` }), { error: '"examples" must be a list' });

/**
 * POST /v1/models/{model}:classify. {"texts"} gets the product answer; {"examples"}
 * (TF Serving's classify) gets TF Serving's. One of the two, never both.
 */
export const classifyRequestSchema = jsonObject({
  texts: texts.optional().meta({ example: EXAMPLE_TEXTS }),
  examples: examples.optional().describe("TF Serving's classify shape: [{\"text\": ...}]"),
  signature_name: signatureName.optional(),
})
  .superRefine((body, ctx) => {
    if (body.texts !== undefined && body.examples !== undefined) ctx.addIssue({ code: 'custom', message: 'send either "texts" or "examples", not both' });
    if (body.texts === undefined && body.examples === undefined) ctx.addIssue({ code: 'custom', message: 'missing "texts" (or TF Serving\'s "examples")' });
  })
  .meta({ oneOf: [{ required: ['texts'] }, { required: ['examples'] }] });
export type ClassifyRequest = z.output<typeof classifyRequestSchema>;

/** POST /v1/models/{model}:tokenize: what the version's tokenizer makes of texts. */
export const tokenizeRequestSchema = jsonObject({
  texts: texts.meta({ example: EXAMPLE_TEXTS }),
  add_special_tokens: z
    .boolean({ error: (iss) => `add_special_tokens must be true or false, got ${JSON.stringify(iss.input)}` })
    .optional()
    .meta({ default: true, description: "Apply the tokenizer's post-processor ([CLS] … [SEP] for BERT), as classify does" }),
});
export type TokenizeRequest = z.output<typeof tokenizeRequestSchema>;
