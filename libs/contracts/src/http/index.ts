// The REST request bodies (inference APIs and admin API) as zod schemas: one definition
// that the gateway validates with, documents in its OpenAPI, and derives its types from.
export { classifyRequestSchema, tokenizeRequestSchema, type ClassifyRequest, type TokenizeRequest } from './product';
export { predictRequestSchema, type PredictRequest } from './tfserving';
export { DEFAULT_SIGNATURE, unknownSignature } from './fields';
export { inferRequestSchema, repositoryIndexRequestSchema, repositoryLoadRequestSchema, type InferRequest } from './oip';
export { apiKeyInputSchema, canaryGatesSchema, canaryRunInputSchema, cohortRuleSchema, labelsInputSchema, pinInputSchema, rolloutInputSchema } from './admin';
