import { z } from 'zod';
import { PATH, shownValue } from '../validation';
import { jsonObject } from './fields';

/** OIP's free-form parameters (binary_data_size, binary_data_output, tokenizer, ...). */
const parameters = z.record(z.string(), z.unknown(), { error: `${PATH} must be an object` });

const tensorParameters = z.looseObject({
  binary_data_size: z.int({ error: `${PATH} must be a whole number` }).min(0, { error: `${PATH} must be a whole number` }).optional(),
});

/** One input tensor. Its data is JSON (nested or flat), or binary_data_size bytes of the body's binary tail. */
const inferInput = z.object(
  {
    name: z.string({ error: `${PATH} must be a string` }).meta({ example: 'text' }),
    shape: z.array(z.number(), { error: `${PATH} must be a list of dimensions` }).meta({ example: [1] }),
    datatype: z.string({ error: `${PATH} must be a string` }).meta({ example: 'BYTES' }),
    // Elements are checked against the datatype after the binary tail is decoded, as for gRPC.
    data: z.array(z.unknown(), { error: `${PATH} must be a list` }).optional().meta({ example: ['free money now'] }),
    parameters: tensorParameters.optional(),
  },
  { error: (iss) => (iss.code === 'invalid_type' ? `${PATH} must be a tensor {name, shape, datatype, data}` : undefined) },
);

const requestedOutput = z.object({ name: z.string({ error: `${PATH} must be a string` }), parameters: parameters.optional() });

/** POST /v2/models/{model}/infer: the JSON body, or the JSON header of a binary tensor request. */
export const inferRequestSchema = jsonObject({
  id: z.string({ error: `${PATH} must be a string` }).optional(),
  parameters: parameters.optional().describe('"tokenizer": the hash ids were made with; "binary_data_output": answer binary data'),
  inputs: z.array(inferInput, { error: '"inputs" must be a list of tensors {name, shape, datatype, data}' }),
  outputs: z.array(requestedOutput, { error: '"outputs" must be a list of {name, parameters}' }).optional(),
});
export type InferRequest = z.output<typeof inferRequestSchema>;

const positiveVersion = (iss: { input?: unknown }) => `${PATH} must be a positive whole number, got ${shownValue(iss.input)}`;
const versionParameter = z.union(
  [
    z.int({ error: positiveVersion }).min(1, { error: positiveVersion }),
    // Triton's clients send repository parameters as strings.
    z.string({ error: positiveVersion }).regex(/^[1-9]\d*$/, { error: positiveVersion }).transform(Number),
  ],
  { error: positiveVersion },
);

/** POST /v2/repository/index; the body may be left out. */
export const repositoryIndexRequestSchema = jsonObject({ ready: z.boolean({ error: `${PATH} must be true or false` }).optional().describe('Only READY versions') }).default({});

/** POST /v2/repository/models/{model}/load; the body may be left out. */
export const repositoryLoadRequestSchema = jsonObject({
  parameters: z.looseObject({ version: versionParameter.optional().describe('Servable extension: the version to load; the newest if left out') }).optional(),
}).default({});
