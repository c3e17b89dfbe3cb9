import { ServableError, describeIssues } from '@servable/contracts';
import { createZodValidationPipe } from 'nestjs-zod';
import { z } from 'zod';

/** A failed parse as the taxonomy's INVALID_ARGUMENT; anything else a schema threw is a bug and stays a 500. */
function invalidBody(error: unknown): Error {
  return error instanceof z.core.$ZodError ? ServableError.invalid(describeIssues(error.issues)) : (error as Error);
}

/**
 * nestjs-zod's pipe: a body typed with a createZodDto class is parsed with its contracts
 * schema before the handler runs. It sees the parsed body only, never the Express or
 * Fastify request, and its failure goes through the error filter like any other 400.
 */
export const ValidationPipe = createZodValidationPipe({ createValidationException: invalidBody });

/** The same parse for a body the pipe cannot see whole (an OIP binary request's JSON header). */
export function parseBody<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidBody(parsed.error);
  return parsed.data;
}
