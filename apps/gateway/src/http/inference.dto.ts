import { classifyRequestSchema, inferRequestSchema, predictRequestSchema, tokenizeRequestSchema } from '@servable/contracts/http';
import { createZodDto } from 'nestjs-zod';

// Request bodies of the inference APIs: the contracts schemas as classes, which the
// validation pipe parses with and the OpenAPI document describes.

export class ClassifyRequestDto extends createZodDto(classifyRequestSchema) {}
export class TokenizeRequestDto extends createZodDto(tokenizeRequestSchema) {}
export class PredictRequestDto extends createZodDto(predictRequestSchema) {}
/** Documentation only: a binary request's body is bytes, so the OIP controller parses the JSON part itself. */
export class InferRequestDto extends createZodDto(inferRequestSchema) {}
