// The REST bodies of the inference APIs as zod schemas: one definition that the gateway
// validates with, documents in its OpenAPI, and derives its TypeScript types from.
export { classifyRequestSchema, tokenizeRequestSchema, type ClassifyRequest, type TokenizeRequest } from './product';
export { predictRequestSchema, type PredictRequest } from './tfserving';
export { inferRequestSchema, repositoryIndexRequestSchema, repositoryLoadRequestSchema, type InferRequest } from './oip';
