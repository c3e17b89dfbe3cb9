// JSON schemas for the OpenAPI document at /docs. The bodies are free-form
// JSON protocols (TF Serving, OIP), so they are described here rather than
// through DTO classes that would also try to validate them.
import type { SchemaObject } from '@nestjs/swagger';

export const ERROR_SCHEMA: SchemaObject = {
  type: 'object',
  properties: { error: { type: 'string' }, code: { type: 'string', example: 'INVALID_ARGUMENT' }, errorId: { type: 'string' } },
};

export const CLASSIFY_BODY: SchemaObject = {
  oneOf: [
    { type: 'object', required: ['texts'], properties: { texts: { type: 'array', items: { type: 'string' }, example: ['WIN a FREE prize now!!!'] } } },
    { type: 'object', required: ['examples'], description: "TF Serving's classify shape", properties: { examples: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' } } } } } },
  ],
};

export const CLASSIFY_RESPONSE: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      properties: {
        predictions: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, scores: { type: 'object', additionalProperties: { type: 'number' } } } } },
        model_version: { type: 'string' },
        tokenizer: { type: 'string' },
      },
    },
    { type: 'object', description: "TF Serving's classify answer", properties: { result: { type: 'array', items: { type: 'array', items: { type: 'array', items: {} } } } } },
  ],
};

export const PREDICT_BODY: SchemaObject = {
  type: 'object',
  description: 'Either "instances" (row format) or "inputs" (columnar format), never both. Rows are texts or int32 ids.',
  properties: {
    instances: { type: 'array', items: {}, example: ['free money now'] },
    inputs: { oneOf: [{ type: 'array', items: {} }, { type: 'object', properties: { text: { type: 'array', items: { type: 'string' } }, input_ids: { type: 'array', items: { type: 'array', items: { type: 'integer' } } } } }] },
    tokenizer: { type: 'string', description: 'The tokenizer hash the ids were made with' },
  },
};

export const OIP_INFER_BODY: SchemaObject = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string' },
    parameters: { type: 'object' },
    inputs: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: { name: { type: 'string', example: 'text' }, shape: { type: 'array', items: { type: 'integer' }, example: [1] }, datatype: { type: 'string', example: 'BYTES' }, data: { type: 'array', items: {}, example: ['free money now'] } },
      },
    },
    outputs: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
  },
};
