import type {} from '@fastify/multipart'; // its FastifyRequest.parts() and isMultipart()
import {
  BadRequestException,
  HttpException,
  Inject,
  PayloadTooLargeException,
  createParamDecorator,
  mixin,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway.config';

/** A file of a multipart upload, read into memory. */
export interface UploadedFile {
  fieldname: string;
  originalname: string;
  buffer: Buffer;
  size: number;
}

export type UploadedFileFields = Record<string, UploadedFile[]>;

export interface MultipartLimits {
  /** Files in one request. */
  files: number;
}

/** Parts (fields and files) of one request, as multer's Nest default and @fastify/multipart's bound it. */
const MAX_PARTS = 1000;

const UPLOADED = Symbol('servable.uploadedFiles');
type WithFiles = FastifyRequest & { [UPLOADED]?: UploadedFileFields };

/**
 * Reads the files of a multipart request (@fastify/multipart) into memory, by field, before
 * the handler runs: each field takes at most `maxCount` files. A request that is not
 * multipart passes with no files, and the handler says what is missing. The errors are
 * the ones the upload answered with under multer: 413 once the files together pass
 * MAX_UPLOAD_BYTES (the bound on what one upload holds in the gateway's memory; a bound
 * per file let 64 files of the limit each through), 400 for too many files or parts, an
 * unexpected field or a malformed body.
 */
export function MultipartFilesInterceptor(fields: { name: string; maxCount: number }[], limits: MultipartLimits): Type<NestInterceptor> {
  const maxCount = new Map(fields.map((f) => [f.name, f.maxCount]));

  class Interceptor implements NestInterceptor {
    constructor(@Inject(GATEWAY_CONFIG) private readonly config: Pick<GatewayConfig, 'MAX_UPLOAD_BYTES'>) {}

    async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
      const req = context.switchToHttp().getRequest<WithFiles>();
      if (req.isMultipart()) req[UPLOADED] = await readFiles(req, maxCount, limits.files, this.config.MAX_UPLOAD_BYTES);
      return next.handle();
    }
  }
  return mixin(Interceptor);
}

async function readFiles(req: FastifyRequest, maxCount: Map<string, number>, maxFiles: number, maxBytes: number): Promise<UploadedFileFields> {
  const files: UploadedFileFields = {};
  let total = 0;
  try {
    // One byte over the bound per file, so that a file of its own past it is counted past it below.
    // preservePath: the name as sent, so that "../x" is refused as no plain file name instead of stored as "x".
    for await (const part of req.parts({ preservePath: true, limits: { fileSize: maxBytes + 1, files: maxFiles, parts: MAX_PARTS } })) {
      // Text fields are not used; a truncated one is still refused, as multer did.
      if (part.type === 'field') {
        if (part.fieldnameTruncated || part.valueTruncated) throw new BadRequestException(`${part.fieldnameTruncated ? 'Field name' : 'Field value'} too long - ${part.fieldname}`);
        continue;
      }
      const list = (files[part.fieldname] ??= []);
      if (list.length >= (maxCount.get(part.fieldname) ?? 0)) throw new BadRequestException(`Unexpected file field - ${part.fieldname}`);
      const chunks: Buffer[] = [];
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) throw new PayloadTooLargeException(`the upload is over MAX_UPLOAD_BYTES (${maxBytes} bytes in all)`);
        chunks.push(chunk);
      }
      const buffer = Buffer.concat(chunks);
      list.push({ fieldname: part.fieldname, originalname: part.filename, buffer, size: buffer.length });
    }
  } catch (err) {
    throw uploadError(err);
  }
  return files;
}

function uploadError(err: unknown): unknown {
  if (err instanceof HttpException) return err;
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  switch (e?.code) {
    case 'FST_FILES_LIMIT':
      return new BadRequestException('Too many files');
    case 'FST_PARTS_LIMIT':
      return new BadRequestException('Too many parts');
  }
  // @fastify/multipart's other request errors (a field named __proto__, a bad JSON field) and
  // the multipart parser's own (busboy: a malformed body) are the client's.
  const message = String(e?.message ?? err);
  const clients = (typeof e?.statusCode === 'number' && e.statusCode < 500) || message.startsWith('Multipart:');
  return new BadRequestException(clients ? message : `Multipart: ${message}`);
}

/** The files MultipartFilesInterceptor read, by field (undefined for a request that is not multipart). */
export const UploadedFileFields = createParamDecorator((_data: unknown, context: ExecutionContext): UploadedFileFields | undefined => {
  return context.switchToHttp().getRequest<WithFiles>()[UPLOADED];
});
