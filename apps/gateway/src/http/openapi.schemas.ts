// Answers of the product API for the OpenAPI document at /docs. Request bodies and the
// error body are zod schemas in @servable/contracts, which validate as well as document.
import type { SchemaObject } from '@nestjs/swagger';

export const CLASSIFY_RESPONSE: SchemaObject = {
  oneOf: [
    {
      type: 'object',
      properties: {
        predictions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              label: { type: 'string' },
              scores: { type: 'object', additionalProperties: { type: 'number' } },
              truncated: { type: 'boolean', description: "The text was longer than the version's max_length ids; the model read its beginning" },
            },
          },
        },
        model_version: { type: 'string' },
        tokenizer: { type: 'string' },
      },
    },
    { type: 'object', description: "TF Serving's classify answer", properties: { result: { type: 'array', items: { type: 'array', items: { type: 'array', items: {} } } } } },
  ],
};
