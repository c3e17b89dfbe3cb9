import {
  apiKeyInputSchema,
  labelsInputSchema,
  pinInputSchema,
  repositoryIndexRequestSchema,
  repositoryLoadRequestSchema,
  rolloutInputSchema,
} from '@servable/contracts/http';
import { createZodDto } from 'nestjs-zod';

// Request bodies of the admin API and the OIP repository extension: the contracts schemas
// as classes, which the validation pipe parses with and the OpenAPI document describes.

export class LabelsInputDto extends createZodDto(labelsInputSchema) {}
export class PinInputDto extends createZodDto(pinInputSchema) {}
export class RolloutInputDto extends createZodDto(rolloutInputSchema) {}
export class ApiKeyInputDto extends createZodDto(apiKeyInputSchema) {}
export class RepositoryIndexRequestDto extends createZodDto(repositoryIndexRequestSchema) {}
export class RepositoryLoadRequestDto extends createZodDto(repositoryLoadRequestSchema) {}
