import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { errorBodySchema } from '@servable/contracts';
import { cleanupOpenApiDoc } from 'nestjs-zod';
import { z } from 'zod';
import { GATEWAY_VERSION } from '../server-info';

/**
 * The OpenAPI document at /docs and /docs-json, from the controllers and the contracts'
 * zod schemas; path-to-regexp's escaped colon (":classify") is unescaped for readers.
 */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const document = cleanupOpenApiDoc(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Servable gateway')
        .setDescription('Product API, TF Serving REST, the Open Inference Protocol v2 and the admin API (/admin/api). Errors are {"error", "code"}. Send an API key as Authorization: Bearer <key>.')
        .addBearerAuth()
        .setVersion(GATEWAY_VERSION)
        .build(),
    ),
  );
  document.paths = Object.fromEntries(Object.entries(document.paths).map(([path, item]) => [path.replace(/\\:/g, ':'), item]));
  // Every operation can fail with the one error body of the taxonomy (docs/api.md).
  const errorSchema = z.toJSONSchema(errorBodySchema, { target: 'openapi-3.0' });
  document.components = { ...document.components, schemas: { ...document.components?.schemas, Error: errorSchema as never } };
  const error = { description: '{"error", "code"} (and "errorId" on a 500), with the HTTP status of the code', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  for (const item of Object.values(document.paths)) {
    for (const op of [item.get, item.put, item.post, item.delete, item.patch]) if (op) op.responses = { ...op.responses, default: error };
  }
  return document;
}
