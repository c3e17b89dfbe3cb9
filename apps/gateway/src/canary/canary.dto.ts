import { canaryRunInputSchema } from '@servable/contracts/http';
import { createZodDto } from 'nestjs-zod';

/** POST /admin/api/models/:model/canary-runs, parsed by the validation pipe and described in the OpenAPI document. */
export class CanaryRunInputDto extends createZodDto(canaryRunInputSchema) {}
